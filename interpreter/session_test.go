//go:build linux

package interpreter

import (
	"strings"
	"testing"
)

func TestStatePersistsBetweenCells(t *testing.T) {
	s := newTestSession(t, nil)
	r := mustExec(t, s, "import os\nx = 41\nprint('cwd', os.getcwd())")
	if r.Error != nil {
		t.Fatalf("cell 1 failed: %+v", r.Error)
	}
	if r.Stdout != "cwd /mnt/data\n" {
		t.Fatalf("stdout = %q", r.Stdout)
	}
	r = mustExec(t, s, "x + 1")
	if r.Value == nil || *r.Value != "42" {
		t.Fatalf("value = %v, error %+v", r.Value, r.Error)
	}
}

func TestErrorKeepsSessionUsable(t *testing.T) {
	s := newTestSession(t, nil)
	mustExec(t, s, "y = 'kept'")
	r := mustExec(t, s, "def f():\n    return 1 / 0\nf()")
	if r.Error == nil || r.Error.Name != "ZeroDivisionError" {
		t.Fatalf("error = %+v", r.Error)
	}
	if !strings.Contains(r.Error.Traceback, "<cell 2>") || strings.Contains(r.Error.Traceback, "<string>") {
		t.Fatalf("traceback not trimmed to the cell:\n%s", r.Error.Traceback)
	}
	if !strings.Contains(r.Error.Traceback, "return 1 / 0") {
		t.Fatalf("traceback lacks the source line:\n%s", r.Error.Traceback)
	}
	r = mustExec(t, s, "y")
	if r.Value == nil || *r.Value != "'kept'" {
		t.Fatalf("state lost after error: %v %+v", r.Value, r.Error)
	}
}
