package sandbox

import (
	"fmt"
	"os"
	"time"
)

// On this platform the sandbox will be built on Seatbelt (sandbox_init) with a deny-by-default profile, behind the same
// Start and Process API. Until then no code runs.

// Process is a running sandbox.
type Process struct{}

// Start returns ErrUnsupported: code never runs unconfined.
func Start(spec Spec) (*Process, error) { return nil, ErrUnsupported }

// MaybeRunInit does nothing on this platform.
func MaybeRunInit() {}

// Pid is the sandbox's process id.
func (p *Process) Pid() int { return 0 }

// Interrupt interrupts the program.
func (p *Process) Interrupt() error { return ErrUnsupported }

// Kill ends the sandbox.
func (p *Process) Kill() {}

// Sweep ends what the program left running; here there is nothing.
func (p *Process) Sweep() <-chan struct{} {
	ch := make(chan struct{})
	close(ch)
	return ch
}

// ProgramCPU is the program's CPU time: none here.
func (p *Process) ProgramCPU() time.Duration { return 0 }

// Done is closed once the sandbox has ended.
func (p *Process) Done() <-chan struct{} { return nil }

// Wait waits for the sandbox's end.
func (p *Process) Wait() Exit { return Exit{Killed: true} }

// Status is what this machine offers the sandbox.
type Status struct {
	Err      error
	Landlock int
}

// Check reports that the sandbox is not supported here.
func Check() Status { return Status{Err: ErrUnsupported} }

// Enforcement tells how the sandbox's limits would be held here: not at all.
func Enforcement() string { return "none: the sandbox is not supported on this operating system yet" }

// RunExecStage exits: the exec stage is Linux's.
func RunExecStage() {
	fmt.Fprintln(os.Stderr, "sandbox-exec: the sandbox's exec stage runs on Linux only")
	os.Exit(126)
}
