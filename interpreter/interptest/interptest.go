// Package interptest helps the tests of packages that start sandboxed
// kernels: the sandbox's init hook, the Python to run, and the median that
// the benchmarks report.
package interptest

import (
	"context"
	"fmt"
	"os"
	"sort"
	"testing"
	"time"

	"plotline/interpreter"
	"plotline/interpreter/sandbox"
)

// Setup is the start of such a package's TestMain. When the test binary
// was started as a sandbox's init, it becomes that and never returns;
// otherwise it finds the Python with numpy, pandas and matplotlib, or
// exits saying what to install.
func Setup() *interpreter.Python {
	sandbox.MaybeRunInit()
	py, _, err := interpreter.Discover(context.Background(), false)
	if err != nil {
		fmt.Fprintln(os.Stderr, "these tests need Python with numpy, pandas and matplotlib (make test installs them):", err)
		os.Exit(1)
	}
	return py
}

// ReportMedian reports the median of d as the benchmark's "median-ms":
// on a noisy two-core machine the median says more than the mean.
func ReportMedian(b *testing.B, d []time.Duration) {
	b.Helper()
	if len(d) == 0 {
		return
	}
	b.ReportMetric(Ms(Median(d)), "median-ms")
}

// Median is the median of d (0 for none), which it leaves in its order.
func Median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// Ms is d in milliseconds, as benchmarks report it.
func Ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Eventually polls cond until it holds or timeout passes, and reports
// whether it held. It is for what no event announces: a process appearing
// in or leaving the host's process table, a window appearing on a display.
func Eventually(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}
