package sandbox

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
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

// swept marks the oldest sweep done; with all, every sweep (the sandbox
// has ended). After a sweep the sandbox holds init and the program only:
// what the last pid is then is the mark alone compares with.
func (p *Process) swept(all ...bool) {
	p.ctlMu.Lock()
	defer p.ctlMu.Unlock()
	if len(all) == 0 && !p.weak {
		p.quietPid = p.lastPid()
	}
	for len(p.sweeps) > 0 {
		close(p.sweeps[0])
		p.sweeps = p.sweeps[1:]
		if len(all) == 0 {
			return
		}
	}
}

// sweepNamespace kills every process of the sandbox's pid namespace but
// init and keep.
func sweepNamespace(keep int) {
	sweepUntilGone(func() []int {
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

// sweepUntilGone kills the processes list names, and returns once none
// is left but zombies (which their parents, or init, reap). Processes may
// fork while it runs, so it goes round until a pass finds none; the pids
// cap bounds how many a pass can meet, and it gives up after sweepFor.
func sweepUntilGone(list func() []int) {
	deadline := time.Now().Add(sweepFor)
	for time.Now().Before(deadline) {
		found := false
		for _, pid := range list() {
			if running(pid) {
				found = true
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		if !found {
			return
		}
		time.Sleep(time.Millisecond) // let the killed get to their end
	}
}

// sweepFor bounds one sweep.
const sweepFor = 2 * time.Second

// running reports whether pid exists and is not a zombie.
func running(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return false
	}
	return b[i+2] != 'Z' && b[i+2] != 'X'
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
