package plotting

import (
	"errors"
	"fmt"
	"os"
	"path"
)

// errNoStream says a chart cannot be built chunk by chunk with the same
// result as from the whole table; it is then built from the whole table.
var errNoStream = errors.New("the chart needs the whole table")

// scanText reads a text table chunk by chunk. work gets each chunk's rows
// as a frame of their own, typed from those rows alone, on the goroutine
// that parsed them; the frame is the chunk's storage, used again once
// work returns, so what work gives must not hold it (a GroupBy's frame
// does not). merge gets what work made of each chunk, in order. Only
// the chunks in flight are held, whatever the table's size. A chunk with
// dates whose order (day or month first) only the whole column can settle
// ends the scan with errNoStream.
func scanText(f *os.File, size int64, name string, opts ReadOptions, work func(*Frame) (any, error), merge func(any) error) error {
	tr, unique, err := openText(f, size, name, opts)
	if err != nil {
		return err
	}
	src := tr.source(name)
	return tr.pipeline(func(idx int, data []byte) *chunkResult {
		res := tr.parseChunk(idx, data)
		fr := &Frame{Source: src}
		for j, c := range res.cols {
			if c == nil {
				continue
			}
			if c.amb.n > 0 {
				res.err = errNoStream
			}
			fr.Columns = append(fr.Columns, c.view(unique[j]))
		}
		if res.err == nil {
			res.value, res.err = work(fr)
		}
		// work's frame holds the chunk's storage, given back here: what
		// work gives must hold none of it.
		for _, c := range res.cols {
			if c != nil {
				c.release()
			}
		}
		res.cols = nil
		return res
	}, func(res *chunkResult) error { return merge(res.value) })
}

// ChartFile reads the table file at p and builds the chart req asks of it.
// A bar, line or area chart of named columns whose values combine as they
// come (a sum, mean, count, min or max) of a text table is built as the
// file is read: each chunk is grouped, and the groups combined, so its
// memory does not grow with the file. Any other chart reads the table
// whole, only the named columns where the request names them all.
func ChartFile(p string, opts ReadOptions, req ChartRequest) (*Chart, error) {
	opts.Columns = req.Columns()
	if opts.Columns != nil && !IsWorkbook(p) {
		c, err := streamChart(p, opts, req)
		if !errors.Is(err, errNoStream) {
			return c, err
		}
	}
	f, err := ReadFile(p, opts)
	if err != nil {
		return nil, err
	}
	return BuildChart(f, req)
}

// The partial aggregates each chunk's groups keep, by value column i.
func partialName(what string, i int) string { return fmt.Sprintf("\x00%s%d", what, i) }

// streamChart builds the chart from each chunk's groups, or says
// errNoStream when it would not be the chart the whole table gives.
func streamChart(p string, opts ReadOptions, req ChartRequest) (*Chart, error) {
	f, size, err := openSized(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// The columns and kind are settled on the table's head, and each chunk
	// must read as the head does.
	head, err := ReadCSVFrame(f, size, path.Base(p), ReadOptions{Columns: opts.Columns, MaxBytes: int64(frameBlockSize)})
	if err != nil || head.Len() == 0 {
		return nil, errNoStream // the whole table says what is wrong
	}
	b := &chartBuilder{f: head, req: req}
	if b.pick() != nil || !b.streams() {
		return nil, errNoStream
	}
	var aggs []Agg
	for i, y := range b.ys {
		aggs = append(aggs,
			Agg{Column: y.Name, Func: AggSum, As: partialName("sum", i)},
			Agg{Column: y.Name, Func: AggCount, As: partialName("count", i)},
			Agg{Column: y.Name, Func: AggMin, As: partialName("min", i)},
			Agg{Column: y.Name, Func: AggMax, As: partialName("max", i)})
	}
	var (
		parts []*Frame
		rows  int
	)
	err = scanText(f, size, path.Base(p), opts, func(ch *Frame) (any, error) {
		for i, c := range ch.Columns {
			want := head.Columns[i].Type
			if c.Type != want && !(c.Type.Numeric() && want.Numeric() && !b.isKey(c.Name)) {
				return nil, errNoStream // a column the chunks read as different types
			}
		}
		return ch.GroupBy(b.keys(), aggs)
	}, func(v any) error {
		g := v.(*Frame)
		rows += g.Len()
		parts = append(parts, g)
		if len(parts) == 16 {
			// Chunks share most of their groups: combined, sixteen
			// chunks' groups take little more room than one's.
			g, err := b.combineParts(parts)
			if err != nil {
				return err
			}
			parts = append(parts[:0], g)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if rows == 0 {
		return nil, errNoStream // no rows: the whole table says so
	}
	whole, err := concatFrames(parts)
	if err != nil {
		return nil, err
	}
	aggs = b.partialAggs()
	var g *Frame
	if b.req.Every != "" {
		per, _ := ParsePeriod(b.req.Every)
		var keys []string
		if b.by != nil {
			keys = []string{b.by.Name}
		}
		g, err = whole.Resample(b.x.Name, per, keys, aggs)
	} else {
		g, err = whole.GroupBy(b.keys(), aggs)
	}
	if err != nil {
		return nil, err
	}
	final := &Frame{Source: g.Source, Columns: g.Columns[:len(b.keys())]}
	for i := range b.ys {
		final.Columns = append(final.Columns, b.combine(g, i))
	}
	c, err := b.chartOf(final)
	if err != nil {
		return nil, err
	}
	b.titled(c)
	return c, nil
}

// partialAggs combine groups' partial aggregates into those of their union.
func (b *chartBuilder) partialAggs() []Agg {
	var aggs []Agg
	for i := range b.ys {
		aggs = append(aggs,
			Agg{Column: partialName("sum", i), Func: AggSum, As: partialName("sum", i)},
			Agg{Column: partialName("count", i), Func: AggSum, As: partialName("count", i)},
			Agg{Column: partialName("min", i), Func: AggMin, As: partialName("min", i)},
			Agg{Column: partialName("max", i), Func: AggMax, As: partialName("max", i)})
	}
	return aggs
}

// combineParts groups chunks' groups again, by the same keys.
func (b *chartBuilder) combineParts(parts []*Frame) (*Frame, error) {
	whole, err := concatFrames(parts)
	if err != nil {
		return nil, err
	}
	return whole.GroupBy(b.keys(), b.partialAggs())
}

// streams says whether the chart can be built from each chunk's groups.
func (b *chartBuilder) streams() bool {
	switch b.req.Kind {
	case KindBar, KindLine, KindArea:
	default:
		return false
	}
	return b.x != nil && b.agg != AggMedian
}

// isKey says whether the column named groups the rows (x or by).
func (b *chartBuilder) isKey(name string) bool {
	return b.x != nil && b.x.Name == name || b.by != nil && b.by.Name == name
}

// combine makes value column i of the chart from the groups' partial
// aggregates: the sum, count, min or max as they are, the mean as the sum
// over the count.
func (b *chartBuilder) combine(g *Frame, i int) *Column {
	pick := func(what string) *Column {
		c, _ := g.Column(partialName(what, i))
		return c
	}
	switch b.agg {
	case AggCount:
		return pick("count")
	case AggMin:
		return pick("min")
	case AggMax:
		return pick("max")
	case AggSum:
		return pick("sum")
	}
	sum, count := pick("sum"), pick("count")
	n := g.Len()
	mean := &Column{Name: partialName("mean", i), Type: TypeFloat, n: n, floats: make([]float64, n)}
	for r := range n {
		s, ok := sum.Float(r)
		k, _ := count.Float(r)
		if !ok || k == 0 {
			mean.setMissing(r)
			continue
		}
		mean.floats[r] = s / k
	}
	return mean
}

// setMissing marks row r missing.
func (c *Column) setMissing(r int) {
	if c.miss == nil {
		c.miss = make([]uint64, (c.n+63)/64)
	}
	bitSet(c.miss, r)
}

// concatFrames puts frames with the same columns one after another. A
// column that is int in some and float in others is float.
func concatFrames(fs []*Frame) (*Frame, error) {
	out := &Frame{Source: fs[0].Source}
	for j, first := range fs[0].Columns {
		cols := make([]*Column, len(fs))
		for i, f := range fs {
			if j >= len(f.Columns) || f.Columns[j].Name != first.Name {
				return nil, errNoStream
			}
			cols[i] = f.Columns[j]
		}
		c, err := concatColumns(cols)
		if err != nil {
			return nil, err
		}
		out.Columns = append(out.Columns, c)
	}
	return out, nil
}

func concatColumns(cols []*Column) (*Column, error) {
	typ, n := cols[0].Type, 0
	for _, c := range cols {
		n += c.n
		if c.Type != typ {
			if c.Type.Numeric() && typ.Numeric() {
				typ = TypeFloat
			} else {
				return nil, errNoStream
			}
		}
	}
	out := &Column{Name: cols[0].Name, Type: typ, n: n}
	if typ == TypeText {
		out.dict = newDict()
	}
	off := 0
	for _, c := range cols {
		for r := range c.n {
			if c.Missing(r) {
				out.setMissing(off + r)
			}
		}
		switch typ {
		case TypeInt, TypeDatetime:
			out.ints = append(out.ints, c.ints...)
		case TypeFloat:
			if c.Type == TypeInt {
				for _, v := range c.ints {
					out.floats = append(out.floats, float64(v))
				}
			} else {
				out.floats = append(out.floats, c.floats...)
			}
		case TypeBool:
			out.bools = append(out.bools, c.bools...)
		case TypeDate:
			out.days = append(out.days, c.days...)
		case TypeText:
			for r, code := range c.codes {
				if c.Missing(r) {
					out.codes = append(out.codes, 0)
					continue
				}
				out.codes = append(out.codes, out.dict.add(c.dict.bytes(code)))
			}
		}
		off += c.n
	}
	return out, nil
}
