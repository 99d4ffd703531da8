package cli

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"plotline/interpreter/interptest"
	"plotline/plotting"
)

// The same jobs, done by pandas and matplotlib: what an analyst's script
// does, imports included.
const (
	pandasBar = `import sys, pandas as pd, matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
df = pd.read_csv(sys.argv[1])
df.groupby("category")["value"].sum().plot.bar(title="Value by category")
plt.savefig(sys.argv[2], dpi=96)
`
	pandasLine = `import sys, pandas as pd, matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
df = pd.read_csv(sys.argv[1], parse_dates=["date"])
df.set_index("date")["value"].resample("D").sum().plot(title="Value by date, each day")
plt.savefig(sys.argv[2], dpi=96)
`
	pandasProfile = `import sys, pandas as pd
df = pd.read_csv(sys.argv[1])
print(df.describe(include="all"))
`
)

// job is one command measured: its wall time and its peak memory.
type job struct {
	name string
	args []string
}

// measured is a job's median time and peak memory over its runs.
type measured struct {
	ms, mb float64
}

// BenchmarkTableJobs measures plotline chart and profile on a generated
// table (date, 20 categories, value) side by side with pandas and
// matplotlib doing the same jobs, and the floors: wc -l and a one-pass Go
// sum over the same file. Rows come from PLOTLINE_BENCH_ROWS (1,000,000
// by default). Memory is the peak of the process's own memory, read from
// a memory cgroup where one can be made (so the file's pages, cached
// before, are not counted for either side), else the peak RSS.
func BenchmarkTableJobs(b *testing.B) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import pandas, matplotlib").Run(); err != nil {
		b.Skipf("%s has no pandas and matplotlib to compare with", py)
	}
	rows := 1_000_000
	if s := os.Getenv("PLOTLINE_BENCH_ROWS"); s != "" {
		rows, _ = strconv.Atoi(s)
	}
	runs := 5
	if rows > 2_000_000 {
		runs = 1
	}
	dir := b.TempDir()
	csv := filepath.Join(dir, "sales.csv")
	f, err := os.Create(csv)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := plotting.WriteSampleCSV(w, rows, 1); err != nil {
		b.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	for name, src := range map[string]string{"bar.py": pandasBar, "line.py": pandasLine, "profile.py": pandasProfile} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	// The plotline that ships, not this test binary: what a process holds
	// at its start is part of what is measured.
	bin := filepath.Join(dir, "plotline")
	if out, err := exec.Command("go", "build", "-o", bin, "plotline").CombinedOutput(); err != nil {
		b.Fatalf("building plotline: %v\n%s", err, out)
	}
	plotline := func(args ...string) []string { return append([]string{bin}, args...) }
	out := func(name string) string { return filepath.Join(dir, name) }
	jobs := []job{
		{"bar", plotline("chart", csv, "--x", "category", "--y", "value", "-o", out("bar.png"))},
		{"bar-pandas", []string{py, out("bar.py"), csv, out("bar-pandas.png")}},
		{"line", plotline("chart", csv, "--x", "date", "--y", "value", "--every", "day", "-o", out("line.png"))},
		{"line-pandas", []string{py, out("line.py"), csv, out("line-pandas.png")}},
		{"profile", plotline("profile", csv)},
		{"profile-pandas", []string{py, out("profile.py"), csv}},
		{"wc", []string{"wc", "-l", csv}},
	}
	mem := newPeakMeter(b)
	b.ResetTimer()
	for range b.N {
		got := map[string]measured{}
		for _, j := range jobs {
			got[j.name] = runJob(b, mem, j, runs)
		}
		sum := goSum(b, csv, runs)
		for _, name := range []string{"bar", "line", "profile"} {
			p, ref := got[name], got[name+"-pandas"]
			b.ReportMetric(p.ms, name+"-ms")
			b.ReportMetric(ref.ms, name+"-pandas-ms")
			b.ReportMetric(p.ms/ref.ms, name+"-x")
			b.ReportMetric(p.mb, name+"-MB")
			b.ReportMetric(ref.mb, name+"-pandas-MB")
			b.ReportMetric(p.mb/ref.mb, name+"-mem-x")
		}
		b.ReportMetric(got["wc"].ms, "wc-ms")
		b.ReportMetric(interptest.Ms(sum), "gosum-ms")
		b.ReportMetric(float64(rows), "rows")
	}
	b.Logf("peak memory read from %s", mem.how())
}

// runJob runs j once to warm the caches, runs times to time it, and once
// more to read its peak memory (apart: a memory cgroup's accounting slows
// what runs in it, unevenly).
func runJob(b *testing.B, mem *peakMeter, j job, runs int) measured {
	b.Helper()
	var times []time.Duration
	for i := range runs + 1 {
		d, _ := mem.run(b, j.args, false)
		if i > 0 {
			times = append(times, d)
		}
	}
	_, peak := mem.run(b, j.args, true)
	return measured{ms: interptest.Ms(interptest.Median(times)), mb: float64(peak) / 1e6}
}

// goSum is the physical floor of a one-pass read: the sum of the last
// field of each line, read with bufio and parsed with strconv.
func goSum(b *testing.B, csv string, runs int) time.Duration {
	var times []time.Duration
	for range runs {
		start := time.Now()
		f, err := os.Open(csv)
		if err != nil {
			b.Fatal(err)
		}
		r := bufio.NewReaderSize(f, 1<<20)
		r.ReadSlice('\n')
		total := 0.0
		for {
			line, err := r.ReadSlice('\n')
			if i := bytes.LastIndexByte(line, ','); i >= 0 {
				v, _ := strconv.ParseFloat(string(bytes.TrimSpace(line[i+1:])), 64)
				total += v
			}
			if err != nil {
				break
			}
		}
		f.Close()
		times = append(times, time.Since(start))
		if total == 0 {
			b.Fatal("the sum read nothing")
		}
	}
	return interptest.Median(times)
}

// peakMeter runs commands and reads their peak memory: from a cgroup v1
// memory controller's max_usage_in_bytes where this process may make a
// child group, or else from the peak RSS the kernel keeps.
type peakMeter struct {
	parent string // the memory cgroup folder children are made in, or ""
	n      int
}

func newPeakMeter(b *testing.B) *peakMeter {
	m := &peakMeter{}
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return m
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) == 3 && parts[1] == "memory" {
			dir := filepath.Join("/sys/fs/cgroup/memory", parts[2])
			probe := filepath.Join(dir, fmt.Sprintf("plotline-bench-%d", os.Getpid()))
			if os.Mkdir(probe, 0o755) == nil {
				os.Remove(probe)
				m.parent = dir
			}
		}
	}
	return m
}

func (m *peakMeter) how() string {
	if m.parent != "" {
		return "a cgroup v1 memory controller (max_usage_in_bytes)"
	}
	return "the peak RSS (getrusage), which counts the program's own mapped pages too"
}

// run runs args to the end and returns its wall time and, when measured
// is true, its peak memory.
func (m *peakMeter) run(b *testing.B, args []string, measured bool) (time.Duration, int64) {
	b.Helper()
	var cmd *exec.Cmd
	var group string
	if measured && m.parent != "" {
		m.n++
		group = filepath.Join(m.parent, fmt.Sprintf("plotline-bench-%d-%d", os.Getpid(), m.n))
		if err := os.Mkdir(group, 0o755); err != nil {
			b.Fatal(err)
		}
		defer os.Remove(group)
		// The shell joins the group, then becomes the command.
		cmd = exec.Command("/bin/sh", append([]string{"-c", `echo $$ > "$0/cgroup.procs" && exec "$@"`, group}, args...)...)
	} else {
		cmd = exec.Command(args[0], args[1:]...)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	d := time.Since(start)
	if group != "" {
		data, err := os.ReadFile(filepath.Join(group, "memory.max_usage_in_bytes"))
		if err != nil {
			b.Fatal(err)
		}
		peak, _ := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
		return d, peak
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	return d, ru.Maxrss * 1024
}
