package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"

	"plotline/plotting"
)

// Profile prints a table file's profile: its rows, and each column's type,
// missing values, distinct values, range, mean and most common values.
func Profile(args []string, s Streams) int {
	fs := flag.NewFlagSet("plotline profile", flag.ContinueOnError)
	fs.SetOutput(s.Err)
	sheet := fs.String("sheet", "", "the workbook's sheet `NAME` (the first sheet by default)")
	asJSON := fs.Bool("json", false, "print the profile as one JSON object")
	fs.Usage = func() {
		fmt.Fprintln(s.Err, "Usage: plotline profile FILE [--sheet NAME] [--json]")
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return exitNoStart
	}
	if len(pos) != 1 {
		fs.Usage()
		return exitNoStart
	}
	// A text table's profile holds only the chunks being read, and makes
	// little garbage: it collects none until it holds 1 GiB, which saves
	// a tenth of its time. (A chart holds the groups of a few chunks, or
	// the columns it draws, and collects twice as late as usual.)
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(1 << 30))
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	p, warnings, err := plotting.ProfileFile(pos[0], plotting.ReadOptions{Sheet: *sheet})
	if err != nil {
		fmt.Fprintf(s.Err, "plotline profile: %s: %v\n", pos[0], err)
		return exitNoStart
	}
	if *asJSON {
		enc := json.NewEncoder(s.Out)
		if err := enc.Encode(p); err != nil {
			fmt.Fprintf(s.Err, "plotline profile: %v\n", err)
			return exitFailed
		}
		return exitOK
	}
	fmt.Fprint(s.Out, p.Text())
	for _, w := range warnings {
		fmt.Fprintf(s.Err, "plotline profile: warning: %s\n", w)
	}
	return exitOK
}

// Chart draws one chart of a table file into a PNG or SVG file.
func Chart(args []string, s Streams) int {
	fs := flag.NewFlagSet("plotline chart", flag.ContinueOnError)
	fs.SetOutput(s.Err)
	var (
		req   plotting.ChartRequest
		ys    stringList
		kind  string
		sheet = fs.String("sheet", "", "the workbook's sheet `NAME` (the first sheet by default)")
		dark  = fs.Bool("dark", false, "draw in the dark theme")
		size  = fs.String("size", "960x540", "the chart's size in pixels, `WxH`")
		scale = fs.Float64("scale", 1, "pixel density of a PNG: 2 draws the same chart with twice the pixels each way")
		out   = fs.String("o", "", "the chart file to write, `OUT.png` or OUT.svg")
	)
	fs.StringVar(&req.X, "x", "", "the `COL`umn along x (a date, a category or a number)")
	fs.Var(&ys, "y", "a `COL`umn of values (repeatable)")
	fs.StringVar(&req.By, "by", "", "a `COL`umn whose values make one series each")
	fs.StringVar(&req.Agg, "agg", "", "how values that share an x are combined: `sum`, mean, count, min, max or median")
	fs.StringVar(&req.Every, "every", "", "resample a date x by `day`, week, month or year")
	fs.StringVar(&kind, "kind", "", "`bar`, line, scatter, hist, box, area or heatmap (chosen from the columns by default)")
	fs.StringVar(&req.Title, "title", "", "the chart's `TITLE` (made from the columns by default)")
	fs.Usage = func() {
		fmt.Fprintln(s.Err, "Usage: plotline chart FILE [--sheet NAME] [--x COL] [--y COL]... [--by COL] [--agg sum|mean|count|min|max|median]\n"+
			"                      [--every day|week|month|year] [--kind bar|line|scatter|hist|box|area|heatmap]\n"+
			"                      [--title T] [--dark] [--size WxH] -o OUT.png|OUT.svg")
		fs.PrintDefaults()
	}
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return exitNoStart
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(s.Err, "plotline chart: "+format+"\n", a...)
		return exitNoStart
	}
	if len(pos) != 1 {
		fs.Usage()
		return exitNoStart
	}
	if *out == "" {
		return fail("-o OUT.png or -o OUT.svg is needed")
	}
	format, err := plotting.FormatFromPath(*out)
	if err != nil {
		return fail("-o %s: %v", *out, err)
	}
	style, err := chartStyle(*size, *scale, *dark, format)
	if err != nil {
		return fail("%v", err)
	}
	if kind != "" {
		k, err := plotting.ParseKind(kind)
		if err != nil {
			return fail("--kind: %v", err)
		}
		req.Kind = k
	}
	req.Y = ys
	defer debug.SetGCPercent(debug.SetGCPercent(200))
	c, err := plotting.ChartFile(pos[0], plotting.ReadOptions{Sheet: *sheet}, req)
	if err != nil {
		return fail("%s: %v", filepath.Base(pos[0]), err)
	}
	// The chart holds what it draws: what the table took is collected
	// before the image is made, so the two never take memory at once.
	runtime.GC()
	if err := plotting.WriteChartFile(c, *out, style); err != nil {
		fmt.Fprintf(s.Err, "plotline chart: %v\n", err)
		return exitFailed
	}
	return exitOK
}

// chartStyle reads --size, --scale and --dark.
func chartStyle(size string, scale float64, dark bool, format string) (plotting.Style, error) {
	w, h, ok := strings.Cut(strings.ToLower(size), "x")
	width, err1 := strconv.Atoi(w)
	height, err2 := strconv.Atoi(h)
	if !ok || err1 != nil || err2 != nil || width < 100 || height < 100 || width > 8000 || height > 8000 {
		return plotting.Style{}, fmt.Errorf("--size %s: give the width and height in pixels, each from 100 to 8000, as in 1280x720", size)
	}
	if scale < 0.5 || scale > 4 {
		return plotting.Style{}, errors.New("--scale: give a density from 0.5 to 4")
	}
	if format != "png" && scale != 1 {
		return plotting.Style{}, errors.New("--scale applies to PNG charts; an SVG chart scales by itself")
	}
	return plotting.Style{Dark: dark, Width: width, Height: height, Scale: scale}, nil
}
