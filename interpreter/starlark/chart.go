package starlark

import (
	"bytes"
	"fmt"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"plotline/plotting"
)

// maxImages caps the charts one cell draws.
const maxImages = 20

// chartModule is the predeclared chart: a function for each kind.
var chartModule = &starlarkstruct.Module{
	Name: "chart",
	Members: starlark.StringDict{
		"bar":     chartBuiltin(plotting.KindBar),
		"line":    chartBuiltin(plotting.KindLine),
		"scatter": chartBuiltin(plotting.KindScatter),
		"hist":    chartBuiltin(plotting.KindHist),
		"box":     chartBuiltin(plotting.KindBox),
		"area":    chartBuiltin(plotting.KindArea),
	},
}

// chartBuiltin draws a chart of kind from a table, as a PNG added to the
// cell's images.
func chartBuiltin(kind plotting.Kind) *starlark.Builtin {
	return starlark.NewBuiltin("chart."+string(kind), func(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var (
			t                      *Table
			x, by, agg, every, ttl string
			y                      starlark.Value = starlark.None
		)
		if err := starlark.UnpackArgs(b.Name(), args, kwargs, "t", &t, "x?", &x, "y?", &y,
			"by?", &by, "agg?", &agg, "every?", &every, "title?", &ttl); err != nil {
			return nil, err
		}
		ys, err := names(b.Name(), "y", y)
		if err != nil {
			return nil, err
		}
		c := cellOf(thread)
		if len(c.images) >= maxImages {
			return nil, fmt.Errorf("%s: a cell draws at most %d charts", b.Name(), maxImages)
		}
		ch, err := plotting.BuildChart(t.f, plotting.ChartRequest{X: x, Y: ys, By: by, Agg: agg, Every: every, Kind: kind, Title: ttl})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		var buf bytes.Buffer
		if err := ch.Render(&buf, "png", plotting.Style{}); err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name(), err)
		}
		c.images = append(c.images, buf.Bytes())
		return starlark.None, nil
	})
}
