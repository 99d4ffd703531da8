package plotting

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestStreamedChartsMatchWholeTable builds charts chunk by chunk, in many
// small chunks, and from the whole table, and wants the same charts.
func TestStreamedChartsMatchWholeTable(t *testing.T) {
	var b strings.Builder
	b.WriteString("date,region,units,revenue,note\n")
	rng := rand.New(rand.NewPCG(7, 7))
	regions := []string{"North", "South", "East", "West", ""}
	for i := range 3000 {
		day := fmt.Sprintf("2024-%02d-%02d", 1+rng.IntN(12), 1+rng.IntN(28))
		if i%97 == 0 {
			day = "" // a missing date
		}
		rev := fmt.Sprintf("%.2f", rng.Float64()*100)
		if i < 1500 {
			rev = fmt.Sprint(rng.IntN(100)) // ints first, floats later
		}
		if i%53 == 0 {
			rev = "NA"
		}
		fmt.Fprintf(&b, "%s,%s,%d,%s,\"a, b\"\n", day, regions[rng.IntN(len(regions))], rng.IntN(9), rev)
	}
	p := filepath.Join(t.TempDir(), "sales.csv")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	old := frameBlockSize
	frameBlockSize = 1 << 10 // about 25 chunks
	defer func() { frameBlockSize = old }()

	for _, req := range []ChartRequest{
		{X: "region", Y: []string{"revenue"}},
		{X: "region", Y: []string{"revenue", "units"}, Agg: "mean"},
		{X: "region", Y: []string{"units"}, By: "date", Every: "", Kind: KindBar, Agg: "count"},
		{X: "date", Y: []string{"revenue"}},
		{X: "date", Y: []string{"revenue"}, Every: "month", By: "region", Agg: "max"},
		{X: "date", Y: []string{"units"}, Every: "week", Agg: "min", Kind: KindArea},
		{X: "date", Y: []string{"revenue"}, Every: "day", Agg: "mean"},
	} {
		name := fmt.Sprintf("%s by %s/%s every %q %s", req.Y, req.X, req.By, req.Every, req.Agg)
		f, err := ReadFile(p, ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		want, wantErr := BuildChart(f, req)
		opts := ReadOptions{Columns: req.Columns()}
		got, err := streamChart(p, opts, req)
		if wantErr != nil {
			if err == nil {
				t.Errorf("%s: streamed, where the whole table says %v", name, wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: not streamed: %v", name, err)
			continue
		}
		if got.Kind != want.Kind || got.Title != want.Title || got.TimeX != want.TimeX || !slices.Equal(got.Categories, want.Categories) || len(got.Series) != len(want.Series) {
			t.Errorf("%s: streamed %s %q %v %d series; whole %s %q %v %d series", name, got.Kind, got.Title, got.Categories, len(got.Series), want.Kind, want.Title, want.Categories, len(want.Series))
			continue
		}
		for i := range want.Series {
			g, w := got.Series[i], want.Series[i]
			if g.Name != w.Name || !sameFloats(g.X, w.X) || !sameFloats(g.Y, w.Y) {
				t.Errorf("%s: series %d differs:\n got %q %v %v\nwant %q %v %v", name, i, g.Name, g.X, g.Y, w.Name, w.X, w.Y)
			}
		}
	}
}

func sameFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.IsNaN(a[i]) != math.IsNaN(b[i]) || !math.IsNaN(a[i]) && math.Abs(a[i]-b[i]) > 1e-9*math.Max(1, math.Abs(b[i])) {
			return false
		}
	}
	return true
}

// TestChartFileFallsBack reads the whole table for what groups cannot
// give: a median, a scatter, columns left to choose, dates whose order
// only the whole column settles.
func TestChartFileFallsBack(t *testing.T) {
	text := "day,shop,sales\n01/02/2024,A,3\n03/02/2024,B,4\n13/02/2024,A,5\n"
	p := filepath.Join(t.TempDir(), "d.csv")
	os.WriteFile(p, []byte(text), 0o644)
	old := frameBlockSize
	frameBlockSize = 16
	defer func() { frameBlockSize = old }()
	for _, req := range []ChartRequest{
		{X: "shop", Y: []string{"sales"}, Agg: "median"},
		{X: "sales", Y: []string{"sales"}, Kind: KindScatter},
		{X: "day", Y: []string{"sales"}}, // day-first only by its last row
	} {
		if _, err := streamChart(p, ReadOptions{Columns: req.Columns()}, req); err != errNoStream {
			t.Errorf("%+v streamed: %v", req, err)
		}
		c, err := ChartFile(p, ReadOptions{}, req)
		if err != nil || len(c.Series) == 0 {
			t.Errorf("%+v: %v", req, err)
		}
	}
	c, err := ChartFile(p, ReadOptions{}, ChartRequest{X: "day", Y: []string{"sales"}})
	if err != nil || !c.TimeX || len(c.Series[0].X) != 3 {
		t.Fatalf("day-first dates: %+v, %v", c, err)
	}
	if feb13 := 19766.0 * 86400; c.Series[0].X[2] != feb13 {
		t.Errorf("13/02/2024 read as %v", c.Series[0].X[2])
	}
}

func TestBuildChartPicks(t *testing.T) {
	text := "day,shop,sales,units\n2024-01-01,A,3,1\n2024-01-02,B,4,2\n2024-01-02,A,5,3\n"
	f, err := ReadCSVFrame(strings.NewReader(text), int64(len(text)), "t.csv", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		req   ChartRequest
		kind  Kind
		x, y  string
		title string
	}{
		{ChartRequest{}, KindLine, "day", "sales", "Sales by day"},
		{ChartRequest{X: "shop"}, KindBar, "shop", "sales", "Sales by shop"},
		{ChartRequest{X: "sales"}, KindScatter, "sales", "units", "Units against sales"},
		{ChartRequest{X: "units", Y: []string{"sales"}, Kind: KindLine}, KindLine, "units", "mean of sales", "Mean sales by units"},
		{ChartRequest{Y: []string{"sales"}, Kind: KindHist}, KindHist, "sales", "rows", "Distribution of sales"},
		{ChartRequest{X: "shop", Y: []string{"units"}, Agg: "count", Title: "Orders"}, KindBar, "shop", "count", "Orders"},
	} {
		c, err := BuildChart(f, tc.req)
		if err != nil {
			t.Errorf("%+v: %v", tc.req, err)
			continue
		}
		if c.Kind != tc.kind || c.XLabel != tc.x || c.YLabel != tc.y || c.Title != tc.title {
			t.Errorf("%+v: %s of %q by %q titled %q; want %s of %q by %q titled %q", tc.req, c.Kind, c.YLabel, c.XLabel, c.Title, tc.kind, tc.y, tc.x, tc.title)
		}
	}
	one := "v\n1\n2\n2\n"
	f, _ = ReadCSVFrame(strings.NewReader(one), int64(len(one)), "v.csv", ReadOptions{})
	if c, err := BuildChart(f, ChartRequest{X: "v"}); err != nil || c.Kind != KindHist {
		t.Errorf("one column of numbers: %v, %v", c, err)
	}
}
