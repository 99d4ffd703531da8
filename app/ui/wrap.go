package ui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/theme"
)

// wrapLayout lays cells of one size in rows that wrap at the container's
// width, so that a row of attachment chips grows down, not wide. Its
// height follows the width it was last laid out at; when a new width
// changes the number of rows, relayout is called to lay out the parent
// again.
type wrapLayout struct {
	cell     fyne.Size
	width    float32 // the width of the last Layout
	relayout func()
}

func (l *wrapLayout) cols(width float32) int {
	p := theme.Padding()
	if width <= l.cell.Width {
		return 1
	}
	return max(1, int((width+p)/(l.cell.Width+p)))
}

func (l *wrapLayout) rows(objects []fyne.CanvasObject, width float32) int {
	n := 0
	for _, o := range objects {
		if o.Visible() {
			n++
		}
	}
	c := l.cols(width)
	return (n + c - 1) / c
}

// MinSize is one cell wide, so that the chips never widen the window,
// and as high as the rows at the last width.
func (l *wrapLayout) MinSize(objects []fyne.CanvasObject) fyne.Size {
	r := l.rows(objects, l.width)
	if r == 0 {
		return fyne.Size{}
	}
	return fyne.NewSize(l.cell.Width, float32(r)*l.cell.Height+float32(r-1)*theme.Padding())
}

func (l *wrapLayout) Layout(objects []fyne.CanvasObject, size fyne.Size) {
	before := l.rows(objects, l.width)
	l.width = size.Width
	p := theme.Padding()
	cols := l.cols(size.Width)
	cell := fyne.NewSize(min(l.cell.Width, size.Width), l.cell.Height)
	i := 0
	for _, o := range objects {
		if !o.Visible() {
			continue
		}
		o.Move(fyne.NewPos(float32(i%cols)*(cell.Width+p), float32(i/cols)*(cell.Height+p)))
		o.Resize(cell)
		i++
	}
	if l.rows(objects, size.Width) != before && l.relayout != nil {
		l.relayout()
	}
}
