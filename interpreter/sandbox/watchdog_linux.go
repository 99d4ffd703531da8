package sandbox

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// watchPeriod is how often the watchdog measures the sandbox.
const watchPeriod = 100 * time.Millisecond

// watchdog holds a sandbox to its memory cap where no cgroup can: every
// watchPeriod it adds up what the sandbox's processes hold and kills the
// sandbox past the cap. Between two looks a cell can go past the cap by
// what it allocates in watchPeriod; the processes' RLIMIT_AS is the wall
// each one meets first.
//
// What it counts (see measure) is what a cgroup would be charged and
// could not reclaim, as far as it can be seen from outside: the
// processes' own memory, the shared memory they hold by a descriptor or a
// mapping, and the sandbox's tmpfs folders. System V segments that no
// process has attached hold no memory once capIPC has made the kernel
// destroy them on their last detach. Kernel memory (pipe buffers, socket
// queues) is not counted, nor is the CPU, and the processes are left to
// the pid namespace's pid_max and RLIMIT_NPROC.
type watchdog struct {
	limit   int64
	hit     atomic.Bool
	running bool   // watch started the goroutine
	tmpDir  string // the weak mode's private temporary folder, counted in place of the tmpfs mounts
	stop    chan struct{}
	done    chan struct{}
}

func newWatchdog(l Limits) *watchdog {
	return &watchdog{limit: l.Memory, stop: make(chan struct{}), done: make(chan struct{})}
}

func (w *watchdog) attach(int) error { return nil }

func (w *watchdog) watch(pid int, kill func()) {
	w.running = true
	go func() {
		defer close(w.done)
		m := newMeter(pid)
		if w.tmpDir != "" {
			m.tmpfs, m.dirs = nil, []string{w.tmpDir}
		}
		t := time.NewTimer(0)
		defer t.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-t.C:
			}
			// An error means init is gone, and the sandbox with it.
			if used, err := m.measure(); err == nil && used > w.limit {
				w.hit.Store(true)
				kill()
				return
			}
			t.Reset(watchPeriod)
		}
	}()
}

func (w *watchdog) capped() bool { return w.hit.Load() }

func (w *watchdog) release() {
	close(w.stop)
	if w.running {
		<-w.done
	}
}

// shmDev is the device of the kernel's internal shmem mount, on which
// memfd files, System V segments and shared anonymous mappings live; 0 if
// unknown.
var shmDev = sync.OnceValue(func() uint64 {
	fd, err := unix.MemfdCreate("plotline-probe", unix.MFD_CLOEXEC)
	if err != nil {
		return 0
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil {
		return 0
	}
	return st.Dev
})

// meter measures the memory of the sandbox whose init is pid.
type meter struct {
	init     int
	proc     string   // /proc/<init>
	tmpfs    []string // the sandbox's /tmp and /dev/shm, as the host reaches them
	dirs     []string // folders whose files count in full (the weak mode's /tmp)
	children bool     // /proc/PID/task/TID/children exists
	ns       string   // init's pid namespace
}

func newMeter(pid int) *meter {
	m := &meter{init: pid, proc: "/proc/" + strconv.Itoa(pid)}
	for _, d := range []string{"/tmp", "/dev/shm"} {
		m.tmpfs = append(m.tmpfs, m.proc+"/root"+d)
	}
	_, err := os.Stat(fmt.Sprintf("%s/task/%d/children", m.proc, pid))
	m.children = err == nil
	m.ns, _ = os.Readlink(m.proc + "/ns/pid")
	return m
}

// measure returns the bytes the sandbox holds:
//
//   - each process's proportional share (PSS) of its anonymous memory
//     and of its swap; not of the files it maps, whose pages the kernel
//     can drop or write back (those in /tmp and /dev/shm count below);
//   - each shmem object (memfd, System V segment, shared anonymous
//     mapping) once, however many processes hold it: its allocated size
//     when a process holds it open, else the size of its largest mapping,
//     whether touched or not (the pages may have been written through a
//     descriptor since closed);
//   - the used space of the sandbox's /tmp and /dev/shm, which holds
//     their files, open, mapped, deleted or not.
func (m *meter) measure() (int64, error) {
	pids, err := m.pids()
	if err != nil {
		return 0, err
	}
	var total int64
	held := map[uint64]int64{}   // shmem inode → allocated bytes
	mapped := map[uint64]int64{} // shmem inode → largest mapping
	for _, pid := range pids {
		dir := "/proc/" + strconv.Itoa(pid)
		total += rollup(dir)
		m.mappedShmem(dir, mapped)
		m.heldShmem(dir, held)
	}
	for ino, n := range mapped {
		if _, ok := held[ino]; !ok {
			total += n
		}
	}
	for _, n := range held {
		total += n
	}
	for _, d := range m.tmpfs {
		var st unix.Statfs_t
		if unix.Statfs(d, &st) == nil {
			total += int64(st.Blocks-st.Bfree) * st.Bsize
		}
	}
	for _, d := range m.dirs {
		total += allocated(d)
	}
	return total, nil
}

// pids lists init and every process below it.
func (m *meter) pids() ([]int, error) {
	if _, err := os.Stat(m.proc); err != nil {
		return nil, err
	}
	if !m.children {
		return m.pidsInNamespace()
	}
	return append([]int{m.init}, descendants(m.init)...), nil
}

// pidsInNamespace lists the processes in init's pid namespace, for
// kernels without /proc/PID/task/TID/children.
func (m *meter) pidsInNamespace() ([]int, error) {
	if m.ns == "" {
		return nil, errors.New("the sandbox's pid namespace is unknown")
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if l, err := os.Readlink("/proc/" + e.Name() + "/ns/pid"); err == nil && l == m.ns {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// rollup returns a process's share of its anonymous memory and swap,
// from smaps_rollup. Shmem is counted per object instead. An old kernel
// that does not split PSS gives the whole PSS, mapped files and shmem
// included, so that shmem may count twice there.
func rollup(dir string) int64 {
	b, err := os.ReadFile(dir + "/smaps_rollup")
	if err != nil {
		return 0
	}
	f := map[string]int64{}
	for _, line := range bytes.Split(b, []byte("\n")) {
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		v = bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(v), []byte("kB")))
		if n, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			f[string(k)] = n << 10
		}
	}
	if anon, ok := f["Pss_Anon"]; ok {
		return anon + f["SwapPss"]
	}
	return f["Pss"] + f["SwapPss"]
}

// mappedShmem records, for each shmem object process dir maps, the
// largest span it maps.
func (m *meter) mappedShmem(dir string, mapped map[uint64]int64) {
	dev := shmDev()
	if dev == 0 {
		return
	}
	want := fmt.Sprintf("%02x:%02x", unix.Major(dev), unix.Minor(dev))
	f, err := os.Open(dir + "/maps")
	if err != nil {
		return
	}
	defer f.Close()
	spans := map[uint64]int64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// start-end perms offset dev inode [path]
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 || fields[3] != want {
			continue
		}
		start, end, _ := strings.Cut(fields[0], "-")
		s, err1 := strconv.ParseUint(start, 16, 64)
		e, err2 := strconv.ParseUint(end, 16, 64)
		ino, err3 := strconv.ParseUint(fields[4], 10, 64)
		if err1 == nil && err2 == nil && err3 == nil && e > s {
			spans[ino] += int64(e - s)
		}
	}
	for ino, n := range spans {
		mapped[ino] = max(mapped[ino], n)
	}
}

// heldShmem records the allocated size of each shmem object that process
// dir holds open.
func (m *meter) heldShmem(dir string, held map[uint64]int64) {
	dev := shmDev()
	fds, err := os.ReadDir(dir + "/fd")
	if err != nil || dev == 0 {
		return
	}
	for _, fd := range fds {
		var st unix.Stat_t
		if unix.Stat(dir+"/fd/"+fd.Name(), &st) != nil || st.Dev != dev {
			continue
		}
		held[st.Ino] = st.Blocks * 512
	}
}

// allocated adds up the blocks allocated beneath dir, without following
// links.
func allocated(dir string) int64 {
	var total int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if fi, err := d.Info(); err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				total += st.Blocks * 512
			}
		}
		return nil
	})
	return total
}
