package plotting

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"slices"
	"strings"
	"unicode/utf8"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// chartPlotFunc is a plotter drawn by a function.
type chartPlotFunc func(c draw.Canvas, p *plot.Plot)

// Plot implements plot.Plotter.
func (f chartPlotFunc) Plot(c draw.Canvas, p *plot.Plot) { f(c, p) }

// chartBuilt is a chart's data made ready for gonum/plot.
type chartBuilt struct {
	plotters       []plot.Plotter
	xmin, xmax     float64
	ymin, ymax     float64
	xTicks, yTicks plot.Ticker
	xCategories    bool // x ticks name categories: no tick marks
	yCategories    bool // y ticks name rows: no gridlines
	yLabel         string
	zmin, zmax     float64 // heatmap colour scale
}

// chartCtx is what the builders of each kind share.
type chartCtx struct {
	c            *Chart
	th           *chartTheme
	m            chartMetrics
	plotW, plotH float64 // estimated size of the data area, layout pixels
	columns      int     // raster pixel columns across the data area
	rows         int     // raster pixel rows up the data area
}

// px converts layout pixels to a length.
func (x *chartCtx) px(v float64) vg.Length { return vg.Length(v) * x.m.px }

// The shapes of legend swatches.
const (
	chartSwatchBox = iota
	chartSwatchLine
	chartSwatchDot
	chartSwatchNone // text only
)

type chartLegendEntry struct {
	name  string
	color color.NRGBA
	shape int
}

// legendEntries lists the legend: one entry a series, when there are
// two or more.
func (c *Chart) legendEntries(th *chartTheme) []chartLegendEntry {
	if len(c.Series) < 2 || c.Kind == KindBox || c.Kind == KindHeatmap {
		return nil
	}
	shape := chartSwatchBox
	switch c.Kind {
	case KindLine:
		shape = chartSwatchLine
	case KindScatter:
		shape = chartSwatchDot
	}
	out := make([]chartLegendEntry, len(c.Series))
	for i := range c.Series {
		col := th.color(i)
		if c.Kind == KindHist {
			col = chartAlpha(col, chartHistAlpha)
		}
		out[i] = chartLegendEntry{name: chartTruncate(c.seriesName(i), 40), color: col, shape: shape}
	}
	return out
}

// chartLegendRows lays the entries out in rows no wider than width and
// returns the rows (as end indices) and their total height.
func chartLegendRows(entries []chartLegendEntry, sty text.Style, width vg.Length, m chartMetrics) ([]int, vg.Length) {
	if len(entries) == 0 {
		return nil, 0
	}
	var ends []int
	x := vg.Length(0)
	for i, e := range entries {
		w := chartLegendWidth(e, sty, m)
		if x > 0 && x+w > width {
			ends = append(ends, i)
			x = 0
		}
		x += w + 18*m.px
	}
	ends = append(ends, len(entries))
	return ends, chartLegendRowHeight(sty) * vg.Length(len(ends))
}

// chartLegendWidth is the width of an entry: swatch, gap and name.
func chartLegendWidth(e chartLegendEntry, sty text.Style, m chartMetrics) vg.Length {
	if e.shape == chartSwatchNone {
		return sty.Width(e.name)
	}
	return 18*m.px + sty.Width(e.name)
}

func chartLegendRowHeight(sty text.Style) vg.Length { return sty.Height("Mg") * 1.35 }

// chartMaxLegendRows is the most rows a legend takes: beyond them, names
// are shortened, then the last entries are counted instead of shown.
const chartMaxLegendRows = 3

// chartLegendLayout fits the legend into at most chartMaxLegendRows rows.
func chartLegendLayout(entries []chartLegendEntry, sty text.Style, width vg.Length, m chartMetrics) ([]chartLegendEntry, []int, vg.Length) {
	ends, h := chartLegendRows(entries, sty, width, m)
	if len(ends) <= chartMaxLegendRows {
		return entries, ends, h
	}
	short := make([]chartLegendEntry, len(entries))
	for i, e := range entries {
		short[i] = e
		short[i].name = chartTruncate(e.name, 14)
	}
	for keep := len(short); keep > 0; keep-- {
		shown := short[:keep:keep]
		if keep < len(short) {
			shown = append(shown, chartLegendEntry{name: fmt.Sprintf("+%d more", len(short)-keep), shape: chartSwatchNone})
		}
		if ends, h := chartLegendRows(shown, sty, width, m); len(ends) <= chartMaxLegendRows {
			return shown, ends, h
		}
	}
	return nil, nil, 0
}

// chartDrawLegend draws the legend's rows from the top left of c.
func chartDrawLegend(c draw.Canvas, entries []chartLegendEntry, ends []int, sty text.Style, m chartMetrics) {
	sw, sgap, egap := 12*m.px, 6*m.px, 18*m.px
	rowH := chartLegendRowHeight(sty)
	ext := sty.FontExtents()
	s := sty
	s.XAlign, s.YAlign = draw.XLeft, draw.YBottom
	top := c.Max.Y
	start := 0
	for _, end := range ends {
		x := c.Min.X
		base := top - (rowH-ext.Ascent-ext.Descent)/2 - ext.Ascent
		mid := base + ext.Ascent*0.36
		for _, e := range entries[start:end] {
			switch e.shape {
			case chartSwatchNone:
				c.FillText(s, vg.Point{X: x, Y: base - ext.Descent}, e.name)
				x += sty.Width(e.name) + egap
				continue
			case chartSwatchLine:
				c.StrokeLine2(draw.LineStyle{Color: e.color, Width: 3 * m.px}, x, mid, x+sw, mid)
			case chartSwatchDot:
				c.DrawGlyphNoClip(draw.GlyphStyle{Color: e.color, Radius: sw * 0.4, Shape: draw.CircleGlyph{}}, vg.Point{X: x + sw/2, Y: mid})
			default:
				h := sw * 0.85
				c.FillPolygon(e.color, []vg.Point{
					{X: x, Y: mid - h/2}, {X: x + sw, Y: mid - h/2},
					{X: x + sw, Y: mid + h/2}, {X: x, Y: mid + h/2},
				})
			}
			tx := x + sw + sgap
			c.FillText(s, vg.Point{X: tx, Y: base - ext.Descent}, e.name)
			x = tx + sty.Width(e.name) + egap
		}
		top -= rowH
		start = end
	}
}

// draw draws the chart onto dc.
func (c *Chart) draw(dc draw.Canvas, th *chartTheme, sz chartSize) {
	m := chartNewMetrics(sz.widthPx, sz.heightPx, sz.scale())
	dc.SetColor(th.background)
	dc.Fill(dc.Rectangle.Path())
	area := draw.Crop(dc, m.pad, -m.pad, m.pad, -m.pad)
	width := area.Max.X - area.Min.X

	// The title, left aligned, bold.
	if title := strings.Join(strings.Fields(c.Title), " "); title != "" {
		sty := chartText(chartFontBold, m.title, th.title, draw.XLeft, draw.YTop)
		title = chartFit(sty, title, width)
		area.FillText(sty, vg.Point{X: area.Min.X, Y: area.Max.Y}, title)
		area.Max.Y -= sty.Height(title) + m.gap
	}

	// A band below the title holds the legend or the colour scale.
	legendSty := chartText(chartFontRegular, m.legend, th.text, draw.XLeft, draw.YTop)
	entries := c.legendEntries(th)
	entries, ends, band := chartLegendLayout(entries, legendSty, width, m)
	tickSty := chartText(chartFontRegular, m.tick, th.text, draw.XCenter, draw.YTop)
	if c.Kind == KindHeatmap {
		band = tickSty.Height("0") * 1.3
	}
	bandArea := area
	if band > 0 {
		area.Max.Y -= band + m.gap
	}

	// Estimate the data area for tick spacing and decimation.
	toPx := func(l vg.Length) float64 { return float64(l / m.px) }
	plotW := toPx(area.Max.X-area.Min.X) - 64*m.fontScale()
	plotH := toPx(area.Max.Y-area.Min.Y) - 40*m.fontScale()
	if c.XLabel != "" {
		plotH -= 20 * m.fontScale()
	}
	plotW, plotH = math.Max(plotW, 40), math.Max(plotH, 30)
	ctx := &chartCtx{
		c: c, th: th, m: m, plotW: plotW, plotH: plotH,
		columns: max(1, int(plotW*m.rasterScale)),
		rows:    max(1, int(plotH*m.rasterScale)),
	}
	var b chartBuilt
	switch c.Kind {
	case KindBar:
		b = ctx.bar()
	case KindLine:
		b = ctx.line(false)
	case KindArea:
		if c.Stacked && len(c.Series) > 1 {
			b = ctx.stackedArea()
		} else {
			b = ctx.line(true)
		}
	case KindScatter:
		b = ctx.scatter()
	case KindHist:
		b = ctx.hist()
	case KindBox:
		b = ctx.box()
	case KindHeatmap:
		b = ctx.heatmap()
	}

	if len(entries) > 0 {
		chartDrawLegend(bandArea, entries, ends, legendSty, m)
	}
	if c.Kind == KindHeatmap {
		chartDrawColorScale(bandArea, b.zmin, b.zmax, tickSty, m)
	}

	p := ctx.newPlot(&b)
	p.Draw(area)
}

// fontScale is how much the text grew from a 960×540 chart.
func (m chartMetrics) fontScale() float64 { return float64(m.tick / (12 * m.px)) }

// newPlot makes the gonum plot of b in the Plotline theme.
func (x *chartCtx) newPlot(b *chartBuilt) *plot.Plot {
	th, m, c := x.th, x.m, x.c
	p := plot.New()
	p.BackgroundColor = nil
	p.TextHandler = chartTextHandler

	labelSty := chartText(chartFontRegular, m.label, th.title, draw.XCenter, draw.YBottom)
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Label.TextStyle = labelSty
		ax.Label.Padding = m.gap * 0.6
		ax.Tick.Label = chartText(chartFontRegular, m.tick, th.text, draw.XCenter, draw.YTop)
		ax.Tick.LineStyle = draw.LineStyle{Color: th.axis, Width: m.grid}
		ax.LineStyle = draw.LineStyle{Color: th.axis, Width: m.grid}
		ax.Padding = 0
	}
	p.X.Label.Text = strings.TrimSpace(c.XLabel)
	p.Y.Label.Text = strings.TrimSpace(c.YLabel)
	if p.Y.Label.Text == "" {
		p.Y.Label.Text = b.yLabel
	}
	p.Y.Tick.Label.XAlign, p.Y.Tick.Label.YAlign = draw.XRight, chartMiddle(p.Y.Tick.Label, true)
	p.X.Tick.Length = 5 * m.px
	p.Y.Tick.Length = 0
	p.Y.LineStyle = draw.LineStyle{Color: color.Transparent}
	p.Y.Width = 0
	p.Y.Padding = 6 * m.px
	p.X.Padding = 0
	if b.xCategories {
		// No tick marks, but the room they take keeps labels off the axis.
		p.X.Tick.LineStyle = draw.LineStyle{Color: color.Transparent, Width: m.grid}
	}
	if c.Kind == KindHeatmap {
		p.X.LineStyle = draw.LineStyle{Color: color.Transparent}
		p.X.Width = 0
		p.Y.Padding = 2 * m.px
	}
	if c.Kind == KindScatter {
		p.X.Padding = 6 * m.px
	}
	if ct, ok := b.xTicks.(chartCategoryTicks); ok && ct.rotated {
		p.X.Tick.Label.Rotation = math.Pi / 4
		p.X.Tick.Label.XAlign, p.X.Tick.Label.YAlign = draw.XRight, draw.YTop
	}

	if !b.yCategories {
		p.Add(chartPlotFunc(x.gridlines))
	}
	p.Add(b.plotters...)
	p.X.Min, p.X.Max = b.xmin, b.xmax
	p.Y.Min, p.Y.Max = b.ymin, b.ymax
	p.X.Tick.Marker = b.xTicks
	p.Y.Tick.Marker = b.yTicks
	return p
}

// gridlines draws light horizontal lines at the labelled y ticks, and a
// stronger one at zero when the values cross it.
func (x *chartCtx) gridlines(c draw.Canvas, p *plot.Plot) {
	_, trY := p.Transforms(&c)
	grid := draw.LineStyle{Color: x.th.grid, Width: x.m.grid}
	for _, t := range p.Y.Tick.Marker.Ticks(p.Y.Min, p.Y.Max) {
		if t.IsMinor() || t.Value <= p.Y.Min || t.Value > p.Y.Max {
			continue
		}
		y := trY(t.Value)
		c.StrokeLine2(grid, c.Min.X, y, c.Max.X, y)
	}
	if p.Y.Min < 0 && p.Y.Max > 0 && x.c.Kind != KindHeatmap && x.c.Kind != KindBox && x.c.Kind != KindScatter {
		y := trY(0)
		c.StrokeLine2(draw.LineStyle{Color: x.th.zero, Width: x.m.grid}, c.Min.X, y, c.Max.X, y)
	}
}

// xTicker is the ticker of a numeric or date x axis.
func (x *chartCtx) xTicker(integer bool) plot.Ticker {
	if x.c.TimeX {
		return chartTimeTicks{Max: min(max(int(x.plotW/95), 3), 10), Location: x.c.Location}
	}
	return chartNumberTicks{Max: min(max(int(x.plotW/90), 2), 12), Integer: integer}
}

// yTickCount is how many labelled ticks fit up the y axis.
func (x *chartCtx) yTickCount() int {
	return min(max(int(x.plotH/(52*x.m.fontScale())), 3), 10)
}

// yAxis sets b's y range to [lo, hi] widened to nice ticks.
func (x *chartCtx) yAxis(b *chartBuilt, lo, hi float64, zero, integer bool) {
	n := x.yTickCount()
	var step float64
	b.ymin, b.ymax, step = chartNiceRange(lo, hi, n, zero, integer)
	b.yTicks = chartNumberTicks{Max: n, Integer: integer, Step: step}
}

// chartXY is a series' points ready to draw.
type chartXY struct {
	xs, ys []float64
}

// chartLinePoints returns series s's points in x order, without points
// whose x is missing.
func chartLinePoints(s Series) chartXY {
	idx := chartOrder(s.X, len(s.Y))
	out := chartXY{make([]float64, len(idx)), make([]float64, len(idx))}
	for j, i := range idx {
		out.xs[j], out.ys[j] = chartXAt(s.X, i), s.Y[i]
	}
	return out
}

// chartSegments splits points at missing y values into runs.
func chartSegments(xs, ys []float64) []plotter.XYs {
	var out []plotter.XYs
	start := -1
	for i := 0; i <= len(ys); i++ {
		if i < len(ys) && chartFinite(ys[i]) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			seg := make(plotter.XYs, i-start)
			for j := range seg {
				seg[j].X, seg[j].Y = xs[start+j], ys[start+j]
			}
			out = append(out, seg)
			start = -1
		}
	}
	return out
}

// line builds a line chart, or with area an area chart whose series
// overlap.
func (x *chartCtx) line(area bool) chartBuilt {
	c, th, m := x.c, x.th, x.m
	var b chartBuilt
	xlo, xhi, ylo, yhi := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	integerX := !c.TimeX
	var fills, lines []plot.Plotter
	for i, s := range c.Series {
		// The axis spans the data's xs, not only the points drawn.
		xs, ys, ok := chartDecimateLine(s.X, s.Y, x.columns)
		if ok && len(s.Y) > 0 {
			xlo, xhi = math.Min(xlo, chartXAt(s.X, 0)), math.Max(xhi, chartXAt(s.X, len(s.Y)-1))
		}
		if !ok {
			pts := chartLinePoints(s)
			xs, ys, _ = chartDecimateLine(pts.xs, pts.ys, x.columns)
			if n := len(pts.xs); n > 0 {
				xlo, xhi = math.Min(xlo, pts.xs[0]), math.Max(xhi, pts.xs[n-1])
			}
		}
		segs := chartSegments(xs, ys)
		col := th.color(i)
		for _, seg := range segs {
			for _, p := range seg {
				xlo, xhi = math.Min(xlo, p.X), math.Max(xhi, p.X)
				ylo, yhi = math.Min(ylo, p.Y), math.Max(yhi, p.Y)
				if integerX && p.X != math.Trunc(p.X) {
					integerX = false
				}
			}
			if area {
				fills = append(fills, x.fillBetween(seg, nil, chartAlpha(col, chartAreaAlpha(len(c.Series)))))
			}
			if len(seg) == 1 {
				// A point between gaps shows as a dot.
				sc, err := plotter.NewScatter(seg)
				if err != nil {
					panic(err)
				}
				sc.GlyphStyle = draw.GlyphStyle{Color: col, Radius: m.line * 1.3, Shape: draw.CircleGlyph{}}
				lines = append(lines, sc)
				continue
			}
			lines = append(lines, chartLine(seg, draw.LineStyle{Color: col, Width: m.line}))
		}
	}
	b.plotters = append(fills, lines...)
	if xlo == xhi {
		xlo, xhi = xlo-1, xhi+1
	}
	b.xmin, b.xmax = xlo, xhi
	b.xTicks = x.xTicker(integerX)
	x.yAxis(&b, ylo, yhi, area, false)
	return b
}

// chartAreaAlpha is the fill opacity of overlapping areas.
func chartAreaAlpha(n int) float64 {
	if n == 1 {
		return 0.3
	}
	return 0.2
}

// fillBetween fills the area between the line top and the line bottom
// (nil: zero) with col.
func (x *chartCtx) fillBetween(top, bottom plotter.XYs, col color.Color) plot.Plotter {
	return chartPlotFunc(func(c draw.Canvas, p *plot.Plot) {
		trX, trY := p.Transforms(&c)
		pts := make([]vg.Point, 0, len(top)+len(bottom)+2)
		for _, q := range top {
			pts = append(pts, vg.Point{X: trX(q.X), Y: trY(q.Y)})
		}
		if bottom == nil {
			z := trY(0)
			pts = append(pts, vg.Point{X: trX(top[len(top)-1].X), Y: z}, vg.Point{X: trX(top[0].X), Y: z})
		} else {
			for i := len(bottom) - 1; i >= 0; i-- {
				pts = append(pts, vg.Point{X: trX(bottom[i].X), Y: trY(bottom[i].Y)})
			}
		}
		c.FillPolygon(col, c.ClipPolygonXY(pts))
	})
}

// stackedArea builds an area chart with the series stacked on each other.
func (x *chartCtx) stackedArea() chartBuilt {
	c, th, m := x.c, x.th, x.m
	var b chartBuilt
	// Every series in the x order of the first (they share their xs).
	order := chartOrder(c.Series[0].X, len(c.Series[0].Y))
	xs := make([]float64, len(order))
	for j, k := range order {
		xs[j] = chartXAt(c.Series[0].X, k)
	}
	layers := make([][]float64, len(c.Series))
	run := make([]float64, len(xs))
	for i, s := range c.Series {
		layer := make([]float64, len(xs))
		for j, k := range order {
			if v := s.Y[k]; chartFinite(v) {
				run[j] += v
			}
			layer[j] = run[j]
		}
		layers[i] = layer
	}
	pick := chartDecimateStack(xs, layers, x.columns)
	sel := func(vs []float64) plotter.XYs {
		if pick == nil {
			out := make(plotter.XYs, len(vs))
			for j := range vs {
				out[j].X, out[j].Y = xs[j], vs[j]
			}
			return out
		}
		out := make(plotter.XYs, len(pick))
		for j, k := range pick {
			out[j].X, out[j].Y = xs[k], vs[k]
		}
		return out
	}
	ylo, yhi := 0.0, 0.0
	var fills, lines []plot.Plotter
	var below plotter.XYs
	integerX := !c.TimeX
	fillAlpha := 0.82
	if th.dark {
		fillAlpha = 0.9
	}
	for i, l := range layers {
		top := sel(l)
		for _, q := range top {
			ylo, yhi = math.Min(ylo, q.Y), math.Max(yhi, q.Y)
			if integerX && q.X != math.Trunc(q.X) {
				integerX = false
			}
		}
		col := th.color(i)
		fills = append(fills, x.fillBetween(top, below, chartAlpha(col, fillAlpha)))
		if len(top) > 1 {
			lines = append(lines, chartLine(top, draw.LineStyle{Color: col, Width: m.grid * 1.5}))
		}
		below = top
	}
	b.plotters = append(fills, lines...)
	b.xmin, b.xmax = xs[0], xs[len(xs)-1]
	if b.xmin == b.xmax {
		b.xmin, b.xmax = b.xmin-1, b.xmax+1
	}
	b.xTicks = x.xTicker(integerX)
	x.yAxis(&b, ylo, yhi, true, false)
	return b
}

// chartOrder returns the indices of the finite xs in ascending order of
// x; nil xs are 0, 1, … n-1, in order.
func chartOrder(xs []float64, n int) []int {
	idx := make([]int, 0, n)
	for i := range n {
		if chartFinite(chartXAt(xs, i)) {
			idx = append(idx, i)
		}
	}
	if xs == nil {
		return idx
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case xs[a] < xs[b]:
			return -1
		case xs[a] > xs[b]:
			return 1
		}
		return 0
	})
	return idx
}

// scatter builds a scatter chart.
func (x *chartCtx) scatter() chartBuilt {
	c, th := x.c, x.th
	var b chartBuilt
	all := make([]chartXY, len(c.Series))
	total := 0
	xlo, xhi, ylo, yhi := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	integerX := !c.TimeX
	for i, s := range c.Series {
		xs := s.X
		if xs == nil {
			xs = make([]float64, len(s.Y))
			for j := range xs {
				xs[j] = float64(j)
			}
		}
		ok := 0
		for j, y := range s.Y {
			xv := xs[j]
			if xv-xv != 0 || y-y != 0 { // not finite
				continue
			}
			ok++
			xlo, xhi = math.Min(xlo, xv), math.Max(xhi, xv)
			ylo, yhi = math.Min(ylo, y), math.Max(yhi, y)
			if integerX && xv != math.Trunc(xv) {
				integerX = false
			}
		}
		pts := chartXY{xs, s.Y}
		if ok < len(s.Y) {
			pts = chartXY{make([]float64, 0, ok), make([]float64, 0, ok)}
			for j, y := range s.Y {
				if chartFinite(xs[j]) && chartFinite(y) {
					pts.xs = append(pts.xs, xs[j])
					pts.ys = append(pts.ys, y)
				}
			}
		}
		all[i] = pts
		total += len(pts.xs)
	}
	radius, alpha := 4.0, 0.85
	switch {
	case total > 20000:
		radius, alpha = 1.6, 0.5
	case total > 2000:
		radius, alpha = 2.2, 0.6
	case total > 200:
		radius, alpha = 3, 0.75
	}
	if xlo == xhi {
		xlo, xhi = xlo-1, xhi+1
	}
	x.yAxis(&b, ylo, yhi, false, false)
	padX := (xhi - xlo) * 0.02
	b.xmin, b.xmax = xlo-padX, xhi+padX
	b.xTicks = x.xTicker(integerX)
	// Thin to one point a cell a little smaller than a dot.
	cell := math.Max(1, radius*1.25*x.m.rasterScale)
	cols, rows := int(float64(x.columns)/cell)+1, int(float64(x.rows)/cell)+1
	for i, pts := range all {
		if len(pts.xs) == 0 {
			continue
		}
		keep := chartThinScatter(pts.xs, pts.ys, b.xmin, b.xmax, b.ymin, b.ymax, cols, rows, 20000)
		var xys plotter.XYs
		if keep == nil {
			xys = make(plotter.XYs, len(pts.xs))
			for j := range xys {
				xys[j].X, xys[j].Y = pts.xs[j], pts.ys[j]
			}
		} else {
			xys = make(plotter.XYs, len(keep))
			for j, k := range keep {
				xys[j].X, xys[j].Y = pts.xs[k], pts.ys[k]
			}
		}
		b.plotters = append(b.plotters, &chartDots{xys: xys, color: chartAlpha(th.color(i), alpha), radius: x.px(radius)})
	}
	return b
}

// chartDots draws a scatter series' dots, several to a path: a path is
// filled in one go, which for many small dots is many times faster than
// a fill a dot. Dots of one path that overlap do not darken each other;
// dots of one series are rarely near each other in a path of a few.
type chartDots struct {
	xys    plotter.XYs
	color  color.Color
	radius vg.Length
}

// chartDotsAPath is how many dots are filled together.
const chartDotsAPath = 24

// Plot implements plot.Plotter.
func (d *chartDots) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	c.SetColor(d.color)
	r := d.radius
	round := r > 4*chartPixel
	path := make(vg.Path, 0, chartDotsAPath*14)
	k := 0
	for _, q := range d.xys {
		pt := vg.Point{X: trX(q.X), Y: trY(q.Y)}
		if !c.Contains(pt) {
			continue
		}
		if round {
			path.Move(vg.Point{X: pt.X + r, Y: pt.Y})
			path.Arc(pt, r, 0, 2*math.Pi)
		} else {
			// A 12-gon looks round at this size and fills faster.
			for i, sc := range chartUnitCircle {
				v := vg.Point{X: pt.X + r*vg.Length(sc[1]), Y: pt.Y + r*vg.Length(sc[0])}
				if i == 0 {
					path.Move(v)
				} else {
					path.Line(v)
				}
			}
		}
		path.Close()
		if k++; k == chartDotsAPath {
			c.Fill(path)
			path, k = path[:0], 0
		}
	}
	if k > 0 {
		c.Fill(path)
	}
}

// GlyphBoxes implements plot.GlyphBoxer for the outermost dots, so that
// the plot leaves room for them.
func (d *chartDots) GlyphBoxes(p *plot.Plot) []plot.GlyphBox {
	if len(d.xys) == 0 {
		return nil
	}
	ext := [4]int{}
	for i, q := range d.xys {
		if q.X < d.xys[ext[0]].X {
			ext[0] = i
		}
		if q.X > d.xys[ext[1]].X {
			ext[1] = i
		}
		if q.Y < d.xys[ext[2]].Y {
			ext[2] = i
		}
		if q.Y > d.xys[ext[3]].Y {
			ext[3] = i
		}
	}
	boxes := make([]plot.GlyphBox, 4)
	for j, i := range ext {
		boxes[j] = plot.GlyphBox{
			X: p.X.Norm(d.xys[i].X), Y: p.Y.Norm(d.xys[i].Y),
			Rectangle: vg.Rectangle{Min: vg.Point{X: -d.radius, Y: -d.radius}, Max: vg.Point{X: d.radius, Y: d.radius}},
		}
	}
	return boxes
}

var chartUnitCircle = func() (out [12][2]float64) {
	for i := range out {
		out[i][0], out[i][1] = math.Sincos(2 * math.Pi * float64(i) / 12)
	}
	return out
}()

// hist builds a histogram; several series share the bins and overlap.
func (x *chartCtx) hist() chartBuilt {
	c, th, m := x.c, x.th, x.m
	var b chartBuilt
	vals := make([][]float64, len(c.Series))
	for i, s := range c.Series {
		vals[i] = s.Y
	}
	bins := chartHistogram(vals, c.Bins, min(max(int(x.plotW/8), 10), 120))
	nb := len(bins.edges) - 1
	binPx := x.plotW / float64(nb)
	outline := draw.LineStyle{Color: th.background, Width: m.px}
	if binPx < 4 {
		outline = draw.LineStyle{Color: color.Transparent}
	}
	alpha := 1.0
	if len(c.Series) > 1 {
		alpha = chartHistAlpha
	}
	yhi := 0.0
	for i, counts := range bins.counts {
		hb := make([]plotter.HistogramBin, nb)
		for j := range hb {
			hb[j] = plotter.HistogramBin{Min: bins.edges[j], Max: bins.edges[j+1], Weight: counts[j]}
			yhi = math.Max(yhi, counts[j])
		}
		h := &plotter.Histogram{
			Bins:      hb,
			Width:     bins.edges[1] - bins.edges[0],
			FillColor: chartAlpha(th.color(i), alpha),
			LineStyle: outline,
		}
		b.plotters = append(b.plotters, h)
	}
	b.xmin, b.xmax = bins.edges[0], bins.edges[nb]
	b.xTicks = x.xTicker(false)
	x.yAxis(&b, 0, yhi, true, true)
	b.yLabel = "Count"
	return b
}

// chartHistAlpha is the opacity of overlapping histograms.
const chartHistAlpha = 0.55

// bar builds a bar chart, grouped or stacked.
func (x *chartCtx) bar() chartBuilt {
	c, th, m := x.c, x.th, x.m
	var b chartBuilt
	n := len(c.Series[0].Y)
	k := len(c.Series)
	labels := c.Categories
	if labels == nil {
		labels = chartNumbered(n)
	}
	stacked := c.Stacked && k > 1
	ylo, yhi := 0.0, 0.0
	if stacked {
		for j := range n {
			pos, neg := 0.0, 0.0
			for _, s := range c.Series {
				if v := s.Y[j]; chartFinite(v) {
					if v >= 0 {
						pos += v
					} else {
						neg += v
					}
				}
			}
			ylo, yhi = math.Min(ylo, neg), math.Max(yhi, pos)
		}
	} else {
		for _, s := range c.Series {
			for _, v := range s.Y {
				if chartFinite(v) {
					ylo, yhi = math.Min(ylo, v), math.Max(yhi, v)
				}
			}
		}
	}
	group := 0.8
	if k == 1 || stacked {
		group = 0.7
	}
	slots := k
	if stacked {
		slots = 1
	}
	slot := group / float64(slots)
	slotPx := x.plotW / float64(n) * slot
	gap := vg.Length(0)
	if slots > 1 && slotPx > 6 {
		gap = m.px * vg.Length(math.Min(2, slotPx/8))
	}
	b.plotters = append(b.plotters, chartPlotFunc(func(cv draw.Canvas, p *plot.Plot) {
		trX, trY := p.Transforms(&cv)
		rect := func(x0, x1, y0, y1 float64, col color.Color) {
			l, r := trX(x0)+gap/2, trX(x1)-gap/2
			if r-l < m.px*0.5 {
				mid := (l + r) / 2
				l, r = mid-m.px*0.25, mid+m.px*0.25
			}
			bt, tp := trY(y0), trY(y1)
			cv.FillPolygon(col, cv.ClipPolygonXY([]vg.Point{{X: l, Y: bt}, {X: r, Y: bt}, {X: r, Y: tp}, {X: l, Y: tp}}))
		}
		for j := range n {
			left := float64(j) - group/2
			pos, neg := 0.0, 0.0
			for i, s := range c.Series {
				v := s.Y[j]
				if !chartFinite(v) {
					continue
				}
				col := th.color(i)
				if stacked {
					if v >= 0 {
						rect(left, left+group, pos, pos+v, col)
						pos += v
					} else {
						rect(left, left+group, neg, neg+v, col)
						neg += v
					}
					continue
				}
				x0 := left + float64(i)*slot
				rect(x0, x0+slot, 0, v, col)
			}
		}
	}))
	b.xmin, b.xmax = -0.5, float64(n)-0.5
	b.xTicks = x.categoryTicks(labels, c.Categories == nil)
	b.xCategories = true
	x.yAxis(&b, ylo, yhi, true, false)
	return b
}

// chartNumbered labels n categories 1, 2, …
func chartNumbered(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = chartFormatNumber(float64(i + 1))
	}
	return out
}

// chartCategoryTicks names the categories along an axis.
type chartCategoryTicks struct {
	ticks   plot.ConstantTicks
	rotated bool
}

// Ticks implements plot.Ticker.
func (t chartCategoryTicks) Ticks(float64, float64) []plot.Tick { return t.ticks }

// categoryTicks labels the categories along the x axis: level when they
// fit; when they do not, level but only every k'th if the labels are
// short (numbered categories always), else turned 45° and shortened, and
// thinned if even that is too crowded. Numbered categories are labelled
// at round numbers.
func (x *chartCtx) categoryTicks(labels []string, numbered bool) chartCategoryTicks {
	sty := chartText(chartFontRegular, x.m.tick, x.th.text, draw.XCenter, draw.YTop)
	space := x.px(x.plotW / float64(len(labels)))
	widest := vg.Length(0)
	clean := make([]string, len(labels))
	for i, l := range labels {
		clean[i] = chartTruncate(strings.Join(strings.Fields(l), " "), 28)
		widest = max(widest, sty.Width(clean[i]))
	}
	out := chartCategoryTicks{}
	every := int(math.Ceil(float64((widest + x.px(10)) / space)))
	if every > 1 {
		short := vg.Length(0)
		for i, l := range clean {
			clean[i] = chartTruncate(l, 16)
			short = max(short, sty.Width(clean[i]))
		}
		pitch := sty.Height("Mg") * 1.2 / vg.Length(math.Sin(math.Pi/4))
		turned := int(math.Ceil(float64(pitch / space)))
		level := int(math.Ceil(float64((short + x.px(10)) / space)))
		if numbered || level <= 2*turned {
			every = level
		} else {
			out.rotated = true
			every = turned
		}
	}
	out.ticks = chartThinTicks(clean, every, numbered, func(i int) float64 { return float64(i) })
	return out
}

// chartThinTicks labels every k'th of labels, at round numbers for
// numbered labels; the others get unlabelled ticks.
func chartThinTicks(labels []string, every int, numbered bool, at func(int) float64) plot.ConstantTicks {
	if numbered {
		every = chartRoundUp(every)
	}
	ticks := make(plot.ConstantTicks, len(labels))
	for i, l := range labels {
		ticks[i] = plot.Tick{Value: at(i)}
		show := i%every == 0
		if numbered && every > 1 {
			show = (i+1)%every == 0 || i == 0 && every >= 5
		}
		if show {
			ticks[i].Label = l
		}
	}
	return ticks
}

// chartRoundUp rounds k up to 1, 2 or 5 times a power of ten, or 25.
func chartRoundUp(k int) int {
	for mag := 1; ; mag *= 10 {
		for _, m := range []int{1, 2, 5} {
			if m*mag >= k {
				return m * mag
			}
			if m == 2 && mag >= 10 && 25*mag/10 >= k {
				return 25 * mag / 10
			}
		}
		if mag > 1e8 {
			return k
		}
	}
}

// rowTicks labels rows up the y axis, row 0 at the top, thinned to fit.
func (x *chartCtx) rowTicks(labels []string, numbered bool) plot.Ticker {
	sty := chartText(chartFontRegular, x.m.tick, x.th.text, draw.XRight, draw.YCenter)
	n := len(labels)
	space := x.px(x.plotH / float64(n))
	every := max(1, int(math.Ceil(float64(sty.Height("Mg")*1.1/space))))
	clean := make([]string, n)
	for i, l := range labels {
		clean[i] = chartTruncate(strings.Join(strings.Fields(l), " "), 24)
	}
	ticks := chartThinTicks(clean, every, numbered, func(i int) float64 { return float64(n - 1 - i) })
	return chartCategoryTicks{ticks: ticks}
}

// box builds a box plot: one box a category, whiskers to the furthest
// value within 1.5 IQR of the box, and the values beyond as rings.
func (x *chartCtx) box() chartBuilt {
	c, th, m := x.c, x.th, x.m
	var b chartBuilt
	n := len(c.Series)
	labels := c.Categories
	if labels == nil {
		labels = make([]string, n)
		for i := range labels {
			labels[i] = c.seriesName(i)
		}
	}
	stats := make([]chartBoxStats, n)
	has := make([]bool, n)
	ylo, yhi := math.Inf(1), math.Inf(-1)
	for i, s := range c.Series {
		stats[i], has[i] = chartBox(s.Y)
		if has[i] {
			ylo, yhi = math.Min(ylo, stats[i].minV), math.Max(yhi, stats[i].maxV)
		}
	}
	col := th.color(0)
	half := math.Min(0.3, 36/(x.plotW/float64(n)))
	b.plotters = append(b.plotters, chartPlotFunc(func(cv draw.Canvas, p *plot.Plot) {
		trX, trY := p.Transforms(&cv)
		edge := draw.LineStyle{Color: col, Width: m.grid * 1.5}
		for i, st := range stats {
			if !has[i] {
				continue
			}
			xc := float64(i)
			l, r, mid := trX(xc-half), trX(xc+half), trX(xc)
			q1, q3 := trY(st.q1), trY(st.q3)
			cv.FillPolygon(chartAlpha(col, 0.22), cv.ClipPolygonXY([]vg.Point{{X: l, Y: q1}, {X: r, Y: q1}, {X: r, Y: q3}, {X: l, Y: q3}}))
			cv.StrokeLines(edge, cv.ClipLinesXY([]vg.Point{{X: l, Y: q1}, {X: r, Y: q1}, {X: r, Y: q3}, {X: l, Y: q3}, {X: l, Y: q1}})...)
			capL, capR := trX(xc-half/2), trX(xc+half/2)
			lo, hi := trY(st.lo), trY(st.hi)
			cv.StrokeLines(edge, cv.ClipLinesXY([]vg.Point{{X: mid, Y: q3}, {X: mid, Y: hi}}, []vg.Point{{X: capL, Y: hi}, {X: capR, Y: hi}})...)
			cv.StrokeLines(edge, cv.ClipLinesXY([]vg.Point{{X: mid, Y: q1}, {X: mid, Y: lo}}, []vg.Point{{X: capL, Y: lo}, {X: capR, Y: lo}})...)
			med := trY(st.med)
			cv.StrokeLines(draw.LineStyle{Color: col, Width: m.line * 1.25}, cv.ClipLinesXY([]vg.Point{{X: l, Y: med}, {X: r, Y: med}})...)
			// Outliers, at most one a pixel row.
			ring := draw.GlyphStyle{Color: chartAlpha(col, 0.75), Radius: 2.5 * m.px, Shape: draw.RingGlyph{}}
			seen := map[int]bool{}
			for _, v := range st.outliers {
				y := trY(v)
				row := int(float64(y/m.px) * m.rasterScale)
				if seen[row] {
					continue
				}
				seen[row] = true
				cv.DrawGlyph(ring, vg.Point{X: mid, Y: y})
			}
		}
	}))
	b.xmin, b.xmax = -0.5, float64(n)-0.5
	b.xTicks = x.categoryTicks(labels, false)
	b.xCategories = true
	x.yAxis(&b, ylo, yhi, false, false)
	return b
}

// heatmap builds a heatmap: a cell a value, coloured on viridis, with
// the values written in the cells when they fit.
func (x *chartCtx) heatmap() chartBuilt {
	c, th, m := x.c, x.th, x.m
	var b chartBuilt
	rows, cols := len(c.Grid), len(c.Grid[0])
	zlo, zhi := math.Inf(1), math.Inf(-1)
	for _, row := range c.Grid {
		for _, v := range row {
			if chartFinite(v) {
				zlo, zhi = math.Min(zlo, v), math.Max(zhi, v)
			}
		}
	}
	b.zmin, b.zmax = zlo, zhi
	norm := func(v float64) float64 {
		if zhi == zlo {
			return 0.5
		}
		return (v - zlo) / (zhi - zlo)
	}
	colLabels := c.Categories
	if colLabels == nil {
		colLabels = chartNumbered(cols)
	}
	rowLabels := c.RowLabels
	if rowLabels == nil {
		rowLabels = chartNumbered(rows)
	}
	cellSty := chartText(chartFontRegular, m.cell, th.title, draw.XCenter, draw.YCenter)
	cellSty.YAlign = chartMiddle(cellSty, false)
	cellW, cellH := x.plotW/float64(cols), x.plotH/float64(rows)
	annotate := rows*cols <= 900 && cellH >= float64(cellSty.Height("0")/m.px)*1.5
	if annotate {
		for _, row := range c.Grid {
			for _, v := range row {
				if float64(cellSty.Width(chartFormatNumber(v))/m.px)+6 > cellW {
					annotate = false
				}
			}
		}
	}
	raster := cellW*m.rasterScale < 3 || cellH*m.rasterScale < 3
	b.plotters = append(b.plotters, chartPlotFunc(func(cv draw.Canvas, p *plot.Plot) {
		trX, trY := p.Transforms(&cv)
		if raster {
			img := image.NewNRGBA(image.Rect(0, 0, cols, rows))
			for r, row := range c.Grid {
				for ci, v := range row {
					col := th.missing
					if chartFinite(v) {
						col = chartSequential(norm(v))
					}
					img.SetNRGBA(ci, r, col)
				}
			}
			rect := vg.Rectangle{
				Min: vg.Point{X: trX(-0.5), Y: trY(-0.5)},
				Max: vg.Point{X: trX(float64(cols) - 0.5), Y: trY(float64(rows) - 0.5)},
			}
			cv.DrawImage(rect, chartSharpen(cv, rect, img))
			return
		}
		gap := vg.Length(0)
		if cellW > 8 && cellH > 8 {
			gap = m.px
		}
		for r, row := range c.Grid {
			y := float64(rows - 1 - r)
			for ci, v := range row {
				col := th.missing
				if chartFinite(v) {
					col = chartSequential(norm(v))
				}
				l, rr := trX(float64(ci)-0.5)+gap/2, trX(float64(ci)+0.5)-gap/2
				bt, tp := trY(y-0.5)+gap/2, trY(y+0.5)-gap/2
				cv.FillPolygon(col, []vg.Point{{X: l, Y: bt}, {X: rr, Y: bt}, {X: rr, Y: tp}, {X: l, Y: tp}})
				if annotate && chartFinite(v) {
					s := cellSty
					s.Color = color.NRGBA{0x1F, 0x23, 0x28, 0xFF}
					if chartLuminance(col) < 0.4 {
						s.Color = color.NRGBA{0xFF, 0xFF, 0xFF, 0xFF}
					}
					cv.FillText(s, vg.Point{X: (l + rr) / 2, Y: (bt + tp) / 2}, chartFormatNumber(v))
				}
			}
		}
	}))
	b.xmin, b.xmax = -0.5, float64(cols)-0.5
	b.ymin, b.ymax = -0.5, float64(rows)-0.5
	b.xTicks = x.categoryTicks(colLabels, c.Categories == nil)
	b.xCategories = true
	b.yTicks = x.rowTicks(rowLabels, c.RowLabels == nil)
	b.yCategories = true
	return b
}

// chartSharpen scales img to the pixels rect covers on a raster canvas,
// repeating its pixels, so that drawing it does not blur the cells.
func chartSharpen(c draw.Canvas, rect vg.Rectangle, img *image.NRGBA) image.Image {
	r, ok := c.Canvas.(interface{ DPI() float64 })
	if !ok {
		return img
	}
	w := int(math.Round(rect.Size().X.Dots(r.DPI())))
	h := int(math.Round(rect.Size().Y.Dots(r.DPI())))
	if w <= 0 || h <= 0 || w > chartMaxPixels || h > chartMaxPixels {
		return img
	}
	src := img.Bounds().Size()
	out := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		sy := y * src.Y / h
		row := img.Pix[sy*img.Stride:]
		dst := out.Pix[y*out.Stride:]
		for x := range w {
			sx := x * src.X / w
			copy(dst[4*x:4*x+4], row[4*sx:4*sx+4])
		}
	}
	return out
}

// chartDrawColorScale draws a heatmap's colour scale at the top left of
// c: the lowest value, the gradient, the highest value.
func chartDrawColorScale(c draw.Canvas, lo, hi float64, sty text.Style, m chartMetrics) {
	h := sty.Height("0")
	top := c.Max.Y
	mid := top - h*0.65
	s := sty
	s.XAlign, s.YAlign = draw.XLeft, draw.YCenter
	x := c.Min.X
	loText, hiText := chartFormatNumber(lo), chartFormatNumber(hi)
	c.FillText(s, vg.Point{X: x, Y: mid}, loText)
	x += s.Width(loText) + 6*m.px
	w := vg.Length(math.Min(240, math.Max(120, m.widthPx/5))) * m.px
	img := image.NewNRGBA(image.Rect(0, 0, 256, 1))
	for i := range 256 {
		img.SetNRGBA(i, 0, chartSequential(float64(i)/255))
	}
	bar := h * 0.7
	c.DrawImage(vg.Rectangle{Min: vg.Point{X: x, Y: mid - bar/2}, Max: vg.Point{X: x + w, Y: mid + bar/2}}, img)
	x += w + 6*m.px
	c.FillText(s, vg.Point{X: x, Y: mid}, hiText)
}

// chartMiddle is the vertical alignment that centres the digits and
// capitals of a line of sty on the point it is drawn at; onAxis is for
// the y axis's labels, which gonum lifts by the font's descent.
func chartMiddle(sty text.Style, onAxis bool) draw.YAlignment {
	e := sty.FontExtents()
	size := sty.Font.Size
	a, d := float64(e.Ascent/size), float64(e.Descent/size)
	const capHeight = 0.35 // half the height of a capital, of the font size
	lift := 0.0
	if onAxis {
		lift = d
	}
	return draw.YAlignment((a - 1 - capHeight - lift) / (a + d))
}

// chartTruncate shortens s to at most n characters, ending in "…".
func chartTruncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n-1])) + "…"
}

// chartFit shortens s to fit width in sty, ending in "…".
func chartFit(sty text.Style, s string, width vg.Length) string {
	if sty.Width(s) <= width {
		return s
	}
	r := []rune(s)
	lo, hi := 0, len(r)
	for lo < hi {
		mid := (lo + hi + 1) / 2
		if sty.Width(string(r[:mid])+"…") <= width {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	return strings.TrimSpace(string(r[:lo])) + "…"
}
