//go:build linux

package interpreter

import (
	"context"
	"fmt"
	"os"
	"strconv"
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

// newTestManager makes a manager for tests: cold kernels unless tune asks
// for a pool.
func newTestManager(t testing.TB, tune func(*Config)) *Manager {
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
	return m
}

// newSessionOf starts a session of m, closed when the test ends.
func newSessionOf(t testing.TB, m *Manager) *Session {
	t.Helper()
	s, err := m.NewSession(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newTestSession starts a session on a cold kernel with test-sized limits.
func newTestSession(t testing.TB, tune func(*Config)) *Session {
	t.Helper()
	return newSessionOf(t, newTestManager(t, tune))
}

// hostPids lists the host's pids for which match holds.
func hostPids(match func(pid string) bool) []int {
	ents, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err == nil && match(e.Name()) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// eventually polls cond until it holds or timeout passes.
func eventually(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
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
