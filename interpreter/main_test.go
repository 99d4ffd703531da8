//go:build linux

package interpreter

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"plotline/interpreter/sandbox"
)

var testPython *Python

func TestMain(m *testing.M) {
	sandbox.MaybeRunInit()
	py, _, err := Discover(context.Background(), false)
	if err != nil {
		fmt.Fprintln(os.Stderr, "interpreter tests need Python with numpy, pandas and matplotlib (make test installs them):", err)
		os.Exit(1)
	}
	testPython = py
	os.Exit(m.Run())
}

// newTestSession starts a session on a cold kernel with test-sized limits.
func newTestSession(t testing.TB, tune func(*Config)) *Session {
	t.Helper()
	cfg := Config{Python: testPython, Root: t.TempDir(), PoolSize: -1}
	if tune != nil {
		tune(&cfg)
	}
	m, err := NewManager(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	s, err := m.NewSession(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// mustExec runs code and fails the test if it could not run.
func mustExec(t testing.TB, s *Session, code string) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	r, err := s.Exec(ctx, code)
	if err != nil {
		t.Fatalf("exec %q: %v", code, err)
	}
	return r
}
