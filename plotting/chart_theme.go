package plotting

import (
	"image/color"
	"math"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// chartTheme holds the colours of one Plotline theme.
type chartTheme struct {
	dark       bool
	background color.NRGBA
	title      color.NRGBA // title and axis labels
	text       color.NRGBA // tick labels and legend text
	grid       color.NRGBA // horizontal gridlines
	axis       color.NRGBA // the x axis baseline and tick marks
	zero       color.NRGBA // the line at zero when the values cross it
	missing    color.NRGBA // heatmap cells without a value
	palette    []color.NRGBA
}

// chartTableau is the categorical palette: Tableau 10, which stays
// distinguishable for the common forms of colour blindness in its first
// colours and reads on white and on near-black alike.
var chartTableau = []color.NRGBA{
	{0x4E, 0x79, 0xA7, 0xFF}, // blue
	{0xF2, 0x8E, 0x2B, 0xFF}, // orange
	{0xE1, 0x57, 0x59, 0xFF}, // red
	{0x76, 0xB7, 0xB2, 0xFF}, // teal
	{0x59, 0xA1, 0x4F, 0xFF}, // green
	{0xED, 0xC9, 0x48, 0xFF}, // yellow
	{0xB0, 0x7A, 0xA1, 0xFF}, // purple
	{0xFF, 0x9D, 0xA7, 0xFF}, // pink
	{0x9C, 0x75, 0x5F, 0xFF}, // brown
	{0xBA, 0xB0, 0xAC, 0xFF}, // grey
}

var (
	chartLight = chartTheme{
		background: color.NRGBA{0xFF, 0xFF, 0xFF, 0xFF},
		title:      color.NRGBA{0x1F, 0x23, 0x28, 0xFF},
		text:       color.NRGBA{0x57, 0x60, 0x6A, 0xFF},
		grid:       color.NRGBA{0xE8, 0xEB, 0xEE, 0xFF},
		axis:       color.NRGBA{0xAF, 0xB8, 0xC1, 0xFF},
		zero:       color.NRGBA{0x8C, 0x95, 0x9F, 0xFF},
		missing:    color.NRGBA{0xF0, 0xF2, 0xF4, 0xFF},
		palette:    chartTableau,
	}
	chartDark = chartTheme{
		dark:       true,
		background: color.NRGBA{0x1A, 0x1D, 0x22, 0xFF},
		title:      color.NRGBA{0xE6, 0xED, 0xF3, 0xFF},
		text:       color.NRGBA{0xA0, 0xA9, 0xB4, 0xFF},
		grid:       color.NRGBA{0x2C, 0x31, 0x38, 0xFF},
		axis:       color.NRGBA{0x55, 0x5E, 0x69, 0xFF},
		zero:       color.NRGBA{0x7D, 0x86, 0x90, 0xFF},
		missing:    color.NRGBA{0x26, 0x2A, 0x30, 0xFF},
		palette:    chartLighten(chartTableau, 0.16),
	}
)

// chartLighten mixes each colour with white by f, so the palette keeps
// its contrast on a dark background.
func chartLighten(cs []color.NRGBA, f float64) []color.NRGBA {
	out := make([]color.NRGBA, len(cs))
	for i, c := range cs {
		mix := func(v uint8) uint8 { return uint8(math.Round(float64(v) + (255-float64(v))*f)) }
		out[i] = color.NRGBA{mix(c.R), mix(c.G), mix(c.B), c.A}
	}
	return out
}

// color returns the colour of the i'th series.
func (th *chartTheme) color(i int) color.NRGBA {
	return th.palette[i%len(th.palette)]
}

// chartAlpha returns c with opacity a.
func chartAlpha(c color.NRGBA, a float64) color.NRGBA {
	c.A = uint8(math.Round(255 * a))
	return c
}

// chartViridis are evenly spaced stops of the viridis colour map, a
// perceptually uniform sequential scale that also reads in grey.
var chartViridis = []color.NRGBA{
	{0x44, 0x01, 0x54, 0xFF},
	{0x48, 0x24, 0x75, 0xFF},
	{0x41, 0x44, 0x87, 0xFF},
	{0x35, 0x5F, 0x8D, 0xFF},
	{0x2A, 0x78, 0x8E, 0xFF},
	{0x21, 0x91, 0x8C, 0xFF},
	{0x22, 0xA8, 0x84, 0xFF},
	{0x44, 0xBF, 0x70, 0xFF},
	{0x7A, 0xD1, 0x51, 0xFF},
	{0xBD, 0xDF, 0x26, 0xFF},
	{0xFD, 0xE7, 0x25, 0xFF},
}

// chartSequential maps t in [0, 1] onto viridis.
func chartSequential(t float64) color.NRGBA {
	if math.IsNaN(t) || t < 0 {
		t = 0
	}
	if t > 1 {
		t = 1
	}
	f := t * float64(len(chartViridis)-1)
	i := int(f)
	if i >= len(chartViridis)-1 {
		return chartViridis[len(chartViridis)-1]
	}
	a, b := chartViridis[i], chartViridis[i+1]
	w := f - float64(i)
	mix := func(x, y uint8) uint8 { return uint8(math.Round(float64(x)*(1-w) + float64(y)*w)) }
	return color.NRGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 0xFF}
}

// chartLuminance is the relative luminance of c, 0 (black) to 1 (white).
func chartLuminance(c color.NRGBA) float64 {
	lin := func(v uint8) float64 {
		s := float64(v) / 255
		if s <= 0.04045 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*lin(c.R) + 0.7152*lin(c.G) + 0.0722*lin(c.B)
}

// The chart's fonts: Liberation Sans, bundled with gonum/plot and
// registered in font.DefaultCache, so charts look the same on every
// machine and need no system font.
var (
	chartFontRegular = font.Font{Typeface: "Liberation", Variant: "Sans"}
	chartFontBold    = font.Font{Typeface: "Liberation", Variant: "Sans", Weight: xfont.WeightBold}
	chartTextHandler = text.Plain{Fonts: font.DefaultCache}
)

// chartMetrics are the sizes of one chart's parts, scaled with its size.
type chartMetrics struct {
	widthPx, heightPx float64 // layout size in pixels at 96 DPI
	rasterScale       float64 // raster pixels per layout pixel

	px     vg.Length // one layout pixel
	pad    vg.Length // outer padding
	gap    vg.Length // between title, legend and plot
	title  vg.Length // font sizes
	label  vg.Length
	tick   vg.Length
	legend vg.Length
	cell   vg.Length // heatmap annotations
	line   vg.Length // series line width
	grid   vg.Length // gridline width
}

// chartPixel is one pixel at 96 DPI, in points.
const chartPixel = vg.Length(0.75)

func chartNewMetrics(widthPx, heightPx, rasterScale float64) chartMetrics {
	// Text grows more slowly than the chart: a chart twice as wide gets
	// text about 1.4 times as large.
	s := math.Sqrt(math.Min(widthPx/960, heightPx/540))
	s = math.Max(0.72, math.Min(s, 2.5))
	px := chartPixel
	sz := func(v float64) vg.Length { return vg.Length(v*s) * px }
	return chartMetrics{
		widthPx:     widthPx,
		heightPx:    heightPx,
		rasterScale: rasterScale,
		px:          px,
		pad:         sz(20),
		gap:         sz(12),
		title:       sz(19),
		label:       sz(13),
		tick:        sz(12),
		legend:      sz(12.5),
		cell:        sz(11),
		line:        vg.Length(math.Max(1.5, 2*s)) * px,
		grid:        vg.Length(math.Max(1, s)) * px,
	}
}

// chartText returns a text style of the chart's fonts.
func chartText(f font.Font, size vg.Length, c color.Color, xa draw.XAlignment, ya draw.YAlignment) text.Style {
	return text.Style{
		Color:   c,
		Font:    font.From(f, size),
		XAlign:  xa,
		YAlign:  ya,
		Handler: chartTextHandler,
	}
}
