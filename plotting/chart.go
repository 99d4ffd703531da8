package plotting

// Charts: bar, line, scatter, histogram, box, area and heatmap charts
// drawn with gonum/plot in a Plotline theme, light or dark, to PNG, SVG
// or an image for the window.

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Kind of chart.
type Kind string

// The kinds of chart.
const (
	KindBar     Kind = "bar"
	KindLine    Kind = "line"
	KindScatter Kind = "scatter"
	KindHist    Kind = "hist"
	KindBox     Kind = "box"
	KindArea    Kind = "area"
	KindHeatmap Kind = "heatmap"
)

// Kinds lists every kind of chart.
var Kinds = []Kind{KindBar, KindLine, KindScatter, KindHist, KindBox, KindArea, KindHeatmap}

// ParseKind reads a kind of chart by name, ignoring case and surrounding
// space; "histogram" is also taken for hist.
func ParseKind(s string) (Kind, error) {
	name := strings.ToLower(strings.TrimSpace(s))
	if name == "histogram" {
		name = string(KindHist)
	}
	for _, k := range Kinds {
		if string(k) == name {
			return k, nil
		}
	}
	if name == "" {
		return "", fmt.Errorf("no chart kind given: choose one of %s", chartKindList())
	}
	return "", fmt.Errorf("unknown chart kind %q: choose one of %s", s, chartKindList())
}

func chartKindList() string {
	names := make([]string, len(Kinds))
	for i, k := range Kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// Series is one named set of values.
type Series struct {
	Name string    // legend label; "" for a single unnamed series
	X    []float64 // x values for line/scatter/area (Unix seconds when Chart.TimeX); nil is 0, 1, 2, …; unused for bar/hist/box
	Y    []float64 // values; NaN (or ±Inf) is missing: skipped, and a gap in a line
}

// Chart says what to draw.
type Chart struct {
	Kind   Kind
	Title  string
	XLabel string
	YLabel string
	Series []Series
	// Bar, box: category labels along x; bar Series[i].Y[j] is series i's
	// value in category j (nil Categories are numbered 1, 2, …). Box:
	// Series[j] holds category j's raw values; nil Categories give one box
	// per series, named by Series.Name. Heatmap: the column labels.
	Categories []string
	Stacked    bool // bar, area: stack the series instead of grouping or overlapping them
	TimeX      bool // x values are Unix seconds: a date axis (line, scatter, area, hist)
	Bins       int  // hist: number of bins, 0 = chosen from the data
	// Heatmap: Grid[r][c], row 0 at the top, with RowLabels down the left
	// and Categories as column labels (nil labels are numbered).
	Grid      [][]float64
	RowLabels []string
	// Location is the time zone of date labels; nil is UTC.
	Location *time.Location
}

// Style says how to draw a chart.
//
// Width and Height are the chart's size in pixels at 96 DPI: they set
// the layout (text, lines and spacing grow with them). DPI or Scale makes
// a denser raster of the same layout: a PNG is Width×Scale by
// Height×Scale pixels, so {Width: 960, Height: 540, Scale: 2} (or DPI
// 192) is a 1920×1080 image of the 960×540 chart, for HiDPI screens.
// An SVG is Width×Height pixels (as Width×0.75 by Height×0.75 points)
// whatever the density.
type Style struct {
	Dark   bool    // the dark theme
	Width  int     // pixels at 96 DPI (default 960)
	Height int     // pixels at 96 DPI (default 540)
	DPI    float64 // raster density (default 96, or 96×Scale)
	Scale  float64 // raster pixels per layout pixel (default 1, or DPI/96)
	// EmbedFonts puts the fonts inside an SVG, so it looks the same where
	// Liberation Sans (or Arial) is not installed, at about 1 MB more.
	EmbedFonts bool
}

// Limits on what a chart draws.
const (
	chartDefaultWidth  = 960
	chartDefaultHeight = 540
	chartMinWidth      = 120 // pixels at 96 DPI
	chartMinHeight     = 90
	chartMaxPixels     = 8000 // a side of the raster, in pixels
	chartMaxSeries     = 100
	chartMaxCategories = 5000
	chartMaxGridSide   = 2000
	chartMaxBins       = 1000
)

// chartSize is a checked Style's geometry.
type chartSize struct {
	widthPx, heightPx float64 // layout pixels
	dpi               int     // raster density
}

func (s chartSize) scale() float64 { return float64(s.dpi) / 96 }

// points is the chart's size in points.
func (s chartSize) points() (vg.Length, vg.Length) {
	return vg.Length(s.widthPx) * chartPixel, vg.Length(s.heightPx) * chartPixel
}

// raster is the size of the PNG in pixels.
func (s chartSize) raster() (int, int) {
	return int(s.widthPx*s.scale() + 0.5), int(s.heightPx*s.scale() + 0.5)
}

func (st Style) size() (chartSize, error) {
	w, h := st.Width, st.Height
	if w < 0 || h < 0 {
		return chartSize{}, fmt.Errorf("chart size %d×%d is negative: give a width and height in pixels, or 0 for the default %d×%d", w, h, chartDefaultWidth, chartDefaultHeight)
	}
	if w == 0 {
		w = chartDefaultWidth
	}
	if h == 0 {
		h = chartDefaultHeight
	}
	if w < chartMinWidth || h < chartMinHeight {
		return chartSize{}, fmt.Errorf("chart size %d×%d is too small to read: it needs at least %d×%d pixels", w, h, chartMinWidth, chartMinHeight)
	}
	if math.IsNaN(st.DPI) || math.IsNaN(st.Scale) || st.DPI < 0 || st.Scale < 0 || math.IsInf(st.DPI, 0) || math.IsInf(st.Scale, 0) {
		return chartSize{}, errors.New("chart DPI and scale must be positive numbers, or 0 for the default")
	}
	scale := 1.0
	switch {
	case st.DPI > 0 && st.Scale > 0:
		if math.Abs(st.DPI-96*st.Scale) > 0.5 {
			return chartSize{}, fmt.Errorf("chart DPI %g and scale %g disagree: give one of them (DPI = 96 × scale)", st.DPI, st.Scale)
		}
		scale = st.Scale
	case st.DPI > 0:
		scale = st.DPI / 96
	case st.Scale > 0:
		scale = st.Scale
	}
	dpi := int(math.Round(96 * scale))
	if dpi < 24 {
		return chartSize{}, fmt.Errorf("chart scale %g is too small: it needs at least 0.25 (24 DPI)", scale)
	}
	sz := chartSize{widthPx: float64(w), heightPx: float64(h), dpi: dpi}
	if rw, rh := sz.raster(); rw > chartMaxPixels || rh > chartMaxPixels {
		return chartSize{}, fmt.Errorf("chart of %d×%d pixels is too large: at most %d pixels a side", rw, rh, chartMaxPixels)
	}
	return sz, nil
}

// FormatFromPath returns the image format a file name asks for: "png"
// or "svg".
func FormatFromPath(path string) (string, error) {
	ext := strings.ToLower(filepath.Ext(path))
	switch ext {
	case ".png":
		return "png", nil
	case ".svg":
		return "svg", nil
	case "":
		return "", fmt.Errorf("chart file %q has no extension: name it .png or .svg", filepath.Base(path))
	}
	return "", fmt.Errorf("charts are written as .png or .svg, not %s", ext)
}

// WriteChartFile draws c to path in the format its extension names
// (.png or .svg). The chart is written to a temporary file beside path
// and renamed over it, so path is never left half written.
func WriteChartFile(c *Chart, path string, st Style) (err error) {
	format, err := FormatFromPath(path)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := c.Render(&buf, format, st); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("writing chart: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(buf.Bytes()); err != nil {
		f.Close()
		return fmt.Errorf("writing chart: %w", err)
	}
	if err = f.Chmod(0o644); err != nil {
		f.Close()
		return fmt.Errorf("writing chart: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("writing chart: %w", err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("writing chart: %w", err)
	}
	return nil
}

// Render draws the chart to w as format "png" or "svg".
func (c *Chart) Render(w io.Writer, format string, st Style) error {
	switch strings.ToLower(strings.TrimPrefix(format, ".")) {
	case "png":
		img, err := c.RenderImage(st)
		if err != nil {
			return err
		}
		return chartEncodePNG(w, img)
	case "svg":
		return c.renderSVG(w, st)
	}
	return fmt.Errorf("charts are drawn as png or svg, not %q", format)
}

// RenderImage draws the chart to an image, for showing in a window.
func (c *Chart) RenderImage(st Style) (image.Image, error) {
	sz, err := st.size()
	if err != nil {
		return nil, err
	}
	c, err = c.checked()
	if err != nil {
		return nil, err
	}
	th := chartLight
	if st.Dark {
		th = chartDark
	}
	w, h := sz.points()
	var cv *vgimg.Canvas
	err = chartSafely(func() {
		cv = vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(sz.dpi), vgimg.UseBackgroundColor(th.background))
		c.draw(draw.New(cv), &th, sz)
	})
	if err != nil {
		return nil, err
	}
	return cv.Image(), nil
}

func (c *Chart) renderSVG(out io.Writer, st Style) error {
	sz, err := st.size()
	if err != nil {
		return err
	}
	c, err = c.checked()
	if err != nil {
		return err
	}
	th := chartLight
	if st.Dark {
		th = chartDark
	}
	w, h := sz.points()
	var buf bytes.Buffer
	err = chartSafely(func() {
		cv := vgsvg.NewWith(vgsvg.UseWH(w, h), vgsvg.EmbedFonts(st.EmbedFonts))
		c.draw(draw.New(cv), &th, sz)
		if _, err := cv.WriteTo(&buf); err != nil {
			panic(err)
		}
	})
	if err != nil {
		return err
	}
	// Liberation Sans has the metrics of Arial, so where it is missing
	// Arial or Helvetica keep the layout.
	b := bytes.ReplaceAll(buf.Bytes(), []byte("font-family:Liberation Sans;"),
		[]byte("font-family:'Liberation Sans',Arial,Helvetica,sans-serif;"))
	// Images (a large heatmap, the colour scale) are PNGs, whatever
	// gonum's SVG canvas calls them, and fill their box in sharp pixels.
	b = bytes.ReplaceAll(b, []byte(`xlink:href="data:image/jpg;base64,`), []byte(`xlink:href="data:image/png;base64,`))
	b = bytes.ReplaceAll(b, []byte("<image "), []byte(`<image preserveAspectRatio="none" style="image-rendering:pixelated" `))
	_, err = out.Write(b)
	return err
}

// chartEncodePNG writes img as a PNG.
func chartEncodePNG(w io.Writer, img image.Image) error {
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	return enc.Encode(w, img)
}

// chartSafely runs f, turning a panic into an error.
func chartSafely(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the chart could not be drawn: %v", r)
		}
	}()
	f()
	return nil
}

// seriesName is the legend label of series i.
func (c *Chart) seriesName(i int) string {
	if n := strings.TrimSpace(c.Series[i].Name); n != "" {
		return n
	}
	return fmt.Sprintf("Series %d", i+1)
}

// checked returns a copy of the chart with its kind spelled as a Kind
// constant, or says in plain words why the chart cannot be drawn.
func (c *Chart) checked() (*Chart, error) {
	if c == nil {
		return nil, errors.New("there is no chart to draw")
	}
	k, err := ParseKind(string(c.Kind))
	if err != nil {
		if strings.TrimSpace(string(c.Kind)) == "" {
			return nil, fmt.Errorf("the chart has no kind: choose one of %s", chartKindList())
		}
		return nil, err
	}
	cc := *c
	cc.Kind = k
	if err := cc.check(); err != nil {
		return nil, err
	}
	return &cc, nil
}

// check says, in plain words, why the chart cannot be drawn.
func (c *Chart) check() error {
	if c.Kind == KindHeatmap {
		return c.checkGrid()
	}
	if len(c.Series) == 0 {
		return errors.New("the chart has no series: give it at least one set of values")
	}
	if len(c.Series) > chartMaxSeries {
		return fmt.Errorf("the chart has %d series: at most %d can be told apart", len(c.Series), chartMaxSeries)
	}
	if c.TimeX && (c.Kind == KindBar || c.Kind == KindBox) {
		return fmt.Errorf("a %s chart has categories along x, not dates: a date axis is for line, scatter, area and hist charts", c.Kind)
	}
	finite := 0
	switch c.Kind {
	case KindLine, KindScatter, KindArea:
		for i, s := range c.Series {
			if s.X != nil && len(s.X) != len(s.Y) {
				return fmt.Errorf("series %q has %d x values but %d y values", c.seriesName(i), len(s.X), len(s.Y))
			}
			for j, y := range s.Y {
				x := float64(j)
				if s.X != nil {
					x = s.X[j]
				}
				if !chartFinite(x) || !chartFinite(y) {
					continue
				}
				if c.TimeX && (x < chartMinUnix || x > chartMaxUnix) {
					return fmt.Errorf("series %q: x value %g is not a date (Unix seconds in years 1 to 9999)", c.seriesName(i), x)
				}
				finite++
				if !c.TimeX {
					break // one value is enough to draw
				}
			}
		}
		if c.Kind == KindArea && c.Stacked && len(c.Series) > 1 {
			if err := c.checkSharedX(); err != nil {
				return err
			}
		}
	case KindBar:
		n := len(c.Series[0].Y)
		if c.Categories != nil {
			n = len(c.Categories)
		}
		if n > chartMaxCategories {
			return fmt.Errorf("the chart has %d categories: at most %d fit along an axis", n, chartMaxCategories)
		}
		for i, s := range c.Series {
			if len(s.Y) != n {
				if c.Categories != nil {
					return fmt.Errorf("series %q has %d values for %d categories", c.seriesName(i), len(s.Y), n)
				}
				return fmt.Errorf("series %q has %d values but series %q has %d: bar series need one value a category", c.seriesName(i), len(s.Y), c.seriesName(0), n)
			}
			finite += chartCountFinite(s.Y)
		}
	case KindHist:
		if c.Bins < 0 || c.Bins > chartMaxBins {
			return fmt.Errorf("a histogram takes 1 to %d bins (or 0 to choose), not %d", chartMaxBins, c.Bins)
		}
		for i, s := range c.Series {
			for _, v := range s.Y {
				if !chartFinite(v) {
					continue
				}
				if c.TimeX && (v < chartMinUnix || v > chartMaxUnix) {
					return fmt.Errorf("series %q: value %g is not a date (Unix seconds in years 1 to 9999)", c.seriesName(i), v)
				}
				finite++
			}
		}
	case KindBox:
		if c.Categories != nil && len(c.Categories) != len(c.Series) {
			return fmt.Errorf("a box chart has one series a category: %d categories but %d series", len(c.Categories), len(c.Series))
		}
		for _, s := range c.Series {
			finite += chartCountFinite(s.Y)
		}
	}
	if finite == 0 {
		return errors.New("the chart has no values to draw: every value is missing")
	}
	return nil
}

// checkSharedX says whether stacked areas share their x values.
func (c *Chart) checkSharedX() error {
	first := c.Series[0]
	for i, s := range c.Series[1:] {
		if len(s.Y) != len(first.Y) {
			return fmt.Errorf("stacked areas need the same x values: series %q has %d values but series %q has %d", c.seriesName(i+1), len(s.Y), c.seriesName(0), len(first.Y))
		}
		if (s.X == nil) != (first.X == nil) {
			return fmt.Errorf("stacked areas need the same x values: series %q and %q differ", c.seriesName(i+1), c.seriesName(0))
		}
		for j := range s.X {
			if s.X[j] != first.X[j] && !(math.IsNaN(s.X[j]) && math.IsNaN(first.X[j])) {
				return fmt.Errorf("stacked areas need the same x values: series %q and %q differ at value %d", c.seriesName(i+1), c.seriesName(0), j+1)
			}
		}
	}
	return nil
}

func (c *Chart) checkGrid() error {
	rows := len(c.Grid)
	if rows == 0 {
		return errors.New("the heatmap has no grid: give it rows of values")
	}
	cols := len(c.Grid[0])
	if cols == 0 {
		return errors.New("the heatmap's rows are empty: give each row at least one value")
	}
	if rows > chartMaxGridSide || cols > chartMaxGridSide {
		return fmt.Errorf("the heatmap has %d×%d cells: at most %d rows and columns", rows, cols, chartMaxGridSide)
	}
	finite := 0
	for r, row := range c.Grid {
		if len(row) != cols {
			return fmt.Errorf("heatmap row %d has %d values but row 1 has %d: every row needs one value a column", r+1, len(row), cols)
		}
		finite += chartCountFinite(row)
	}
	if c.RowLabels != nil && len(c.RowLabels) != rows {
		return fmt.Errorf("the heatmap has %d row labels for %d rows", len(c.RowLabels), rows)
	}
	if c.Categories != nil && len(c.Categories) != cols {
		return fmt.Errorf("the heatmap has %d column labels for %d columns", len(c.Categories), cols)
	}
	if finite == 0 {
		return errors.New("the heatmap has no values to draw: every cell is missing")
	}
	return nil
}

func chartCountFinite(vs []float64) int {
	n := 0
	for _, v := range vs {
		if chartFinite(v) {
			n++
		}
	}
	return n
}
