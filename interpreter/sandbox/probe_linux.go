package sandbox

import (
	"fmt"
	"os"

	llsys "github.com/landlock-lsm/go-landlock/landlock/syscall"
)

// Status is what this machine offers the sandbox.
type Status struct {
	// Err is nil when a sandbox can be started here.
	Err error
	// Landlock is the kernel's Landlock ABI version, 0 when absent.
	Landlock int
}

// Check starts a sandbox running /bin/true and reports what it found.
func Check() Status {
	var st Status
	if v, err := llsys.LandlockGetABIVersion(); err == nil {
		st.Landlock = v
	}
	dir, err := os.MkdirTemp("", "plotline-check-")
	if err != nil {
		st.Err = err
		return st
	}
	defer os.RemoveAll(dir)
	p, err := Start(Spec{Program: "/bin/true", WorkDir: dir, Env: []string{"PATH=/usr/bin:/bin"}})
	if err != nil {
		st.Err = err
		return st
	}
	if e := p.Wait(); e.Code != 0 || e.Signal != 0 || e.Killed {
		st.Err = fmt.Errorf("a trivial program failed in the sandbox: %s", e)
	}
	return st
}
