package interpreter

import (
	"os"
	"testing"
)

func TestZZProbe(t *testing.T) {
	s := newTestSession(t, func(c *Config) { c.Limits.Sandbox.Processes = 16 })
	code, _ := os.ReadFile("/tmp/probe/cell.py")
	r := mustExec(t, s, string(code))
	t.Logf("stdout:\n%s\nstderr:\n%s\nerr: %+v\nfiles %v restarted %v dur %v", r.Stdout, r.Stderr, r.Error, r.Files, r.Restarted, r.Duration)
}
