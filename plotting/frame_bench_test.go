package plotting

import (
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"
)

// The benchmarks read WriteSampleCSV's million rows (about 30 MB) and
// report, past go test's own figures, the time of one operation in ms and
// the peak of the heap during one operation in MB, sampled.

func sampleFile(b *testing.B, rows int) string {
	b.Helper()
	p := filepath.Join(b.TempDir(), "sample.csv")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	if err := WriteSampleCSV(f, rows, 1); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	return p
}

func sampleFrame(b *testing.B) *Frame {
	b.Helper()
	fr, err := ReadFile(sampleFile(b, 1_000_000), ReadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	return fr
}

// peakHeap runs fn once and gives the most heap its objects took while it
// ran, in MB, sampled every 100µs.
func peakHeap(fn func()) float64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 {
		metrics.Read(sample)
		return sample[0].Value.Uint64()
	}
	peak := read()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(100 * time.Microsecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				peak = max(peak, read())
			}
		}
	}()
	fn()
	close(stop)
	wg.Wait()
	return float64(max(peak, read())) / 1e6
}

// report adds ms per operation and the peak heap of one more run of fn.
func report(b *testing.B, fn func()) {
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N), "ms")
	b.StopTimer()
	b.ReportMetric(peakHeap(fn), "peak-MB")
}

func BenchmarkReadCSV1M(b *testing.B) {
	p := sampleFile(b, 1_000_000)
	read := func() {
		if _, err := ReadFile(p, ReadOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	runtime.GC()
	b.ResetTimer()
	for range b.N {
		read()
	}
	report(b, read)
}

func BenchmarkProfile1M(b *testing.B) {
	fr := sampleFrame(b)
	runtime.GC()
	b.ResetTimer()
	for range b.N {
		ProfileFrame(fr)
	}
	report(b, func() { ProfileFrame(fr) })
}

// BenchmarkReadProfile1M is what a first look at a file costs: read it
// and profile it.
func BenchmarkReadProfile1M(b *testing.B) {
	p := sampleFile(b, 1_000_000)
	run := func() {
		fr, err := ReadFile(p, ReadOptions{})
		if err != nil {
			b.Fatal(err)
		}
		ProfileFrame(fr)
	}
	runtime.GC()
	b.ResetTimer()
	for range b.N {
		run()
	}
	report(b, run)
}

func BenchmarkGroupBy1M(b *testing.B) {
	fr := sampleFrame(b)
	aggs := []Agg{{Column: "value", Func: AggSum}, {Column: "value", Func: AggMean, As: "mean"}, {Func: AggCount}}
	run := func() {
		if _, err := fr.GroupBy([]string{"category"}, aggs); err != nil {
			b.Fatal(err)
		}
	}
	runtime.GC()
	b.ResetTimer()
	for range b.N {
		run()
	}
	report(b, run)
}

func BenchmarkResample1M(b *testing.B) {
	fr := sampleFrame(b)
	aggs := []Agg{{Column: "value", Func: AggSum}, {Func: AggCount}}
	run := func() {
		if _, err := fr.Resample("date", Month, []string{"category"}, aggs); err != nil {
			b.Fatal(err)
		}
	}
	runtime.GC()
	b.ResetTimer()
	for range b.N {
		run()
	}
	report(b, run)
}

// BenchmarkProfileFile1M is plotline profile's work: a file profiled as it
// is read.
func BenchmarkProfileFile1M(b *testing.B) {
	p := sampleFile(b, 1_000_000)
	run := func() {
		if _, _, err := ProfileFile(p, ReadOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	runtime.GC()
	b.ResetTimer()
	for range b.N {
		run()
	}
	report(b, run)
}
