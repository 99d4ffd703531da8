//go:build linux

package interpreter

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"plotline/interpreter/sandbox"
)

// repoRuntime is the bundled runtime make runtime builds at the top of the
// repository.
func repoRuntime(t *testing.T) string {
	t.Helper()
	rt, err := filepath.Abs("../runtime")
	if err != nil {
		t.Fatal(err)
	}
	if !isRuntimeDir(rt) {
		t.Skip("no bundled runtime: make runtime builds it (make test does)")
	}
	return rt
}

// PLOTLINE_PYTHON may name a runtime folder; the deep probe imports the
// required modules in the sandbox, with the runtime as the root's /usr.
func TestDiscoverBundledRuntime(t *testing.T) {
	rt := repoRuntime(t)
	discoverEnv(t, rt)
	py, cands, err := Discover(context.Background(), true)
	if err != nil {
		t.Fatal(err)
	}
	if !py.Bundled() || py.System != rt || py.Executable != "/usr/bin/python3" || !strings.HasPrefix(py.Version, "3.") {
		t.Fatalf("chose %+v", py)
	}
	if cands[0].Source != "PLOTLINE_PYTHON" || cands[0].Python != py {
		t.Fatalf("first candidate %+v", cands[0])
	}
	checkChosen(t, py)
	for _, m := range RequiredModules {
		if py.Modules[m] == "?" {
			t.Errorf("no version of %s: %v", m, py.Modules)
		}
	}
	// The manifest lists every bundled package, for doctor.
	list := strings.Join(py.ModuleList(), ", ")
	for _, m := range []string{"sklearn ", "statsmodels ", "docx ", "pypdf ", "tabulate "} {
		if !strings.Contains(list, m) {
			t.Errorf("the module list lacks %s: %s", m, list)
		}
	}
}

// A runtime folder that is broken, or that the weaker sandbox would have
// to run, is rejected with the reason, and discovery goes on.
func TestDiscoverRejectsBadRuntime(t *testing.T) {
	rt := repoRuntime(t)
	dir := t.TempDir()
	bad := func(name, manifest string) string {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Join(p, "usr/bin"), 0o755)
		os.WriteFile(filepath.Join(p, "manifest.json"), []byte(manifest), 0o644)
		return p
	}
	for _, c := range []struct {
		name, path, reason string
		weak               bool
	}{
		{"not json", bad("garbled", "{"), "not a runtime Plotline understands", false},
		{"no python", bad("nopython", `{"info": {"python": "3.11.2", "executable": "/usr/bin/python3"}}`), "incomplete: /usr/bin/python3 is missing", false},
		{"outside usr", bad("outside", `{"info": {"python": "3.11.2", "executable": "/tmp/python3"}}`), "names no Python in /usr", false},
		{"weak", rt, "weaker sandbox", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			discoverEnv(t, c.path)
			if c.weak {
				t.Setenv(sandbox.WeakEnv, "weak")
			}
			py, cands, err := Discover(context.Background(), false)
			if len(cands) == 0 || cands[0].Path != c.path || !strings.Contains(cands[0].Rejected, c.reason) {
				t.Fatalf("want %s rejected for %q: %+v", c.path, c.reason, cands)
			}
			if err != nil || py.Bundled() {
				t.Fatalf("Discover went on to %+v, %v", py, err)
			}
		})
	}
}

// The kernel runs in the bundled runtime: every bundled package imports,
// the office and PDF readers read what the cell wrote, charts come back,
// the font list is made once in a sandbox of its own, and nothing of the
// host's Python is in sight.
func TestKernelInBundledRuntime(t *testing.T) {
	rt := repoRuntime(t)
	discoverEnv(t, rt)
	py, _, err := Discover(context.Background(), false)
	if err != nil || !py.Bundled() {
		t.Fatalf("Discover: %+v %v", py, err)
	}
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	fonts := fontCache(context.Background(), py)
	if m, _ := filepath.Glob(filepath.Join(fonts, "fontlist-*.json")); fonts == "" || len(m) != 1 {
		t.Fatalf("font list for the bundled runtime: %q %v", fonts, m)
	}
	// A package of the host's Python that the runtime lacks.
	hostOnly := "/usr/lib/python3/dist-packages/no-such-package"
	if ents, err := os.ReadDir("/usr/lib/python3/dist-packages"); err == nil {
		for _, e := range ents {
			if _, err := os.Lstat(filepath.Join(rt, "usr/lib/python3/dist-packages", e.Name())); os.IsNotExist(err) {
				hostOnly = filepath.Join("/usr/lib/python3/dist-packages", e.Name())
				break
			}
		}
	}
	s := newTestSession(t, func(c *Config) { c.Python = py })
	r := mustExec(t, s, `
import importlib, os, sys, zipfile
mods = ["numpy", "pandas", "matplotlib", "scipy", "seaborn", "statsmodels.api", "sklearn.linear_model",
        "openpyxl", "xlrd", "tabulate", "docx", "pypdf", "bs4", "lxml.etree", "PIL.Image", "sympy", "networkx"]
for m in mods:
    importlib.import_module(m)
import pandas as pd, matplotlib.pyplot as plt, docx, pypdf
from lxml import etree
df = pd.DataFrame({"region": ["North", "South"], "revenue": [30, 5]})
print(df.to_markdown(index=False))
d = docx.Document(); d.add_paragraph("Quarterly revenue rose"); d.save("report.docx")
print("docx:", docx.Document("report.docx").paragraphs[0].text)
fig = plt.figure(); fig.text(0.1, 0.5, "Revenue by region"); fig.savefig("report.pdf"); plt.close(fig)
print("pdf:", pypdf.PdfReader("report.pdf").pages[0].extract_text().strip())
with zipfile.ZipFile("deck.pptx", "w") as z:
    z.writestr("ppt/slides/slide1.xml", '<p:sld xmlns:p="p" xmlns:a="a"><a:t>Q3 plan</a:t></p:sld>')
with zipfile.ZipFile("deck.pptx") as z:
    print("pptx:", "".join(etree.fromstring(z.read("ppt/slides/slide1.xml")).itertext()))
print("host python visible:", os.path.exists("`+hostOnly+`"))
print("exec stage:", os.path.exists("/usr/libexec/plotline/sandbox-exec"))
plt.plot([1, 2, 3])
len(mods), sys.executable
`)
	if r.Error != nil {
		t.Fatalf("%+v\n%s", r.Error, r.Stderr)
	}
	for _, want := range []string{"| North    |        30 |", "docx: Quarterly revenue rose", "pdf: Revenue by region", "pptx: Q3 plan", "host python visible: False"} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, r.Stdout)
		}
	}
	if value(r) != "(17, '/usr/bin/python3')" || len(r.Images) != 1 {
		t.Fatalf("value %s, %d images", value(r), len(r.Images))
	}
}
