package plotting

import (
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// chartLinePiece is how many points a line is stroked with at a time. The
// rasterizer keeps a list of cells per pixel row and searches it for each
// new cell, so one long zigzag path costs about the square of its length:
// a daily line of three years took 300 ms to stroke whole, and takes a
// few ms in pieces. Pieces share their end points, and round caps hide
// the seams.
const chartLinePiece = 32

// chartLine strokes a polyline in pieces; see chartLinePiece.
func chartLine(pts plotter.XYs, sty draw.LineStyle) plot.Plotter {
	return chartPlotFunc(func(c draw.Canvas, p *plot.Plot) {
		trX, trY := p.Transforms(&c)
		ps := make([]vg.Point, len(pts))
		for i, q := range pts {
			ps[i] = vg.Point{X: trX(q.X), Y: trY(q.Y)}
		}
		for start := 0; start < len(ps)-1; start += chartLinePiece {
			end := min(start+chartLinePiece+1, len(ps))
			c.StrokeLines(sty, c.ClipLinesXY(ps[start:end])...)
		}
	})
}
