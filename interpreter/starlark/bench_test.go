package starlark

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"plotline/plotting"
)

// benchModes are the modes the benchmarks time: in process, and the
// worker this machine would pick.
func benchModes() []Mode {
	modes := []Mode{ModeInProcess}
	if m := workerMode(); m != ModeInProcess {
		modes = append(modes, m)
	}
	return modes
}

func benchRun(b *testing.B, s *Session, code string) {
	r, err := s.Exec(context.Background(), code, nil)
	if err != nil || r.Error != nil {
		b.Fatalf("%q: %v %+v", code, err, r)
	}
}

// BenchmarkStarlarkCell times a warm cell's round trip.
func BenchmarkStarlarkCell(b *testing.B) {
	for _, m := range benchModes() {
		b.Run(string(m), func(b *testing.B) {
			s, err := Open(b.TempDir(), Options{Mode: m})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			benchRun(b, s, "1 + 1")
			b.ResetTimer()
			for b.Loop() {
				benchRun(b, s, "1 + 1")
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/cell")
		})
	}
}

// BenchmarkStarlarkGroupBy1M times reading a million rows and grouping
// them through the built-ins.
func BenchmarkStarlarkGroupBy1M(b *testing.B) {
	dir := b.TempDir()
	f, err := os.Create(filepath.Join(dir, "sample.csv"))
	if err != nil {
		b.Fatal(err)
	}
	if err := plotting.WriteSampleCSV(f, 1_000_000, 1); err != nil {
		b.Fatal(err)
	}
	f.Close()
	for _, m := range benchModes() {
		b.Run(string(m), func(b *testing.B) {
			s, err := Open(dir, Options{Mode: m})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			benchRun(b, s, "1")
			b.ResetTimer()
			for b.Loop() {
				benchRun(b, s, `g = table.read("sample.csv").group_by("category", value="sum", n="count")
len(g)`)
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/op")
		})
	}
}
