package plotting

import (
	"io"
	"math"
	"math/rand/v2"
	"testing"
)

// chartBenchLine is a random walk of n points with a few spikes.
func chartBenchLine(n int) *Chart {
	rng := rand.New(rand.NewPCG(3, 4))
	xs := make([]float64, n)
	ys := make([]float64, n)
	v := 0.0
	for i := range n {
		xs[i] = float64(i)
		v += rng.NormFloat64()
		ys[i] = v
		if i%(n/7+1) == n/14 {
			ys[i] += 500
		}
	}
	return &Chart{Kind: KindLine, Title: "Random walk", Series: []Series{{Name: "walk", X: xs, Y: ys}}}
}

// chartBench renders c as a 960×540 PNG b.N times, reporting ms a chart.
func chartBench(b *testing.B, c *Chart) {
	b.Helper()
	st := Style{Width: 960, Height: 540}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := c.Render(io.Discard, "png", st); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/chart")
}

func BenchmarkChartLine10k(b *testing.B) { chartBench(b, chartBenchLine(10_000)) }

func BenchmarkChartLine10M(b *testing.B) { chartBench(b, chartBenchLine(10_000_000)) }

func BenchmarkChartBar20(b *testing.B) {
	cats := make([]string, 20)
	ys := make([]float64, 20)
	for i := range cats {
		cats[i] = "Category " + string(rune('A'+i))
		ys[i] = 100 + 50*math.Sin(float64(i))
	}
	chartBench(b, &Chart{Kind: KindBar, Title: "Twenty bars", Categories: cats, Series: []Series{{Y: ys}}})
}

func BenchmarkChartScatter1M(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	n := 1_000_000
	xs := make([]float64, n)
	ys := make([]float64, n)
	for i := range n {
		xs[i] = rng.NormFloat64()
		ys[i] = xs[i]*0.6 + rng.NormFloat64()*0.8
	}
	chartBench(b, &Chart{Kind: KindScatter, Title: "A million points", Series: []Series{{X: xs, Y: ys}}})
}
