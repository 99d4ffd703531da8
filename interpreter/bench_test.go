//go:build linux

package interpreter

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"
)

// The benchmarks report the median of their iterations as "median-ms",
// which scripts/bench.sh turns into the README's table. Means hide the
// shape of a noisy two-core machine; the median does not.

func reportMedian(b *testing.B, d []time.Duration) {
	b.Helper()
	if len(d) == 0 {
		return
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	b.ReportMetric(float64(d[len(d)/2])/float64(time.Millisecond), "median-ms")
}

// BenchmarkExecWarm is the round trip of a trivial cell on a running kernel.
func BenchmarkExecWarm(b *testing.B) {
	s := newTestSession(b, nil)
	ctx := context.Background()
	if r, err := s.Exec(ctx, "1 + 1"); err != nil || r.Error != nil {
		b.Fatalf("warm-up: %v %+v", err, r)
	}
	d := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t := time.Now()
		r, err := s.Exec(ctx, "1 + 1")
		d = append(d, time.Since(t))
		if err != nil || r.Value == nil || *r.Value != "2" {
			b.Fatalf("exec: %v %+v", err, r)
		}
	}
	b.StopTimer()
	reportMedian(b, d)
}

// newSessionFirstResult times a new session's first trivial cell.
func newSessionFirstResult(b *testing.B, pool int) {
	m, err := NewManager(Config{Python: testPython, Root: b.TempDir(), PoolSize: pool})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	d := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if err := m.Warm(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		t := time.Now()
		s, err := m.NewSession(ctx)
		if err != nil {
			b.Fatal(err)
		}
		r, err := s.Exec(ctx, "1 + 1")
		d = append(d, time.Since(t))
		b.StopTimer()
		if err != nil || r.Value == nil {
			b.Fatalf("exec: %v %+v", err, r)
		}
		s.Close()
		b.StartTimer()
	}
	b.StopTimer()
	reportMedian(b, d)
}

// BenchmarkNewSessionPooled takes a pre-started kernel from the pool.
func BenchmarkNewSessionPooled(b *testing.B) { newSessionFirstResult(b, 1) }

// BenchmarkNewSessionCold starts the sandbox and Python, and imports
// numpy, pandas and matplotlib, before the first cell.
func BenchmarkNewSessionCold(b *testing.B) { newSessionFirstResult(b, -1) }

func benchProcess(b *testing.B, code string) {
	d := make([]time.Duration, 0, b.N)
	for i := 0; i < b.N; i++ {
		t := time.Now()
		if out, err := exec.Command(testPython.Executable, "-c", code).CombinedOutput(); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
		d = append(d, time.Since(t))
	}
	reportMedian(b, d)
}

// BenchmarkPythonProcess is the reference: the same trivial cell as a
// fresh, unsandboxed python3 -c process.
func BenchmarkPythonProcess(b *testing.B) { benchProcess(b, "1 + 1") }

// BenchmarkPythonProcessImports is a fresh python3 -c process that imports
// what the kernel imports: the reference for a cold session.
func BenchmarkPythonProcessImports(b *testing.B) {
	benchProcess(b, "import numpy, pandas, matplotlib.pyplot")
}

// BenchmarkFiveThreadsBackToBack opens five new threads one after the
// other, each to its first result, with the default pool warm: the median
// of the five times from SessionAt to the result of 1 + 1.
func BenchmarkFiveThreadsBackToBack(b *testing.B) {
	root := b.TempDir()
	m, err := NewManager(Config{Python: testPython, Root: root})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	var d []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if err := m.Warm(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		var open []*Session
		for j := 0; j < 5; j++ {
			t := time.Now()
			s, err := m.SessionAt(ctx, filepath.Join(root, fmt.Sprintf("thread-%d-%d", i, j)))
			if err != nil {
				b.Fatal(err)
			}
			r, err := s.Exec(ctx, "1 + 1")
			d = append(d, time.Since(t))
			if err != nil || r.Value == nil || *r.Value != "2" {
				b.Fatalf("exec: %v %+v", err, r)
			}
			open = append(open, s)
		}
		b.StopTimer()
		for _, s := range open {
			s.Close()
		}
		b.StartTimer()
	}
	b.StopTimer()
	reportMedian(b, d)
}

// BenchmarkSixteenAtOnce starts a CPU-bound cell of about 50 ms in each of
// 16 running sessions at once, and reports when the median one finished
// as a fraction of when the last one did ("median-of-last"): near 1 when
// all share the cores to the end, about 0.5 when they are admitted in
// turn.
func BenchmarkSixteenAtOnce(b *testing.B) {
	const n = 16
	m, err := NewManager(Config{Python: testPython, Root: b.TempDir(), PoolSize: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	sessions := make([]*Session, n)
	for i := range sessions {
		s, err := m.NewSession(ctx)
		if err != nil {
			b.Fatal(err)
		}
		defer s.Close()
		if _, err := s.Exec(ctx, "0"); err != nil {
			b.Fatal(err)
		}
		sessions[i] = s
	}
	const cell = "s = 0\nfor i in range(300000):\n    s += i\ns"
	var medians []time.Duration
	var ratios []float64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		done := make([]time.Duration, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		var t0 time.Time
		for j, s := range sessions {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				r, err := s.Exec(ctx, cell)
				done[j] = time.Since(t0)
				if err != nil || r.Error != nil {
					b.Errorf("exec: %v %+v", err, r)
				}
			}()
		}
		t0 = time.Now()
		close(start)
		wg.Wait()
		sort.Slice(done, func(a, c int) bool { return done[a] < done[c] })
		medians = append(medians, done[n/2])
		ratios = append(ratios, float64(done[n/2])/float64(done[n-1]))
	}
	b.StopTimer()
	reportMedian(b, medians)
	sort.Float64s(ratios)
	b.ReportMetric(ratios[len(ratios)/2], "median-of-last")
}
