package plotting

import (
	"bytes"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Flags: -update rewrites the golden charts; -chart.samples DIR writes
// sample charts of every kind in both themes to DIR. They are looked up
// rather than declared, so another test file may declare -update too.
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files")
	}
	if flag.Lookup("chart.samples") == nil {
		flag.String("chart.samples", "", "write sample charts to this directory")
	}
}

func chartFlag(name string) string {
	if f := flag.Lookup(name); f != nil {
		return f.Value.String()
	}
	return ""
}

// chartSamples returns one chart of each kind, of data an analyst might
// have, made from a fixed seed.
func chartSamples() map[Kind]*Chart {
	rng := rand.New(rand.NewPCG(1, 2))
	out := map[Kind]*Chart{}

	out[KindBar] = &Chart{
		Kind:       KindBar,
		Title:      "Revenue by region",
		YLabel:     "Revenue (USD)",
		Categories: []string{"North America", "Europe", "Asia Pacific", "Latin America", "Middle East", "Africa"},
		Series: []Series{
			{Name: "2023", Y: []float64{4.2e6, 3.1e6, 2.7e6, 0.9e6, 0.6e6, 0.3e6}},
			{Name: "2024", Y: []float64{4.8e6, 3.3e6, 3.4e6, 1.1e6, 0.7e6, 0.45e6}},
			{Name: "2025", Y: []float64{5.1e6, 3.0e6, 3.9e6, 1.4e6, 0.9e6, math.NaN()}},
		},
	}

	start := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	days := 730
	var line []Series
	for s, name := range []string{"Web", "Mobile", "Retail"} {
		xs := make([]float64, days)
		ys := make([]float64, days)
		level := 1200.0 * float64(3-s)
		for i := range days {
			xs[i] = float64(start + int64(i)*86400)
			level += rng.NormFloat64() * 20
			season := 1 + 0.15*math.Sin(2*math.Pi*float64(i)/365)
			ys[i] = level*season + rng.NormFloat64()*40
			if s == 1 && i > 300 && i < 330 {
				ys[i] = math.NaN() // an outage: a gap
			}
		}
		line = append(line, Series{Name: name, X: xs, Y: ys})
	}
	out[KindLine] = &Chart{Kind: KindLine, Title: "Daily orders by channel", YLabel: "Orders", TimeX: true, Series: line}

	var sc []Series
	for s, name := range []string{"Trial", "Paid"} {
		n := 400
		xs := make([]float64, n)
		ys := make([]float64, n)
		for i := range n {
			x := rng.Float64()*90 + 5
			xs[i] = x
			ys[i] = x*(1.6+0.5*float64(s)) + rng.NormFloat64()*18 + 20*float64(s)
		}
		sc = append(sc, Series{Name: name, X: xs, Y: ys})
	}
	out[KindScatter] = &Chart{Kind: KindScatter, Title: "Sessions against spend", XLabel: "Minutes in app", YLabel: "Spend (USD)", Series: sc}

	hist := make([]float64, 5000)
	for i := range hist {
		hist[i] = math.Exp(rng.NormFloat64()*0.45+3.6) + 5
	}
	out[KindHist] = &Chart{Kind: KindHist, Title: "Order values", XLabel: "Order value (USD)", Series: []Series{{Y: hist}}}

	var box []Series
	cats := []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}
	for d := range cats {
		vs := make([]float64, 300)
		for i := range vs {
			vs[i] = 18 + 4*math.Sin(float64(d)) + rng.NormFloat64()*3 + math.Max(0, rng.ExpFloat64()*2-3)
		}
		box = append(box, Series{Y: vs})
	}
	out[KindBox] = &Chart{Kind: KindBox, Title: "Delivery time by weekday", YLabel: "Hours", Categories: cats, Series: box}

	months := 36
	var area []Series
	mx := make([]float64, months)
	for i := range mx {
		mx[i] = float64(time.Date(2022, time.Month(1+i), 1, 0, 0, 0, 0, time.UTC).Unix())
	}
	for s, name := range []string{"Subscriptions", "Services", "Hardware"} {
		ys := make([]float64, months)
		for i := range ys {
			ys[i] = (40 - 10*float64(s)) * (1 + 0.02*float64(i)*float64(3-s)) * (1 + 0.05*rng.NormFloat64())
		}
		area = append(area, Series{Name: name, X: mx, Y: ys})
	}
	out[KindArea] = &Chart{Kind: KindArea, Title: "Revenue mix", YLabel: "Revenue (k USD)", TimeX: true, Stacked: true, Series: area}

	hours := []string{"00", "03", "06", "09", "12", "15", "18", "21"}
	grid := make([][]float64, len(cats))
	for r := range grid {
		grid[r] = make([]float64, len(hours))
		for c := range grid[r] {
			peak := math.Exp(-math.Pow(float64(c)-4.5, 2) / 4)
			weekend := 1.0
			if r >= 5 {
				weekend = 0.6
			}
			grid[r][c] = math.Round(20 + 180*peak*weekend + rng.Float64()*15)
		}
	}
	grid[6][0] = math.NaN()
	out[KindHeatmap] = &Chart{Kind: KindHeatmap, Title: "Support tickets by hour", XLabel: "Hour of day", Categories: hours, RowLabels: cats, Grid: grid}
	return out
}

// chartExtraSamples are charts that test the layout's limits: many and
// long categories, negative and stacked values, large series.
func chartExtraSamples() map[string]*Chart {
	rng := rand.New(rand.NewPCG(9, 10))
	out := map[string]*Chart{}
	countries := []string{"United States of America", "United Kingdom", "Germany", "France", "Japan", "South Korea",
		"Brazil", "Democratic Republic of the Congo", "India", "Indonesia", "Mexico", "Canada", "Australia",
		"Spain", "Italy", "Netherlands", "Switzerland", "Sweden", "Norway", "Saint Vincent and the Grenadines"}
	ys := make([]float64, len(countries))
	for i := range ys {
		ys[i] = math.Round(rng.Float64() * 900)
	}
	out["extra-bar-long-labels"] = &Chart{Kind: KindBar, Title: "Customers by country", Categories: countries, Series: []Series{{Y: ys}}}
	profit := [][]float64{{120, -40, 80, 60, -90, 30}, {40, 50, -30, 20, 10, -60}}
	out["extra-bar-stacked-negative"] = &Chart{Kind: KindBar, Title: "Profit by quarter and unit", Stacked: true,
		Categories: []string{"Q1", "Q2", "Q3", "Q4", "Q5", "Q6"},
		Series:     []Series{{Name: "Hardware", Y: profit[0]}, {Name: "Software", Y: profit[1]}}}
	many := make([]float64, 300)
	for i := range many {
		many[i] = 50 + 40*math.Sin(float64(i)/20) + rng.Float64()*10
	}
	out["extra-bar-300"] = &Chart{Kind: KindBar, Title: "Three hundred bars", Series: []Series{{Y: many}}}
	out["extra-line-10M"] = chartBenchLine(10_000_000)
	n := 1_000_000
	sx, sy := make([]float64, n), make([]float64, n)
	for i := range sx {
		sx[i] = rng.NormFloat64()
		sy[i] = sx[i]*0.6 + rng.NormFloat64()*0.8
	}
	out["extra-scatter-1M"] = &Chart{Kind: KindScatter, Title: "A million points", Series: []Series{{X: sx, Y: sy}}}
	out["extra-heatmap-big"] = &Chart{Kind: KindHeatmap, Title: "A 400 × 300 grid", Grid: chartBigGrid(400, 300)}
	hours := make([]float64, 6*60)
	hy := make([]float64, len(hours))
	t0 := float64(time.Date(2024, 5, 6, 9, 0, 0, 0, time.UTC).Unix())
	for i := range hours {
		hours[i] = t0 + float64(i)*60
		hy[i] = 0.2 + 0.05*math.Sin(float64(i)/30) + rng.Float64()*0.02
	}
	out["extra-line-hours"] = &Chart{Kind: KindLine, Title: "CPU load, one morning", YLabel: "Load", TimeX: true, Series: []Series{{Name: "cpu", X: hours, Y: hy}}}
	signups := make([]float64, 20000)
	for i := range signups {
		signups[i] = float64(time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC).Unix()) + math.Abs(rng.NormFloat64())*3e7
	}
	out["extra-hist-dates"] = &Chart{Kind: KindHist, Title: "Sign-ups over time", TimeX: true, Series: []Series{{Y: signups}}}
	var overlap []Series
	for s, name := range []string{"Control", "Variant"} {
		vs := make([]float64, 3000)
		for i := range vs {
			vs[i] = rng.NormFloat64()*1.2 + 10 + float64(s)
		}
		overlap = append(overlap, Series{Name: name, Y: vs})
	}
	out["extra-hist-overlap"] = &Chart{Kind: KindHist, Title: "Time to checkout", XLabel: "Minutes", Series: overlap}
	ay := make([]float64, 60)
	for i := range ay {
		ay[i] = 30 + 20*math.Sin(float64(i)/6) + rng.Float64()*5
	}
	var crowd []Series
	for i := range 30 {
		ys := make([]float64, 50)
		for j := range ys {
			ys[j] = float64(i)*3 + math.Sin(float64(j+i)/5)*4
		}
		crowd = append(crowd, Series{Name: fmt.Sprintf("Store number %d in the northern region", i+1), Y: ys})
	}
	out["extra-line-30-series"] = &Chart{Kind: KindLine, Title: "Thirty stores", Series: crowd}
	out["extra-area-single"] = &Chart{Kind: KindArea, Title: "Active users", Series: []Series{{Y: ay}}}
	return out
}

// chartDecode renders c as a PNG and decodes it.
func chartDecode(t *testing.T, c *Chart, st Style) image.Image {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(&buf, "png", st); err != nil {
		t.Fatalf("%s: %v", c.Kind, err)
	}
	img, err := png.Decode(&buf)
	if err != nil {
		t.Fatalf("%s: decoding the PNG: %v", c.Kind, err)
	}
	return img
}

func chartLum(c color.Color) float64 {
	r, g, b, _ := c.RGBA()
	return (0.2126*float64(r) + 0.7152*float64(g) + 0.0722*float64(b)) / 65535
}

func TestChartRenderEveryKind(t *testing.T) {
	samples := chartSamples()
	for _, k := range Kinds {
		for _, dark := range []bool{false, true} {
			c := samples[k]
			st := Style{Dark: dark, Width: 480, Height: 270}
			img := chartDecode(t, c, st)
			if b := img.Bounds(); b.Dx() != 480 || b.Dy() != 270 {
				t.Errorf("%s: image is %v, want 480×270", k, b.Size())
			}
			bg := img.At(0, 0)
			if l := chartLum(bg); dark && l > 0.2 || !dark && l < 0.8 {
				t.Errorf("%s dark=%v: corner luminance %.2f", k, dark, l)
			}
			colours := map[color.Color]bool{}
			other := 0
			b := img.Bounds()
			for y := b.Min.Y; y < b.Max.Y; y++ {
				for x := b.Min.X; x < b.Max.X; x++ {
					c := img.At(x, y)
					colours[c] = true
					if c != bg {
						other++
					}
				}
			}
			if len(colours) < 30 {
				t.Errorf("%s dark=%v: only %d colours", k, dark, len(colours))
			}
			if f := float64(other) / float64(b.Dx()*b.Dy()); f < 0.03 {
				t.Errorf("%s dark=%v: only %.1f%% of pixels drawn", k, dark, 100*f)
			}

			var svg bytes.Buffer
			if err := c.Render(&svg, "svg", st); err != nil {
				t.Fatalf("%s svg: %v", k, err)
			}
			s := svg.String()
			if !strings.HasPrefix(s, "<?xml") || !strings.Contains(s, "<svg") || !strings.HasSuffix(strings.TrimSpace(s), "</svg>") {
				t.Errorf("%s: not an SVG document: %.80q", k, s)
			}
			if !strings.Contains(s, "Liberation Sans',Arial") {
				t.Errorf("%s: SVG text has no font fallback", k)
			}
		}
	}
}

// TestChartSamples writes every kind in both themes to -chart.samples.
func TestChartSamples(t *testing.T) {
	dir := chartFlag("chart.samples")
	if dir == "" {
		t.Skip("no -chart.samples directory")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, c := range chartExtraSamples() {
		if err := WriteChartFile(c, filepath.Join(dir, name+".png"), Style{Width: 960, Height: 540}); err != nil {
			t.Fatal(err)
		}
	}
	for k, c := range chartSamples() {
		for _, dark := range []bool{false, true} {
			theme := "light"
			if dark {
				theme = "dark"
			}
			for _, size := range [][2]int{{960, 540}, {480, 270}} {
				name := filepath.Join(dir, fmt.Sprintf("%s-%s-%d.png", k, theme, size[0]))
				if err := WriteChartFile(c, name, Style{Dark: dark, Width: size[0], Height: size[1]}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}

// chartDiff compares two images: the mean absolute difference of their
// channels (0–255) and the share of pixels where a channel differs by
// more than 64.
func chartDiff(got, want image.Image) (mean, far float64, err error) {
	if got.Bounds().Size() != want.Bounds().Size() {
		return 0, 0, fmt.Errorf("size %v, want %v", got.Bounds().Size(), want.Bounds().Size())
	}
	gb, wb := got.Bounds(), want.Bounds()
	var sum float64
	farPixels := 0
	for y := 0; y < gb.Dy(); y++ {
		for x := 0; x < gb.Dx(); x++ {
			r1, g1, b1, a1 := got.At(gb.Min.X+x, gb.Min.Y+y).RGBA()
			r2, g2, b2, a2 := want.At(wb.Min.X+x, wb.Min.Y+y).RGBA()
			worst := 0.0
			for _, d := range [4][2]uint32{{r1, r2}, {g1, g2}, {b1, b2}, {a1, a2}} {
				v := math.Abs(float64(d[0])-float64(d[1])) / 257
				sum += v
				worst = math.Max(worst, v)
			}
			if worst > 64 {
				farPixels++
			}
		}
	}
	n := float64(gb.Dx() * gb.Dy())
	return sum / (4 * n), float64(farPixels) / n, nil
}

// Golden charts: the same within a tolerance, so that small changes in
// anti-aliasing pass and a changed layout, colour or font does not.
const (
	chartGoldenMean = 1.5   // mean channel difference
	chartGoldenFar  = 0.005 // share of pixels far off
)

func TestChartGolden(t *testing.T) {
	update := chartFlag("update") == "true"
	samples := chartSamples()
	for _, k := range Kinds {
		t.Run(string(k), func(t *testing.T) {
			got := chartDecode(t, samples[k], Style{Width: 480, Height: 270})
			path := filepath.Join("testdata", "chart", string(k)+".png")
			if update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				var buf bytes.Buffer
				enc := png.Encoder{CompressionLevel: png.BestCompression}
				if err := enc.Encode(&buf, got); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatalf("%v (go test ./plotting -run Golden -update writes it)", err)
			}
			defer f.Close()
			want, err := png.Decode(f)
			if err != nil {
				t.Fatal(err)
			}
			mean, far, err := chartDiff(got, want)
			if err != nil {
				t.Fatal(err)
			}
			if mean > chartGoldenMean || far > chartGoldenFar {
				out := filepath.Join(t.TempDir(), string(k)+".png")
				var buf bytes.Buffer
				png.Encode(&buf, got)
				os.WriteFile(out, buf.Bytes(), 0o644)
				t.Errorf("%s differs from %s: mean difference %.2f, %.2f%% of pixels far off; drawn: %s", k, path, mean, 100*far, out)
			}
		})
	}
}

// The comparison tells a different chart from the golden one.
func TestChartDiffSeesChange(t *testing.T) {
	c := chartSamples()[KindBar]
	light := chartDecode(t, c, Style{Width: 480, Height: 270})
	dark := chartDecode(t, c, Style{Width: 480, Height: 270, Dark: true})
	if mean, far, _ := chartDiff(light, light); mean != 0 || far != 0 {
		t.Errorf("an image differs from itself: %v %v", mean, far)
	}
	if mean, far, _ := chartDiff(light, dark); mean <= chartGoldenMean && far <= chartGoldenFar {
		t.Errorf("light and dark pass as the same: %v %v", mean, far)
	}
	moved := *c
	moved.Series = append([]Series(nil), c.Series...)
	moved.Series[0] = Series{Name: "2023", Y: []float64{1e6, 3.1e6, 2.7e6, 0.9e6, 0.6e6, 0.3e6}}
	if mean, far, _ := chartDiff(light, chartDecode(t, &moved, Style{Width: 480, Height: 270})); mean <= chartGoldenMean && far <= chartGoldenFar {
		t.Errorf("a changed bar passes as the same: %v %v", mean, far)
	}
}

func TestChartTimeTicks(t *testing.T) {
	start := time.Date(2023, 3, 4, 9, 17, 0, 0, time.UTC)
	clock := regexp.MustCompile(`^\d\d:\d\d(\n[A-Z][a-z]{2} \d{1,2})?$`)
	day := regexp.MustCompile(`^[A-Z][a-z]{2} \d{1,2}(\n\d{4})?$`)
	month := regexp.MustCompile(`^[A-Z][a-z]{2}( \d{4})?$`)
	year := regexp.MustCompile(`^\d{4}$`)
	for _, tc := range []struct {
		name    string
		span    time.Duration
		formats []*regexp.Regexp
	}{
		{"6 hours", 6 * time.Hour, []*regexp.Regexp{clock}},
		{"10 days", 10 * 24 * time.Hour, []*regexp.Regexp{day}},
		{"3 months", 92 * 24 * time.Hour, []*regexp.Regexp{day, month}},
		{"3 years", 3 * 365 * 24 * time.Hour, []*regexp.Regexp{month, year}},
		{"30 years", 30 * 365 * 24 * time.Hour, []*regexp.Regexp{year}},
	} {
		for _, most := range []int{4, 6, 8, 10} {
			lo := float64(start.Unix())
			hi := float64(start.Add(tc.span).Unix())
			ticks := chartTimeTicks{Max: most}.Ticks(lo, hi)
			var labels []string
			prev := math.Inf(-1)
			for _, tk := range ticks {
				if tk.Value < lo || tk.Value > hi || tk.Value <= prev {
					t.Errorf("%s, at most %d: tick %v out of order or range", tc.name, most, tk.Value)
				}
				prev = tk.Value
				if tk.Label == "" {
					continue
				}
				labels = append(labels, tk.Label)
				ok := false
				for _, f := range tc.formats {
					ok = ok || f.MatchString(tk.Label)
				}
				if !ok {
					t.Errorf("%s, at most %d: label %q is not of the expected form", tc.name, most, tk.Label)
				}
			}
			if len(labels) < 3 || len(labels) > 12 || len(labels) > most+3 {
				t.Errorf("%s, at most %d: %d labelled ticks %q", tc.name, most, len(labels), labels)
			}
		}
	}
	// The year is said on the first tick and where it changes.
	lo := float64(time.Date(2023, 11, 20, 0, 0, 0, 0, time.UTC).Unix())
	hi := float64(time.Date(2024, 2, 10, 0, 0, 0, 0, time.UTC).Unix())
	var labels []string
	for _, tk := range (chartTimeTicks{Max: 4}).Ticks(lo, hi) {
		labels = append(labels, tk.Label)
	}
	if got := strings.Join(labels, ","); got != "Dec 2023,Jan 2024,Feb" {
		t.Errorf("months across a new year: %q", got)
	}
}

func TestChartNumberTicks(t *testing.T) {
	for _, tc := range []struct {
		lo, hi float64
		max    int
		want   string
	}{
		{0, 1, 5, "0,0.25,0.50,0.75,1.00"},
		{0, 0.9, 10, "0,0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9"},
		{0, 0.9, 4, "0,0.25,0.50,0.75"},
		{0, 6e6, 7, "0,1M,2M,3M,4M,5M,6M"},
		{0, 2.5e6, 6, "0,500k,1.0M,1.5M,2.0M,2.5M"},
		{-20000, 20000, 5, "−20k,−10k,0,10k,20k"},
		{1990, 2030, 5, "1990,2000,2010,2020,2030"},
		{0, 3e9, 4, "0,1B,2B,3B"},
		{0, 0.0003, 4, "0,0.0001,0.0002,0.0003"},
	} {
		var labels []string
		for _, tk := range (chartNumberTicks{Max: tc.max}).Ticks(tc.lo, tc.hi) {
			labels = append(labels, tk.Label)
		}
		if got := strings.Join(labels, ","); got != tc.want {
			t.Errorf("ticks of [%g, %g]: %q, want %q", tc.lo, tc.hi, got, tc.want)
		}
	}
	for v, want := range map[float64]string{
		0: "0", 42: "42", 0.1234: "0.123", 1234: "1234", 12345: "12.3k", 4.5e6: "4.5M", -0.5: "−0.5", 2e12: "2T",
	} {
		if got := chartFormatNumber(v); got != want {
			t.Errorf("chartFormatNumber(%v) = %q, want %q", v, got, want)
		}
	}
	// The range is widened to whole ticks, without wasting half the axis.
	if lo, hi, _ := chartNiceRange(1100, 4600, 4, false, false); lo != 1000 || hi != 5000 {
		t.Errorf("nice range of [1100, 4600]: [%v, %v]", lo, hi)
	}
	if lo, hi, _ := chartNiceRange(3, 97, 6, true, false); lo != 0 || hi != 100 {
		t.Errorf("nice range of [3, 97] from zero: [%v, %v]", lo, hi)
	}
}

func TestChartDecimate(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	n := 1_000_000
	xs := make([]float64, n)
	ys := make([]float64, n)
	for i := range xs {
		xs[i] = float64(i) * 0.5
		ys[i] = rng.NormFloat64()
	}
	ys[123457] = 50  // a spike
	ys[876543] = -60 // a dip
	const width = 900
	dx, dy, ok := chartDecimateLine(xs, ys, width)
	if !ok {
		t.Fatal("sorted xs refused")
	}
	if len(dx) != len(dy) || len(dy) > 2*width+2 {
		t.Errorf("%d points from %d for %d columns", len(dy), n, width)
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for i, y := range dy {
		lo, hi = math.Min(lo, y), math.Max(hi, y)
		if i > 0 && dx[i] < dx[i-1] {
			t.Fatalf("decimated xs out of order at %d", i)
		}
	}
	if lo != -60 || hi != 50 {
		t.Errorf("decimated range [%v, %v], want the spike and dip [-60, 50]", lo, hi)
	}
	// Nil xs count 0, 1, 2, … and give the same columns.
	ix, iy, ok := chartDecimateLine(nil, ys, width)
	if !ok || len(iy) != len(dy) || ix[len(ix)-1] != dx[len(dx)-1]*2 {
		t.Errorf("index xs: %d points (ok %v), want %d", len(iy), ok, len(dy))
	}

	// A line already within the budget comes back as it is.
	small := ys[:1000]
	sx, sy, ok := chartDecimateLine(xs[:1000], small, width)
	if !ok || len(sx) != 1000 || &sy[0] != &small[0] {
		t.Errorf("a short line was changed: %d points", len(sy))
	}

	// Gaps wider than a column stay gaps.
	gappy := append([]float64(nil), ys...)
	for i := 400_000; i < 500_000; i++ {
		gappy[i] = math.NaN()
	}
	_, gy, _ := chartDecimateLine(xs, gappy, width)
	gaps := 0
	for _, y := range gy {
		if math.IsNaN(y) {
			gaps++
		}
	}
	if gaps != 1 {
		t.Errorf("%d gaps kept, want 1", gaps)
	}

	// Unsorted xs are refused, to be sorted first.
	xs[500] = -1
	if _, _, ok := chartDecimateLine(xs, ys, width); ok {
		t.Error("unsorted xs accepted")
	}

	// Scatter: one point a cell, keeping the extremes.
	px := make([]float64, 200_000)
	py := make([]float64, 200_000)
	for i := range px {
		px[i], py[i] = rng.NormFloat64(), rng.NormFloat64()
	}
	px[777], py[999] = 40, -40
	keep := chartThinScatter(px, py, -40, 40, -40, 40, 100, 100, 10_000)
	if len(keep) == 0 || len(keep) > 100*100+4 {
		t.Errorf("scatter kept %d points", len(keep))
	}
	has := map[int]bool{}
	for _, k := range keep {
		has[k] = true
	}
	if !has[777] || !has[999] {
		t.Error("scatter thinning lost an extreme point")
	}
	if chartThinScatter(px[:100], py[:100], -4, 4, -4, 4, 10, 10, 10_000) != nil {
		t.Error("a small scatter was thinned")
	}
}

func TestChartHistogramAndBox(t *testing.T) {
	vs := make([]float64, 10_001)
	for i := range vs {
		vs[i] = float64(i) / 100 // 0 … 100
	}
	vs = append(vs, math.NaN(), math.Inf(1))
	bins := chartHistogram([][]float64{vs}, 10, 100)
	total := 0.0
	for _, c := range bins.counts[0] {
		total += c
	}
	if len(bins.edges) != 11 || total != 10_001 || bins.edges[0] != 0 || bins.edges[10] != 100 {
		t.Errorf("10 bins: edges %v, %v values counted", bins.edges, total)
	}
	auto := chartHistogram([][]float64{vs}, 0, 100)
	w := auto.edges[1] - auto.edges[0]
	if n := len(auto.edges) - 1; n < 5 || n > 100 || chartFormatTick(w, w, false) != chartTrimZeros(fmt.Sprint(w)) {
		t.Errorf("automatic bins: %d of width %v", n, w)
	}
	dice := []float64{1, 2, 2, 3, 3, 3, 4, 4, 5, 6}
	db := chartHistogram([][]float64{dice}, 0, 100)
	if db.edges[0] != 0.5 || len(db.counts[0]) != 6 || db.counts[0][2] != 3 {
		t.Errorf("whole numbers: edges %v counts %v", db.edges, db.counts[0])
	}

	box, ok := chartBox(append([]float64{math.NaN(), 100}, 1, 2, 3, 4, 5, 6, 7, 8, 9))
	if !ok || box.med != 5.5 || box.q1 != 3.25 || box.q3 != 7.75 || box.hi != 9 || box.lo != 1 || len(box.outliers) != 1 || box.outliers[0] != 100 {
		t.Errorf("box: %+v", box)
	}
	a := make([]float64, 10_000)
	for i := range a {
		a[i] = float64((i * 7919) % 10_000)
	}
	if q := chartQuantile(a, 0.5); q != 4999.5 {
		t.Errorf("median of 0…9999 = %v", q)
	}
}

func TestChartBadInput(t *testing.T) {
	ok := []Series{{Y: []float64{1, 2, 3}}}
	nan := math.NaN()
	for _, tc := range []struct {
		name  string
		chart *Chart
		style Style
		want  string
	}{
		{"nil chart", nil, Style{}, "no chart"},
		{"no kind", &Chart{Series: ok}, Style{}, "has no kind"},
		{"unknown kind", &Chart{Kind: "pie", Series: ok}, Style{}, "unknown chart kind"},
		{"no series", &Chart{Kind: KindLine}, Style{}, "no series"},
		{"all missing", &Chart{Kind: KindLine, Series: []Series{{Y: []float64{nan, nan}}}}, Style{}, "every value is missing"},
		{"empty values", &Chart{Kind: KindBar, Series: []Series{{}}}, Style{}, "every value is missing"},
		{"x and y lengths", &Chart{Kind: KindScatter, Series: []Series{{X: []float64{1, 2}, Y: []float64{1, 2, 3}}}}, Style{}, "2 x values but 3 y values"},
		{"bar categories", &Chart{Kind: KindBar, Categories: []string{"a", "b"}, Series: ok}, Style{}, "3 values for 2 categories"},
		{"bar lengths", &Chart{Kind: KindBar, Series: []Series{{Y: []float64{1}}, {Y: []float64{1, 2}}}}, Style{}, "one value a category"},
		{"box categories", &Chart{Kind: KindBox, Categories: []string{"a", "b"}, Series: ok}, Style{}, "2 categories but 1 series"},
		{"bins", &Chart{Kind: KindHist, Bins: -3, Series: ok}, Style{}, "bins"},
		{"date range", &Chart{Kind: KindLine, TimeX: true, Series: []Series{{X: []float64{1e300}, Y: []float64{1}}}}, Style{}, "not a date"},
		{"dates on bars", &Chart{Kind: KindBar, TimeX: true, Series: ok}, Style{}, "categories along x"},
		{"stacked x", &Chart{Kind: KindArea, Stacked: true, Series: []Series{{X: []float64{1, 2}, Y: []float64{1, 2}}, {X: []float64{1, 3}, Y: []float64{1, 2}}}}, Style{}, "same x values"},
		{"no grid", &Chart{Kind: KindHeatmap}, Style{}, "no grid"},
		{"ragged grid", &Chart{Kind: KindHeatmap, Grid: [][]float64{{1, 2}, {3}}}, Style{}, "row 2 has 1 values"},
		{"grid labels", &Chart{Kind: KindHeatmap, Grid: [][]float64{{1, 2}}, RowLabels: []string{"a", "b"}}, Style{}, "2 row labels for 1 rows"},
		{"missing grid", &Chart{Kind: KindHeatmap, Grid: [][]float64{{nan}}}, Style{}, "every cell is missing"},
		{"negative size", &Chart{Kind: KindLine, Series: ok}, Style{Width: -5}, "negative"},
		{"tiny", &Chart{Kind: KindLine, Series: ok}, Style{Width: 20, Height: 20}, "too small"},
		{"huge", &Chart{Kind: KindLine, Series: ok}, Style{Width: 9000, Height: 500}, "too large"},
		{"huge scaled", &Chart{Kind: KindLine, Series: ok}, Style{Width: 4000, Height: 500, Scale: 3}, "too large"},
		{"bad DPI", &Chart{Kind: KindLine, Series: ok}, Style{DPI: nan}, "positive numbers"},
		{"DPI and scale", &Chart{Kind: KindLine, Series: ok}, Style{DPI: 96, Scale: 2}, "disagree"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, format := range []string{"png", "svg"} {
				err := tc.chart.Render(&bytes.Buffer{}, format, tc.style)
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s: error %v, want one saying %q", format, err, tc.want)
				}
			}
			if _, err := tc.chart.RenderImage(tc.style); err == nil {
				t.Error("RenderImage: no error")
			}
		})
	}
	if err := (&Chart{Kind: KindLine, Series: ok}).Render(&bytes.Buffer{}, "gif", Style{}); err == nil || !strings.Contains(err.Error(), "png or svg") {
		t.Errorf("gif: %v", err)
	}
}

// Odd but drawable input draws, without a panic.
func TestChartEdgeCases(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, c := range []*Chart{
		{Kind: KindLine, Series: []Series{{Y: []float64{5}}}},
		{Kind: KindLine, Series: []Series{{Y: []float64{1, nan, 3, nan, 5, 6}}}},
		{Kind: KindLine, Series: []Series{{X: []float64{3, 1, nan, 2}, Y: []float64{1, 2, 3, inf}}}},
		{Kind: KindScatter, Series: []Series{{X: []float64{1, 1}, Y: []float64{2, 2}}}},
		{Kind: KindBar, Series: []Series{{Y: []float64{0, 0}}}},
		{Kind: KindBar, Stacked: true, Series: []Series{{Y: []float64{-1, 2}}, {Y: []float64{3, -4}}}},
		{Kind: KindBar, Categories: []string{strings.Repeat("a very long category name ", 4), "b"}, Series: []Series{{Y: []float64{1, 2}}}},
		{Kind: KindBar, Series: []Series{{Y: make([]float64, 3000)}}},
		{Kind: KindHist, Series: []Series{{Y: []float64{7, 7, 7}}}},
		{Kind: KindHist, Bins: 1, Series: []Series{{Y: []float64{1, 2}}}},
		{Kind: KindHist, TimeX: true, Series: []Series{{Y: []float64{1.7e9, 1.71e9, 1.72e9}}}},
		{Kind: KindBox, Series: []Series{{Name: "one", Y: []float64{1}}, {Name: "none", Y: []float64{nan}}}},
		{Kind: KindArea, Series: []Series{{Y: []float64{-1, 2, nan, 4}}}},
		{Kind: KindArea, Stacked: true, Series: []Series{{X: []float64{2, 1, 3}, Y: []float64{1, 2, nan}}, {X: []float64{2, 1, 3}, Y: []float64{1, 1, 1}}}},
		{Kind: KindHeatmap, Grid: [][]float64{{5}}},
		{Kind: KindHeatmap, Grid: chartBigGrid(400, 300)},
		{Kind: KindLine, TimeX: true, Series: []Series{{X: []float64{1.7e9, 1.7e9 + 0.5}, Y: []float64{1, 2}}}},
		{Kind: "Scatter", Title: strings.Repeat("A long title ", 30), Series: []Series{{Y: []float64{1, 2}}}},
	} {
		for _, format := range []string{"png", "svg"} {
			if err := c.Render(&bytes.Buffer{}, format, Style{Width: 480, Height: 270}); err != nil {
				t.Errorf("%s %+v: %v", format, c.Series, err)
			}
		}
	}
}

func chartBigGrid(rows, cols int) [][]float64 {
	g := make([][]float64, rows)
	for r := range g {
		g[r] = make([]float64, cols)
		for c := range g[r] {
			g[r][c] = math.Sin(float64(r)/20) * math.Cos(float64(c)/15)
		}
	}
	return g
}

func TestChartScaleAndFiles(t *testing.T) {
	c := chartSamples()[KindLine]
	for _, st := range []Style{{Scale: 2}, {DPI: 192}, {Width: 480, Height: 270, Scale: 1.5}} {
		img, err := c.RenderImage(st)
		if err != nil {
			t.Fatal(err)
		}
		w, h := st.Width, st.Height
		if w == 0 {
			w, h = 960, 540
		}
		s := math.Max(st.Scale, st.DPI/96)
		if got := img.Bounds().Size(); got.X != int(float64(w)*s) || got.Y != int(float64(h)*s) {
			t.Errorf("%+v: image %v", st, got)
		}
	}

	dir := t.TempDir()
	for _, name := range []string{"chart.png", "chart.SVG"} {
		path := filepath.Join(dir, name)
		if err := WriteChartFile(c, path, Style{Width: 480, Height: 270}); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, "png") {
			if _, err := png.Decode(bytes.NewReader(b)); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		} else if !bytes.Contains(b, []byte("<svg")) {
			t.Errorf("%s is no SVG", name)
		}
	}
	if err := WriteChartFile(c, filepath.Join(dir, "chart.pdf"), Style{}); err == nil || !strings.Contains(err.Error(), ".png or .svg") {
		t.Errorf("pdf: %v", err)
	}
	if err := WriteChartFile(&Chart{Kind: KindLine}, filepath.Join(dir, "bad.png"), Style{}); err == nil {
		t.Error("a bad chart was written")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("left in the directory: %v", entries)
	}
	if _, err := FormatFromPath("noext"); err == nil {
		t.Error("a name without extension has a format")
	}
	if f, err := FormatFromPath("/a/b.Svg"); f != "svg" || err != nil {
		t.Errorf("FormatFromPath(.Svg) = %q, %v", f, err)
	}

	var svg bytes.Buffer
	if err := c.Render(&svg, "svg", Style{EmbedFonts: true, Width: 480, Height: 270}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(svg.String(), "@font-face") {
		t.Error("embedded fonts missing from the SVG")
	}
}

func TestChartParseKind(t *testing.T) {
	for _, k := range Kinds {
		if got, err := ParseKind(" " + strings.ToUpper(string(k)) + " "); got != k || err != nil {
			t.Errorf("ParseKind(%q) = %q, %v", k, got, err)
		}
	}
	if got, _ := ParseKind("histogram"); got != KindHist {
		t.Errorf("histogram: %q", got)
	}
	_, err := ParseKind("pie")
	if err == nil || !strings.Contains(err.Error(), "bar, line, scatter, hist, box, area, heatmap") {
		t.Errorf("pie: %v", err)
	}
}

// Stacked areas stack, with or without x values; a decimated line's axis
// spans all its data.
func TestChartRanges(t *testing.T) {
	ctx := func(c *Chart) *chartCtx {
		return &chartCtx{c: c, th: &chartLight, m: chartNewMetrics(960, 540, 1), plotW: 800, plotH: 400, columns: 800, rows: 400}
	}
	for _, xs := range [][]float64{nil, {10, 11, 12}, {12, 10, 11}} {
		c := &Chart{Kind: KindArea, Stacked: true, Series: []Series{{X: xs, Y: []float64{1, 2, 3}}, {X: xs, Y: []float64{4, 5, math.NaN()}}}}
		b := ctx(c).stackedArea()
		if b.ymin != 0 || b.ymax < 7 || b.ymax > 10 {
			t.Errorf("stacked area over %v: y range [%v, %v], want [0, 7…10]", xs, b.ymin, b.ymax)
		}
	}
	big := chartBenchLine(100_000)
	b := ctx(big).line(false)
	if b.xmin != 0 || b.xmax != 99_999 {
		t.Errorf("decimated line: x range [%v, %v], want [0, 99999]", b.xmin, b.xmax)
	}
	shuffled := &Chart{Kind: KindLine, Series: []Series{{X: []float64{3, 1, 2, math.NaN()}, Y: []float64{30, 10, 20, 40}}}}
	b = ctx(shuffled).line(false)
	if b.xmin != 1 || b.xmax != 3 {
		t.Errorf("unsorted line: x range [%v, %v], want [1, 3]", b.xmin, b.xmax)
	}
}

// A line long enough to be decimated in two halves at once gives the
// same points as one pass, gaps at the join included.
func TestChartDecimateHalves(t *testing.T) {
	n := 1<<20 + 4321
	xs := make([]float64, n)
	ys := make([]float64, n)
	for i := range xs {
		xs[i] = float64(i) * 0.25
		ys[i] = math.Sin(float64(i) / 1000)
	}
	const columns = 700
	for _, gap := range [][2]int{{0, 0}, {n/2 - 5000, n/2 + 5000}, {n/2 - 5000, n / 2}, {n / 2, n/2 + 5000}} {
		g := append([]float64(nil), ys...)
		for i := gap[0]; i < gap[1]; i++ {
			g[i] = math.NaN()
		}
		px, py, ok := chartDecimateLine(xs, g, columns)
		one := chartDecimator{xs: xs, ys: g, x0: 0, step: xs[n-1] / columns, columns: columns}
		one.run(0, n, 0, 0)
		if !ok || !one.ok || len(py) != len(one.oy) {
			t.Fatalf("gap %v: %d points in halves, %d in one pass", gap, len(py), len(one.oy))
		}
		for i := range py {
			if px[i] != one.ox[i] || !(py[i] == one.oy[i] || math.IsNaN(py[i]) && math.IsNaN(one.oy[i])) {
				t.Fatalf("gap %v: point %d differs: (%v, %v) against (%v, %v)", gap, i, px[i], py[i], one.ox[i], one.oy[i])
			}
		}
	}
}
