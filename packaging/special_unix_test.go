//go:build unix

package main

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A runtime holding anything but files and links (a FIFO here) is
// refused, rather than packaged in some form.
func TestRuntimeTreeRefusesSpecialFiles(t *testing.T) {
	rt := standInRuntime(t, t.TempDir())
	if _, err := runtimeTree(rt); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(rt, "usr/bin/fifo"), 0o644); err != nil {
		t.Skip(err)
	}
	if _, err := runtimeTree(rt); err == nil || !strings.Contains(err.Error(), "neither a file nor a link") {
		t.Fatalf("a FIFO in the runtime: %v", err)
	}
	if _, err := runtimeTree(t.TempDir()); err == nil {
		t.Fatal("a folder without a manifest was taken for a runtime")
	}
}
