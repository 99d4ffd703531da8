package wiring_test

import (
	"bytes"
	"context"
	"errors"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"plotline/app"
	"plotline/app/cli/wiring"
	"plotline/interpreter/starlark"
)

// The Starlark adapter: what the engine relies on of app.Interpreter and
// app.Session, on the sandboxed Starlark worker.
func TestStarlarkKernelsAdapter(t *testing.T) {
	root := t.TempDir()
	k := wiring.StarlarkKernels(root, starlark.Options{})
	ctx := context.Background()
	for _, bad := range []string{"", "..", "a/b", `a\b`} {
		if _, err := k.Open(ctx, bad); err == nil {
			t.Errorf("Open(%q) worked", bad)
		}
	}
	if k.CheckName("../x.csv") == nil || k.CheckName("sales.csv") != nil {
		t.Error("CheckName does not check")
	}
	s, err := k.Open(ctx, "thread_1")
	if err != nil {
		t.Fatal(err)
	}
	name, err := s.AddFile("sales.csv", strings.NewReader("region,revenue\nNorth,10\nSouth,7\nNorth,5\n"))
	if err != nil || name != "sales.csv" {
		t.Fatalf("AddFile: %q, %v", name, err)
	}
	var streamed bytes.Buffer
	r, err := s.Exec(ctx, `t = table.read("sales.csv")
g = t.group_by("region", revenue="sum")
print(g)
chart.bar(g, x="region", y="revenue", title="Revenue")
len(g)
`, func(p []byte) { streamed.Write(p) })
	if err != nil || r.Error != nil {
		t.Fatalf("Exec: %v, %+v", err, r)
	}
	if r.Value == nil || *r.Value != "2" || !strings.Contains(r.Stdout, "15") || !strings.Contains(streamed.String(), "North") || len(r.Images) != 1 {
		t.Errorf("result %+v (streamed %q)", r, streamed.String())
	} else if _, err := png.Decode(bytes.NewReader(r.Images[0])); err != nil {
		t.Errorf("the chart is not a PNG: %v", err)
	}
	// Globals carry over; a runtime error is the cell's, with its line.
	r, err = s.Exec(ctx, "x = len(t)\ny = t.column(\"nope\")", nil)
	if err != nil || r.Error == nil || !strings.Contains(r.Error.Traceback, "2") {
		t.Errorf("error cell: %v, %+v", err, r.Error)
	}
	if files := s.Files(); len(files) != 1 || files[0].Name != "sales.csv" {
		t.Errorf("Files = %+v", files)
	}
	if _, err := s.Unpack("sales.csv"); !errors.Is(err, app.ErrNotArchive) {
		t.Errorf("Unpack: %v", err)
	}
	f, err := s.OpenFile("sales.csv")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	s.Close()
	if _, err := s.Exec(ctx, "1", nil); !errors.Is(err, app.ErrSessionEnded) {
		t.Errorf("Exec after Close: %v", err)
	}
	// A new session of the thread finds its files; removing the folder
	// removes them.
	s2, err := k.Open(ctx, "thread_1")
	if err != nil {
		t.Fatal(err)
	}
	if files := s2.Files(); len(files) != 1 {
		t.Errorf("a new session sees %+v", files)
	}
	s2.Close()
	if err := k.RemoveFolder("thread_1"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "thread_1")); !os.IsNotExist(err) {
		t.Errorf("the folder is still there: %v", err)
	}
}
