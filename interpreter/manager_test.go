//go:build linux

package interpreter

import (
	"testing"
	"time"
)

// New limits apply to the sessions started after them, pooled or not.
func TestSetLimitsAppliesToNewSessions(t *testing.T) {
	m := newTestManager(t, func(c *Config) { c.PoolSize = 1 })
	old := newSessionOf(t, m)
	m.SetLimits(Limits{CellTimeout: 500 * time.Millisecond})
	if got := m.Config().Limits.CellTimeout; got != 500*time.Millisecond {
		t.Fatalf("config timeout = %v", got)
	}
	s := newSessionOf(t, m)
	r := mustExec(t, s, "import time\ntime.sleep(30)")
	if r.Error == nil || r.Error.Name != "TimeoutError" {
		t.Fatalf("new session: error = %+v", r.Error)
	}
	// The session started before keeps its limits.
	if r := mustExec(t, old, "import time\ntime.sleep(1)\n'done'"); r.Error != nil || *r.Value != "'done'" {
		t.Fatalf("old session: %+v", r.Error)
	}
}
