package sandbox

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Memory, processes and CPU are capped for the sandbox as a whole, not per
// process: RLIMIT_AS alone let four processes hold four times the limit,
// and memfd files and shared memory belong to no process at all. A cgroup
// does this in the kernel; where Plotline can have none, a watchdog on the
// host measures the sandbox and kills it at its cap (see watchdog_linux.go).
//
// The cgroup is, in order of preference:
//
//   - cgroup v2, in a subtree delegated to Plotline: its own cgroup (on a
//     desktop, the systemd scope it was started in) when that is writable
//     and has the memory and pids controllers. A cgroup with controllers
//     enabled for its children may hold no process itself, so Plotline
//     moves itself into a leaf, <own>/plotline, first; it does that only
//     when it is the only process in its cgroup, never taking a shell or
//     another program along.
//   - cgroup v1, as the host's root on a hybrid or legacy host: a child of
//     Plotline's own memory, pids and (if mounted) cpu cgroups.
//
// Each sandbox gets a cgroup of its own, plotline-<pid>-<n>, made before
// init starts and removed once it is reaped. Init enters it before it can
// run anything: with cgroup v2 it is started in it (CLONE_INTO_CGROUP);
// otherwise it is moved in after it started, while it still waits for its
// config. At the cap the kernel's OOM killer strikes, and the whole sandbox
// is then ended, so that a cell never goes on with some of its processes
// missing: cgroup v2 does that itself (memory.oom.group), with cgroup v1
// the host does it when it is told of the OOM.

// cgroupEnv set to "off" makes sandboxes use the watchdog even where a
// cgroup could be had.
const cgroupEnv = "PLOTLINE_SANDBOX_CGROUP"

// cfsPeriod is the CPU accounting period, in microseconds.
const cfsPeriod = 100000

// Enforcement tells how the sandbox's memory, process and CPU limits are
// held here for the whole sandbox, for plotline doctor.
func Enforcement() string {
	h, why := cgroupHierarchy()
	if h == nil {
		return "watchdog (" + why + "): memory measured every 100 ms; the processes are capped by the pid namespace and RLIMIT_NPROC, the CPU is not"
	}
	return h.desc
}

// hierarchy is where this process makes its sandboxes' cgroups.
type hierarchy struct {
	v2 bool
	// parents are the folders the sandbox cgroups are made in: with v1
	// one per controller, memory first, then pids and maybe cpu; with v2
	// just one.
	parents []string
	cpu     bool // the cpu controller is there
	// intoFD: with v2, init is started straight in its cgroup. Cleared if
	// the kernel refuses that (before Linux 5.7, or clone3 filtered away).
	intoFD atomic.Bool
	desc   string
}

var (
	hierOnce sync.Once
	hier     *hierarchy
	hierWhy  string // why there is none
	cgSeq    atomic.Int64
)

// cgroupHierarchy returns where to make sandbox cgroups, or nil and why
// none can be made. It looks once; only the environment variable is read
// every time, so that tests can switch between the two ways.
func cgroupHierarchy() (*hierarchy, string) {
	if v := os.Getenv(cgroupEnv); v == "off" || v == "0" || v == "false" {
		return nil, "no cgroup: " + cgroupEnv + "=" + v
	}
	hierOnce.Do(func() { hier, hierWhy = findHierarchy() })
	return hier, hierWhy
}

func findHierarchy() (*hierarchy, string) {
	mounts, err := readMountinfo("/proc/self/mountinfo")
	if err != nil {
		return nil, "no cgroup available: " + err.Error()
	}
	own, err := readProcCgroup("/proc/self/cgroup")
	if err != nil {
		return nil, "no cgroup available: " + err.Error()
	}
	var whys []string
	for _, find := range []func([]mountInfo, map[string]string) (*hierarchy, error){findV2, findV1} {
		h, err := find(mounts, own)
		if err == nil {
			err = h.probe()
		}
		if err == nil {
			h.sweepStale()
			return h, ""
		}
		whys = append(whys, err.Error())
	}
	return nil, "no cgroup available: " + strings.Join(whys, "; ")
}

// findV2 finds a delegated cgroup v2 subtree: Plotline's own cgroup.
func findV2(mounts []mountInfo, own map[string]string) (*hierarchy, error) {
	path, ok := own[""]
	if !ok {
		return nil, errors.New("cgroup v2: this process is in no unified cgroup")
	}
	dir, err := cgroupDir(mounts, "cgroup2", "", path)
	if err != nil {
		return nil, fmt.Errorf("cgroup v2: %w", err)
	}
	have := words(readString(filepath.Join(dir, "cgroup.controllers")))
	if !slices.Contains(have, "memory") || !slices.Contains(have, "pids") {
		return nil, fmt.Errorf("cgroup v2: %s has no memory and pids controllers delegated (it has %q)", dir, strings.Join(have, " "))
	}
	for _, f := range []string{"", "cgroup.procs", "cgroup.subtree_control"} {
		if err := unix.Access(filepath.Join(dir, f), unix.W_OK); err != nil {
			return nil, fmt.Errorf("cgroup v2: %s is not writable", dir)
		}
	}
	want := []string{"memory", "pids"}
	cpu := slices.Contains(have, "cpu")
	if cpu {
		want = append(want, "cpu")
	}
	leaf := ""
	if missing := without(want, words(readString(filepath.Join(dir, "cgroup.subtree_control")))); len(missing) > 0 {
		if path != "/" {
			// The no-internal-process rule: Plotline must leave the cgroup
			// before it may have children with controllers.
			if leaf, err = leaveForLeaf(dir); err != nil {
				return nil, fmt.Errorf("cgroup v2: %w", err)
			}
		}
		if cpu, err = enableControllers(dir, missing, cpu); err != nil {
			if leaf != "" {
				writeFile(dir, "cgroup.procs", strconv.Itoa(os.Getpid()))
				os.Remove(leaf)
			}
			return nil, fmt.Errorf("cgroup v2: enable %s in %s: %w", strings.Join(missing, ", "), dir, err)
		}
	}
	h := &hierarchy{v2: true, parents: []string{dir}, cpu: cpu}
	h.intoFD.Store(true)
	ctl := "memory, pids"
	if cpu {
		ctl += ", cpu"
	}
	h.desc = fmt.Sprintf("cgroup v2 (%s) delegated at %s", ctl, dir)
	if leaf != "" {
		h.desc += "; plotline itself moved to " + leaf
	}
	return h, nil
}

// leaveForLeaf moves this process from cgroup dir into a new leaf below it,
// if it is the only process there.
func leaveForLeaf(dir string) (string, error) {
	procs := words(readString(filepath.Join(dir, "cgroup.procs")))
	self := strconv.Itoa(os.Getpid())
	if len(procs) != 1 || procs[0] != self {
		return "", fmt.Errorf("%s holds other processes than plotline (%d in all); start plotline in a scope of its own, e.g. systemd-run --user --scope plotline", dir, len(procs))
	}
	leaf := filepath.Join(dir, "plotline")
	if err := os.Mkdir(leaf, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
		return "", err
	}
	if err := writeFile(leaf, "cgroup.procs", self); err != nil {
		os.Remove(leaf)
		return "", fmt.Errorf("move plotline into %s: %w", leaf, err)
	}
	return leaf, nil
}

// enableControllers enables the controllers for dir's children, and
// reports whether the cpu controller is on for them. That one is optional:
// it cannot be enabled while a realtime thread runs in the subtree, say.
func enableControllers(dir string, ctls []string, cpu bool) (bool, error) {
	var req []string
	for _, c := range ctls {
		if c != "cpu" {
			req = append(req, "+"+c)
		}
	}
	if slices.Contains(ctls, "cpu") {
		if writeFile(dir, "cgroup.subtree_control", strings.Join(append(req, "+cpu"), " ")) == nil {
			return true, nil
		}
		cpu = false
	}
	return cpu, writeFile(dir, "cgroup.subtree_control", strings.Join(req, " "))
}

// findV1 finds Plotline's own cgroups of the v1 memory and pids
// controllers (and cpu, if there), if it may make children in them.
func findV1(mounts []mountInfo, own map[string]string) (*hierarchy, error) {
	h := &hierarchy{}
	var ctl []string
	for _, c := range []string{"memory", "pids", "cpu"} {
		path, ok := own[c]
		var dir string
		var err error
		if !ok {
			err = fmt.Errorf("this process is in no %s cgroup", c)
		} else {
			dir, err = cgroupDir(mounts, "cgroup", c, path)
		}
		if err == nil && unix.Access(dir, unix.W_OK) != nil {
			err = fmt.Errorf("%s is not writable", dir)
		}
		if err != nil {
			if c == "cpu" {
				break
			}
			return nil, fmt.Errorf("cgroup v1: %w", err)
		}
		h.parents = append(h.parents, dir)
		ctl = append(ctl, c)
	}
	h.cpu = len(h.parents) == 3
	h.desc = fmt.Sprintf("cgroup v1 (%s) at %s", strings.Join(ctl, ", "), strings.Join(h.parents, ", "))
	return h, nil
}

// probe makes and removes a cgroup with limits, to find out early whether
// sandboxes can have theirs.
func (h *hierarchy) probe() error {
	cg, err := h.create(Limits{}.WithDefaults())
	if err != nil {
		return err
	}
	cg.release()
	return nil
}

// sweepStale removes the empty cgroups that plotline processes killed
// before they could clean up left behind. A cgroup that still has
// processes cannot be removed, and that of a live process is left alone.
func (h *hierarchy) sweepStale() {
	for _, parent := range h.parents {
		ents, _ := os.ReadDir(parent)
		for _, e := range ents {
			var pid, n int
			if _, err := fmt.Sscanf(e.Name(), "plotline-%d-%d", &pid, &n); err != nil || pid == os.Getpid() {
				continue
			}
			if unix.Kill(pid, 0) == unix.ESRCH {
				os.Remove(filepath.Join(parent, e.Name()))
			}
		}
	}
}

// cgroup is one sandbox's cgroup (with v1, one per controller).
type cgroup struct {
	h    *hierarchy
	dirs []string // as h.parents
	fd   int      // v2: the cgroup, to start init in; else -1
	oom  *os.File // v1: an eventfd the kernel signals on OOM
	hit  atomic.Bool
}

// create makes a new sandbox cgroup with the limits set.
func (h *hierarchy) create(l Limits) (*cgroup, error) {
	name := fmt.Sprintf("plotline-%d-%d", os.Getpid(), cgSeq.Add(1))
	cg := &cgroup{h: h, fd: -1}
	for _, parent := range h.parents {
		dir := filepath.Join(parent, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			cg.release()
			return nil, fmt.Errorf("make cgroup: %w", err)
		}
		cg.dirs = append(cg.dirs, dir)
	}
	mem := strconv.FormatInt(l.Memory, 10)
	procs := strconv.FormatInt(l.Processes, 10)
	quota := int64(l.CPUs * cfsPeriod)
	// The CPU cap is best effort: cgroup v1 refuses a quota above the
	// parent's, which is then the cap.
	const (
		required = iota
		ifPresent
		bestEffort
	)
	type setting struct {
		dir, file, value string
		need             int
	}
	var settings []setting
	if h.v2 {
		d := cg.dirs[0]
		settings = []setting{
			{d, "memory.max", mem, required},
			{d, "memory.swap.max", "0", ifPresent},
			{d, "memory.oom.group", "1", required},
			{d, "pids.max", procs, required},
		}
		if h.cpu {
			settings = append(settings, setting{d, "cpu.max", fmt.Sprintf("%d %d", quota, cfsPeriod), bestEffort})
		}
	} else {
		settings = []setting{
			// The limit first: the limit with swap may not be below it.
			{cg.dirs[0], "memory.limit_in_bytes", mem, required},
			{cg.dirs[0], "memory.memsw.limit_in_bytes", mem, ifPresent},
			{cg.dirs[1], "pids.max", procs, required},
		}
		if h.cpu {
			settings = append(settings,
				setting{cg.dirs[2], "cpu.cfs_period_us", strconv.Itoa(cfsPeriod), bestEffort},
				setting{cg.dirs[2], "cpu.cfs_quota_us", strconv.FormatInt(quota, 10), bestEffort})
		}
	}
	for _, s := range settings {
		err := writeFile(s.dir, s.file, s.value)
		if err != nil && s.need == required || err != nil && s.need == ifPresent && !errors.Is(err, os.ErrNotExist) {
			cg.release()
			return nil, fmt.Errorf("cgroup %s: %w", s.file, err)
		}
	}
	if h.v2 && h.intoFD.Load() {
		fd, err := unix.Open(cg.dirs[0], unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			cg.release()
			return nil, fmt.Errorf("open cgroup: %w", err)
		}
		cg.fd = fd
	}
	return cg, nil
}

// limiter holds one sandbox to its Limits as a whole: a cgroup, or the
// watchdog where there is none.
type limiter interface {
	// attach takes in init, started but still waiting for its config, so
	// that nothing has run in the sandbox yet.
	attach(pid int) error
	// watch begins watching the sandbox, whose init is pid, once it is
	// ready; kill ends the sandbox.
	watch(pid int, kill func())
	// capped reports whether the sandbox reached its memory cap.
	capped() bool
	// release ends whatever is left once init has been reaped, and frees
	// what the limiter holds.
	release()
}

// newLimiter returns the cgroup or, failing that, the watchdog for a new
// sandbox.
func newLimiter(l Limits) limiter {
	if h, _ := cgroupHierarchy(); h != nil {
		if cg, err := h.create(l); err == nil {
			return cg
		}
	}
	return newWatchdog(l)
}

// startInit starts init under lim, straight into its cgroup where it can.
// If the kernel refuses that, init is started again without, to be moved
// into the cgroup by attach, and later sandboxes no longer try.
func startInit(cmd *exec.Cmd, lim limiter) (*exec.Cmd, error) {
	cg, ok := lim.(*cgroup)
	if !ok || cg.fd < 0 {
		return cmd, cmd.Start()
	}
	attr := *cmd.SysProcAttr
	cmd.SysProcAttr.UseCgroupFD, cmd.SysProcAttr.CgroupFD = true, cg.fd
	err := cmd.Start()
	if err == nil {
		return cmd, nil
	}
	cg.h.intoFD.Store(false)
	unix.Close(cg.fd)
	cg.fd = -1
	again := &exec.Cmd{
		Path: cmd.Path, Args: cmd.Args, Env: cmd.Env, Dir: cmd.Dir,
		Stdin: cmd.Stdin, Stdout: cmd.Stdout, Stderr: cmd.Stderr,
		ExtraFiles: cmd.ExtraFiles, SysProcAttr: &attr,
	}
	return again, again.Start()
}

// attachInit puts init under lim. If its cgroup will not take it, init is
// left to the watchdog instead: nothing runs in the sandbox yet.
func attachInit(lim limiter, pid int, l Limits) limiter {
	if err := lim.attach(pid); err != nil {
		lim.release()
		return newWatchdog(l)
	}
	return lim
}

func (cg *cgroup) attach(pid int) error {
	started := cg.fd >= 0 // init was started in the cgroup
	if started {
		unix.Close(cg.fd)
		cg.fd = -1
	}
	if !cg.h.v2 {
		if err := cg.listenOOM(); err != nil {
			return err
		}
	}
	if started {
		return nil
	}
	for _, d := range cg.dirs {
		if err := writeFile(d, "cgroup.procs", strconv.Itoa(pid)); err != nil {
			return fmt.Errorf("move init into %s: %w", d, err)
		}
	}
	return nil
}

// listenOOM registers an eventfd for the v1 memory cgroup's OOM events.
func (cg *cgroup) listenOOM() error {
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return fmt.Errorf("eventfd: %w", err)
	}
	ctl, err := os.Open(filepath.Join(cg.dirs[0], "memory.oom_control"))
	if err != nil {
		unix.Close(efd)
		return err
	}
	defer ctl.Close()
	if err := writeFile(cg.dirs[0], "cgroup.event_control", fmt.Sprintf("%d %d", efd, ctl.Fd())); err != nil {
		unix.Close(efd)
		return fmt.Errorf("listen for OOM: %w", err)
	}
	// Non-blocking, so that the runtime's poller waits for it and Close
	// ends the wait.
	cg.oom = os.NewFile(uintptr(efd), "oom")
	return nil
}

func (cg *cgroup) watch(pid int, kill func()) {
	if cg.oom == nil {
		return
	}
	go func(f *os.File, dir string) {
		// The kernel signals an OOM in the cgroup or above it, and the
		// cgroup's removal; but release closes the eventfd first. Only an
		// OOM at the sandbox's own cap is the sandbox's doing, one above
		// it is the host's: the sandbox's peak usage tells them apart.
		// (memory.failcnt would, but recent kernels leave it at 0.)
		const slack = 4 << 20 // a charge that failed may have been a huge page
		var b [8]byte
		for {
			if _, err := f.Read(b[:]); err != nil {
				return
			}
			limit := readInt(filepath.Join(dir, "memory.limit_in_bytes"))
			if peak := readInt(filepath.Join(dir, "memory.max_usage_in_bytes")); peak+slack >= limit {
				cg.hit.Store(true)
				kill()
				return
			}
		}
	}(cg.oom, cg.dirs[0])
}

// oomKills is how many processes the OOM killer killed in the cgroup.
func (cg *cgroup) oomKills() int64 {
	var n int64
	if cg.h.v2 {
		ev := readKeyed(filepath.Join(cg.dirs[0], "memory.events"))
		n = ev["oom_kill"] + ev["oom_group_kill"]
	} else {
		n = readKeyed(filepath.Join(cg.dirs[0], "memory.oom_control"))["oom_kill"]
	}
	return n
}

func (cg *cgroup) capped() bool {
	return cg.hit.Load() || len(cg.dirs) > 0 && cg.oomKills() > 0
}

// release kills what is left in the cgroup and removes it.
func (cg *cgroup) release() {
	if cg.oom != nil {
		cg.oom.Close()
		cg.oom = nil
	}
	if cg.fd >= 0 {
		unix.Close(cg.fd)
		cg.fd = -1
	}
	for i := len(cg.dirs) - 1; i >= 0; i-- {
		removeCgroup(cg.dirs[i])
	}
	cg.dirs = nil
}

// removeCgroup kills the processes left in cgroup dir and removes it. The
// pid namespace has normally ended them all with init; the cgroup may
// still count them for a moment while they exit.
func removeCgroup(dir string) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := os.Remove(dir)
		if err == nil || errors.Is(err, os.ErrNotExist) || time.Now().After(deadline) {
			return
		}
		if writeFile(dir, "cgroup.kill", "1") != nil {
			for _, p := range words(readString(filepath.Join(dir, "cgroup.procs"))) {
				if pid, err := strconv.Atoi(p); err == nil {
					unix.Kill(pid, unix.SIGKILL)
				}
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// mountInfo is one line of /proc/self/mountinfo.
type mountInfo struct {
	root, point, fstype string
	super               []string
}

func readMountinfo(path string) ([]mountInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ms []mountInfo
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		a, b := strings.Fields(pre), strings.Fields(post)
		if !ok || len(a) < 5 || len(b) < 3 {
			continue
		}
		ms = append(ms, mountInfo{root: unescapeMount(a[3]), point: unescapeMount(a[4]), fstype: b[0], super: strings.Split(b[2], ",")})
	}
	return ms, sc.Err()
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space…).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// readProcCgroup maps each v1 controller, and "" for the unified
// hierarchy, to this process's cgroup path in it.
func readProcCgroup(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	own := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		if parts[0] == "0" && parts[1] == "" {
			own[""] = parts[2]
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			own[c] = parts[2]
		}
	}
	return own, nil
}

// cgroupDir is the folder of cgroup path in the hierarchy mounted with
// fstype (and, for v1, the controller among its options).
func cgroupDir(mounts []mountInfo, fstype, controller, path string) (string, error) {
	for _, m := range mounts {
		if m.fstype != fstype || controller != "" && !slices.Contains(m.super, controller) {
			continue
		}
		rel, ok := strings.CutPrefix(path, m.root)
		if m.root == "/" {
			rel, ok = path, true
		}
		if !ok || rel != "" && !strings.HasPrefix(rel, "/") || strings.Contains(path, "/..") {
			continue // this mount shows another part of the hierarchy
		}
		return filepath.Join(m.point, rel), nil
	}
	if controller == "" {
		return "", fmt.Errorf("no %s mount shows %s", fstype, path)
	}
	return "", fmt.Errorf("no %s mount with the %s controller shows %s", fstype, controller, path)
}

func writeFile(dir, name, value string) error {
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.Write([]byte(value))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func readString(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}

// readInt reads a file that holds a number; 0 if it cannot.
func readInt(path string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSpace(readString(path)), 10, 64)
	return n
}

// readKeyed reads a file of "key value" lines.
func readKeyed(path string) map[string]int64 {
	m := map[string]int64{}
	for _, line := range strings.Split(readString(path), "\n") {
		if k, v, ok := strings.Cut(line, " "); ok {
			if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
				m[k] = n
			}
		}
	}
	return m
}

func words(s string) []string { return strings.Fields(s) }

// without returns the elements of want that have lacks.
func without(want, have []string) []string {
	var out []string
	for _, w := range want {
		if !slices.Contains(have, w) {
			out = append(out, w)
		}
	}
	return out
}
