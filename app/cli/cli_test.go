package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"plotline/app/openai"
	"plotline/app/settings"
	"plotline/interpreter/sandbox"
)

func TestMain(m *testing.M) {
	sandbox.MaybeRunInit()
	os.Exit(m.Run())
}

// run runs plotline with args and returns its exit status and output.
func run(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(args, Streams{In: strings.NewReader(stdin), Out: &out, Err: &errb})
	return code, out.String(), errb.String()
}

func write(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExecJSONWithFilesAndOut(t *testing.T) {
	dir := t.TempDir()
	csv := write(t, dir, "sales.csv", "month,total\n1,10\n2,30\n")
	cell1 := write(t, dir, "c1.py", `import pandas as pd, matplotlib.pyplot as plt
df = pd.read_csv("sales.csv")
df.plot(x="month", y="total")
df.assign(double=df.total * 2).to_csv("double.csv", index=False)
print("rows", len(df))
df.total.sum()
`)
	out := filepath.Join(dir, "out")
	code, stdout, stderr := run(t, "raise KeyError('k')\n", "exec", "--json", "--file", csv, "--out", out, cell1, "-")
	if code != 0 {
		t.Fatalf("exit %d, stderr %s", code, stderr)
	}
	sc := bufio.NewScanner(strings.NewReader(stdout))
	var cells []cellJSON
	for sc.Scan() {
		var c cellJSON
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatalf("stdout line is not JSON: %q", sc.Text())
		}
		cells = append(cells, c)
	}
	if len(cells) != 2 {
		t.Fatalf("want 2 JSON lines, got %d:\n%s", len(cells), stdout)
	}
	c := cells[0]
	if c.Stdout != "rows 2\n" || c.Result == nil || *c.Result != "40" || c.Error != nil {
		t.Fatalf("cell 1 = %+v", c)
	}
	wantImg := filepath.Join(out, "cell1-image1.png")
	if len(c.Images) != 1 || c.Images[0] != wantImg {
		t.Fatalf("images = %v", c.Images)
	}
	if png, err := os.ReadFile(wantImg); err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) {
		t.Fatalf("image not saved as PNG: %v", err)
	}
	wantFile := filepath.Join(out, "double.csv")
	if len(c.Files) != 1 || c.Files[0] != wantFile {
		t.Fatalf("files = %v", c.Files)
	}
	if b, _ := os.ReadFile(wantFile); string(b) != "month,total,double\n1,10,20\n2,30,60\n" {
		t.Fatalf("double.csv = %q", b)
	}
	if e := cells[1].Error; e == nil || e.Name != "KeyError" || !strings.Contains(e.Traceback, "raise KeyError") {
		t.Fatalf("cell 2 error = %+v", e)
	}
}

func TestExecPlainOutput(t *testing.T) {
	dir := t.TempDir()
	c1 := write(t, dir, "a.py", "import sys\nprint('to out')\nprint('to err', file=sys.stderr)\nv = 6 * 7\nv\n")
	c2 := write(t, dir, "b.py", "def f():\n    raise ValueError('bad value')\nf()\n")
	code, stdout, stderr := run(t, "", "exec", c1, c2)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if stdout != "to out\n42\n" {
		t.Fatalf("stdout = %q", stdout)
	}
	if !strings.HasPrefix(stderr, "to err\nTraceback (most recent call last):") ||
		!strings.Contains(stderr, "ValueError: bad value") || !strings.Contains(stderr, "<cell 2>") {
		t.Fatalf("stderr = %q", stderr)
	}
}

func TestExecFileNameCollisionIsDeduplicated(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "x"), 0o755)
	a := write(t, dir, "data.csv", "a\n1\n")
	b := write(t, dir, "x/data.csv", "a\n2\n")
	code, stdout, stderr := run(t, "import os\nsorted(os.listdir('.'))\n", "exec", "--file", a, "--file", b, "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if stdout != "['data (1).csv', 'data.csv']\n" {
		t.Fatalf("stdout = %q", stdout)
	}
	if !strings.Contains(stderr, `"data (1).csv"`) {
		t.Fatalf("no note about the renamed file: %q", stderr)
	}
}

func TestExecCopyOutDoesNotFollowLinks(t *testing.T) {
	dir := t.TempDir()
	secret := write(t, dir, "secret.txt", "host secret")
	out := filepath.Join(dir, "out")
	// The link's target is a host path the sandbox cannot see; the host
	// must not follow it either when it copies outputs.
	cell := "import os\nos.symlink(" + strconvQuote(secret) + ", 'link.txt')\nos.symlink('/etc/passwd', 'passwd')\nopen('real.txt', 'w').write('ok')\n"
	code, stdout, stderr := run(t, cell, "exec", "--json", "--out", out, "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var c cellJSON
	if err := json.Unmarshal([]byte(stdout), &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Files) != 1 || c.Files[0] != filepath.Join(out, "real.txt") {
		t.Fatalf("files = %v", c.Files)
	}
	entries, _ := os.ReadDir(out)
	for _, e := range entries {
		if e.Name() != "real.txt" {
			t.Fatalf("copied something besides real.txt: %s", e.Name())
		}
	}
}

func strconvQuote(s string) string { b, _ := json.Marshal(s); return string(b) }

func TestExecBadInput(t *testing.T) {
	dir := t.TempDir()
	ok := write(t, dir, "ok.py", "print(1)\n")
	empty := write(t, dir, "empty.py", "  \n\n")
	latin := write(t, dir, "latin1.py", "print('caf\xe9')\n")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"missing file", []string{"--file", filepath.Join(dir, "nope.csv"), ok}, "no such file"},
		{"file is a folder", []string{"--file", dir, ok}, "is a folder"},
		{"cell not UTF-8", []string{latin}, "is not UTF-8"},
		{"empty cell", []string{empty}, "is empty"},
		{"missing cell", []string{filepath.Join(dir, "nope.py")}, "no such file"},
		{"cell is a folder", []string{dir}, "is a folder"},
		{"stdin twice", []string{"-", "-"}, "only once"},
		{"no cells", []string{}, "Usage"},
		{"bad memory", []string{"--memory", "lots", ok}, "invalid size"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := run(t, "print(2)\n", append([]string{"exec"}, tc.args...)...)
			if code != 2 {
				t.Fatalf("exit %d, want 2 (stderr %q)", code, stderr)
			}
			if stdout != "" {
				t.Fatalf("stdout should be empty, got %q", stdout)
			}
			if !strings.Contains(stderr, tc.want) {
				t.Fatalf("stderr %q does not say %q", stderr, tc.want)
			}
		})
	}
}

// A Python that passes discovery but cannot run the kernel makes exec
// fail with status 2 and the reason, before any cell runs.
func TestExecPythonThatCannotStart(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "python3")
	probe := `{"executable": "` + fake + `", "version": "3.99", "prefixes": ["` + dir + `"], "paths": [], "modules": {"numpy": "1", "pandas": "1", "matplotlib": "1"}}`
	script := "#!/bin/sh\nfor a in \"$@\"; do [ \"$a\" = quick ] && { echo '" + probe + "'; exit 0; }; done\necho 'fake python: no kernel here' >&2\nexit 3\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PLOTLINE_PYTHON", fake)
	ok := write(t, dir, "ok.py", "print(1)\n")
	code, stdout, stderr := run(t, "", "exec", ok)
	if code != 2 || stdout != "" {
		t.Fatalf("exit %d stdout %q", code, stdout)
	}
	if !strings.Contains(stderr, "could not start") || !strings.Contains(stderr, "no kernel here") {
		t.Fatalf("stderr = %q", stderr)
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{
		"1024": 1024, "512M": 512 << 20, "512MiB": 512 << 20, "2G": 2 << 30, "2GB": 2e9, "1.5G": 3 << 29, "64k": 64 << 10,
	} {
		if got, err := ParseBytes(in); err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-1", "0", "12X", "G"} {
		if _, err := ParseBytes(bad); err == nil {
			t.Errorf("ParseBytes(%q) should fail", bad)
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	code, _, stderr := run(t, "", "frobnicate")
	if code != 2 || !strings.Contains(stderr, `unknown command "frobnicate"`) {
		t.Fatalf("exit %d stderr %q", code, stderr)
	}
}

func TestModelConfigOfSettings(t *testing.T) {
	if settings.ProviderOpenAI != openai.ProviderOpenAI || settings.ProviderAzure != openai.ProviderAzure ||
		settings.ProviderCompatible != openai.ProviderCompatible {
		t.Fatal("the settings name providers the model adapter does not know")
	}
	c := modelConfig(settings.Settings{Provider: settings.ProviderOpenAI, Model: "gpt-4o"}, "sk-x")
	if c.BaseURL != "https://api.openai.com/v1" || c.APIKey != "sk-x" || c.Model != "gpt-4o" {
		t.Fatalf("openai config %+v", c)
	}
	if strings.Contains(c.String(), "sk-x") {
		t.Fatal("the key shows in the config's text")
	}
}
