package sandbox

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cmdSweep is the command byte that asks init to sweep the sandbox.
const cmdSweep = 'S'

// Sweep asks init to end every process in the sandbox but the program
// itself: what a cell started in the background (a daemon, a busy loop, a
// worker pool) ends with the cell, rather than burning CPU and holding
// memory between cells. The returned channel is closed once init has done
// it, or once the sandbox has ended.
func (p *Process) Sweep() <-chan struct{} {
	ch := make(chan struct{})
	p.ctlMu.Lock()
	defer p.ctlMu.Unlock()
	select {
	case <-p.done:
		close(ch)
		return ch
	default:
	}
	if p.alone() {
		close(ch)
		return ch
	}
	if _, err := p.ctl.Write([]byte{cmdSweep}); err != nil {
		close(ch)
		return ch
	}
	p.sweeps = append(p.sweeps, ch)
	return ch
}

// swept marks the oldest sweep done. After a clean sweep the sandbox
// holds init and the program only: what the last pid is then is the mark
// alone compares with. A sweep that had to give up leaves no mark, so
// that the next one is not skipped.
func (p *Process) swept(clean bool) {
	p.ctlMu.Lock()
	defer p.ctlMu.Unlock()
	if !p.weak {
		p.quietPid = ""
		if clean {
			p.quietPid = p.lastPid()
		}
	}
	if len(p.sweeps) > 0 {
		close(p.sweeps[0])
		p.sweeps = p.sweeps[1:]
	}
}

// sweptAll marks every sweep done: the sandbox has ended.
func (p *Process) sweptAll() {
	p.ctlMu.Lock()
	defer p.ctlMu.Unlock()
	for _, ch := range p.sweeps {
		close(ch)
	}
	p.sweeps = nil
}

// sweepNamespace kills every process of the sandbox's pid namespace but
// init and keep.
func sweepNamespace(keep int) bool {
	return sweepUntilGone(func() []int {
		ents, err := os.ReadDir("/proc")
		if err != nil {
			return nil
		}
		var pids []int
		for _, e := range ents {
			pid, err := strconv.Atoi(e.Name())
			if err == nil && pid > 1 && pid != keep {
				pids = append(pids, pid)
			}
		}
		return pids
	})
}

// sweepUntilGone kills the processes list names, and reports whether
// none is left but zombies (which their parents, or init, reap) when it
// returns. Processes may fork while it runs, so it first stops them
// (SIGSTOP), going round until a pass finds none running, since a stopped
// process forks no more; then it kills them all. It gives up after
// sweepFor.
func sweepUntilGone(list func() []int) bool {
	deadline := time.Now().Add(sweepFor)
	for _, sig := range []syscall.Signal{syscall.SIGSTOP, syscall.SIGKILL} {
		for {
			found := false
			for _, pid := range list() {
				if st := state(pid); st != 0 && st != 'Z' && st != 'X' && (sig == syscall.SIGKILL || st != 'T') {
					found = true
					syscall.Kill(pid, sig)
				}
			}
			if !found {
				break
			}
			if time.Now().After(deadline) {
				return false
			}
			time.Sleep(time.Millisecond) // let the signalled get there
		}
	}
	return true
}

// sweepFor bounds one sweep.
const sweepFor = 5 * time.Second

// state returns pid's state letter (R, S, D, T, Z …), or 0 if it is gone.
func state(pid int) byte {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0
	}
	return b[i+2]
}

// alone reports whether no process has been made in the sandbox since
// it was last known to hold init and the program only, so that there is
// nothing to sweep: one read of the pid namespace's last pid on the host,
// instead of a round trip to init after every cell. The sandbox cannot
// change that number (its /proc/sys is read-only). In the weak mode there
// is no pid namespace of its own, and it says no.
func (p *Process) alone() bool {
	if p.weak {
		return false
	}
	last := p.lastPid()
	return last != "" && last == p.quietPid
}

// lastPid reads the sandbox's pid namespace's last pid, or "".
func (p *Process) lastPid() string {
	if p.nsLastPid == nil {
		f, err := os.Open(fmt.Sprintf("/proc/%d/root/proc/sys/kernel/ns_last_pid", p.Pid()))
		if err != nil {
			return ""
		}
		p.nsLastPid = f
	}
	var buf [32]byte
	n, err := p.nsLastPid.ReadAt(buf[:], 0)
	if n == 0 && err != nil {
		return ""
	}
	return string(bytes.TrimSpace(buf[:n]))
}

// descendants lists every process below pid, through the kernel's
// children lists.
func descendants(pid int) []int {
	var out []int
	queue := []int{pid}
	seen := map[int]bool{pid: true}
	for len(queue) > 0 && len(out) < 1<<16 {
		p := queue[0]
		queue = queue[1:]
		tasks, _ := os.ReadDir("/proc/" + strconv.Itoa(p) + "/task")
		for _, t := range tasks {
			b, _ := os.ReadFile("/proc/" + strconv.Itoa(p) + "/task/" + t.Name() + "/children")
			for _, f := range strings.Fields(string(b)) {
				c, err := strconv.Atoi(f)
				if err == nil && !seen[c] {
					seen[c] = true
					out = append(out, c)
					queue = append(queue, c)
				}
			}
		}
	}
	return out
}
