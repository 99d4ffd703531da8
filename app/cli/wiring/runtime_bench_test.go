package wiring_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"plotline/app"
	"plotline/app/cli/wiring"
	"plotline/interpreter"
	"plotline/interpreter/starlark"
	"plotline/plotting"
)

// BenchmarkRuntimes times the two runtimes side by side, each through the
// engine's app.Interpreter, in its sandbox: a warm cell's round trip, and
// reading a 1,000,000-row CSV and grouping it (Python with pandas,
// Starlark with the table built-ins). Figures are medians.
func BenchmarkRuntimes(b *testing.B) {
	sample := filepath.Join(b.TempDir(), "sample.csv")
	f, err := os.Create(sample)
	if err != nil {
		b.Fatal(err)
	}
	if err := plotting.WriteSampleCSV(f, 1_000_000, 1); err != nil {
		b.Fatal(err)
	}
	f.Close()
	m, err := interpreter.NewManager(interpreter.Config{Python: testPython, Root: b.TempDir(), PoolSize: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	runtimes := []struct {
		name    string
		interp  app.Interpreter
		groupBy string
	}{
		{"python", wiring.Kernels(m), `import pandas as pd
g = pd.read_csv("sample.csv").groupby("category")["value"].agg(["sum", "count"])
len(g)`},
		{"starlark", wiring.StarlarkKernels(b.TempDir(), starlark.Options{}), `g = table.read("sample.csv").group_by("category", value="sum", n="count")
len(g)`},
	}
	ctx := context.Background()
	cells, groups := 200, 5
	if b.N > 1 {
		cells, groups = 200*b.N, 5*b.N
	}
	med := map[string]float64{}
	for _, rt := range runtimes {
		s, err := rt.interp.Open(ctx, "thread_bench")
		if err != nil {
			b.Fatal(err)
		}
		in, err := os.Open(sample)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.AddFile("sample.csv", in); err != nil {
			b.Fatal(err)
		}
		in.Close()
		run := func(code, want string) time.Duration {
			t := time.Now()
			r, err := s.Exec(ctx, code, nil)
			d := time.Since(t)
			if err != nil || r.Error != nil || r.Value == nil || *r.Value != want {
				b.Fatalf("%s: %q: %v %+v", rt.name, code, err, r)
			}
			return d
		}
		run("1 + 1", "2")
		med[rt.name+"-cell-ms"] = median(cells, func() time.Duration { return run("1 + 1", "2") })
		med[rt.name+"-groupby-ms"] = median(groups, func() time.Duration { return run(rt.groupBy, "20") })
		s.Close()
	}
	for k, v := range med {
		b.ReportMetric(v, k)
	}
	b.ReportMetric(med["starlark-cell-ms"]/med["python-cell-ms"], "cell-x")
	b.ReportMetric(med["starlark-groupby-ms"]/med["python-groupby-ms"], "groupby-x")
}

// median runs fn n times and gives the median of what it measured, in ms.
func median(n int, fn func() time.Duration) float64 {
	d := make([]time.Duration, n)
	for i := range d {
		d[i] = fn()
	}
	slices.Sort(d)
	return float64(d[n/2].Microseconds()) / 1000
}
