package starlark

import (
	"encoding/csv"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"

	"plotline/plotting"
)

// tableModule is the predeclared table: table.read.
var tableModule = &starlarkstruct.Module{
	Name:    "table",
	Members: starlark.StringDict{"read": starlark.NewBuiltin("table.read", tableRead)},
}

// tableRead reads a table file of the work folder, by name.
func tableRead(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name string
	var sheet starlark.Value = starlark.None
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name, "sheet?", &sheet); err != nil {
		return nil, err
	}
	opts := plotting.ReadOptions{}
	if s, ok := sheet.(starlark.String); ok {
		opts.Sheet = string(s)
	} else if sheet != starlark.None {
		return nil, fmt.Errorf("%s: sheet must be a string or None, not %s", b.Name(), sheet.Type())
	}
	c := cellOf(thread)
	ext := strings.ToLower(path.Ext(name))
	switch ext {
	case ".csv", ".tsv", ".txt", ".xlsx", ".xlsm":
	default:
		return nil, fmt.Errorf("%s: %s is not a table file: table.read reads .csv, .tsv, .txt, .xlsx and .xlsm", b.Name(), name)
	}
	fh, size, err := c.rt.folder.open(name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	defer fh.Close()
	var fr *plotting.Frame
	if ext == ".xlsx" || ext == ".xlsm" {
		fr, err = plotting.ReadXLSXFrame(fh, size, path.Base(name), opts)
	} else {
		fr, err = plotting.ReadCSVFrame(fh, size, path.Base(name), opts)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return &Table{f: fr}, nil
}

// Table is a Starlark value holding a plotting.Frame. It is immutable:
// every method gives a new table.
type Table struct{ f *plotting.Frame }

var (
	_ starlark.Indexable = (*Table)(nil)
	_ starlark.Sequence  = (*Table)(nil)
	_ starlark.HasAttrs  = (*Table)(nil)
)

// Frame is the table's frame.
func (t *Table) Frame() *plotting.Frame { return t.f }

func (t *Table) String() string        { return strings.TrimRight(t.f.String(), "\n") }
func (t *Table) Type() string          { return "table" }
func (t *Table) Freeze()               {}
func (t *Table) Truth() starlark.Bool  { return t.f.Len() > 0 }
func (t *Table) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: table") }
func (t *Table) Len() int              { return t.f.Len() }

// Index gives row i as a dict of column name to value.
func (t *Table) Index(i int) starlark.Value { return t.row(i) }

// Iterate goes over the rows, each a dict.
func (t *Table) Iterate() starlark.Iterator { return &rowIterator{t: t} }

type rowIterator struct {
	t *Table
	i int
}

func (it *rowIterator) Next(p *starlark.Value) bool {
	if it.i >= it.t.f.Len() {
		return false
	}
	*p = it.t.row(it.i)
	it.i++
	return true
}
func (it *rowIterator) Done() {}

func (t *Table) row(i int) *starlark.Dict {
	d := starlark.NewDict(len(t.f.Columns))
	for _, c := range t.f.Columns {
		d.SetKey(starlark.String(c.Name), cellValue(c, i))
	}
	return d
}

// cellValue is row i of c as Starlark has it: an int, float, bool or
// string; a date or datetime as its text (2024-01-31); None when missing.
func cellValue(c *plotting.Column, i int) starlark.Value {
	if c.Missing(i) {
		return starlark.None
	}
	switch c.Type {
	case plotting.TypeInt:
		v, _ := c.Float(i)
		return starlark.MakeInt64(int64(v))
	case plotting.TypeFloat:
		v, _ := c.Float(i)
		return starlark.Float(v)
	case plotting.TypeBool:
		v, _ := c.Float(i)
		return starlark.Bool(v != 0)
	}
	return starlark.String(c.Text(i))
}

var tableMethods = map[string]*starlark.Builtin{
	"column":   starlark.NewBuiltin("column", tableColumn),
	"head":     starlark.NewBuiltin("head", tableHead),
	"filter":   starlark.NewBuiltin("filter", tableFilter),
	"sort":     starlark.NewBuiltin("sort", tableSort),
	"group_by": starlark.NewBuiltin("group_by", tableGroupBy),
	"resample": starlark.NewBuiltin("resample", tableResample),
	"to_csv":   starlark.NewBuiltin("to_csv", tableToCSV),
}

// Attr gives the table's columns or one of its methods.
func (t *Table) Attr(name string) (starlark.Value, error) {
	if name == "columns" {
		names := t.f.Names()
		vs := make([]starlark.Value, len(names))
		for i, n := range names {
			vs[i] = starlark.String(n)
		}
		return starlark.NewList(vs), nil
	}
	if m, ok := tableMethods[name]; ok {
		return m.BindReceiver(t), nil
	}
	return nil, nil
}

// AttrNames lists the table's attributes.
func (t *Table) AttrNames() []string {
	names := []string{"columns"}
	for n := range tableMethods {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func receiver(b *starlark.Builtin) *Table { return b.Receiver().(*Table) }

func tableColumn(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name); err != nil {
		return nil, err
	}
	c, err := receiver(b).f.Column(name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	vs := make([]starlark.Value, c.Len())
	for i := range vs {
		vs[i] = cellValue(c, i)
	}
	return starlark.NewList(vs), nil
}

func tableHead(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	n := 5
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "n?", &n); err != nil {
		return nil, err
	}
	return &Table{f: receiver(b).f.Head(n)}, nil
}

func tableFilter(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var fn starlark.Callable
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "fn", &fn); err != nil {
		return nil, err
	}
	t := receiver(b)
	var failed error
	f := t.f.Filter(func(i int) bool {
		if failed != nil {
			return false
		}
		v, err := starlark.Call(thread, fn, starlark.Tuple{t.row(i)}, nil)
		if err != nil {
			failed = err
			return false
		}
		return bool(v.Truth())
	})
	if failed != nil {
		return nil, failed
	}
	return &Table{f: f}, nil
}

func tableSort(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var col string
	reverse := false
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "col", &col, "reverse?", &reverse); err != nil {
		return nil, err
	}
	f, err := receiver(b).f.Sort(col, reverse)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return &Table{f: f}, nil
}

// names reads a column name or a list or tuple of them.
func names(fn, what string, v starlark.Value) ([]string, error) {
	switch v := v.(type) {
	case starlark.NoneType:
		return nil, nil
	case starlark.String:
		return []string{string(v)}, nil
	case starlark.Indexable:
		out := make([]string, v.Len())
		for i := range out {
			s, ok := v.Index(i).(starlark.String)
			if !ok {
				return nil, fmt.Errorf("%s: %s must be column names, not %s", fn, what, v.Index(i).Type())
			}
			out[i] = string(s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s: %s must be a column name or a list of them, not %s", fn, what, v.Type())
}

// aggs reads the keyword arguments of group_by and resample: name="sum"
// sums the column name into a column of that name; name=("col", "mean")
// takes the mean of col as name; name="count" counts rows when the table
// has no column name.
func aggs(fn string, f *plotting.Frame, kwargs []starlark.Tuple) ([]plotting.Agg, error) {
	if len(kwargs) == 0 {
		return nil, fmt.Errorf("%s: name at least one aggregate, such as revenue=\"sum\" or n=\"count\"", fn)
	}
	cols := f.Names()
	var out []plotting.Agg
	for _, kv := range kwargs {
		as := string(kv[0].(starlark.String))
		col, fname := as, ""
		switch v := kv[1].(type) {
		case starlark.String:
			fname = string(v)
		case starlark.Tuple:
			c, ok1 := starlark.AsString(v.Index(0))
			g, ok2 := "", v.Len() == 2
			if ok2 {
				g, ok2 = starlark.AsString(v.Index(1))
			}
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("%s: %s=%s: give a function name or a (column, function) pair", fn, as, v)
			}
			col, fname = c, g
		default:
			return nil, fmt.Errorf("%s: %s=%s: give a function name or a (column, function) pair", fn, as, v)
		}
		af, err := plotting.ParseAgg(fname)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", fn, as, err)
		}
		if af == plotting.AggCount && !slices.Contains(cols, col) {
			col = ""
		}
		out = append(out, plotting.Agg{Column: col, Func: af, As: as})
	}
	return out, nil
}

func tableGroupBy(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var by starlark.Value
	if err := starlark.UnpackPositionalArgs(b.Name(), args, nil, 1, &by); err != nil {
		return nil, err
	}
	keys, err := names(b.Name(), "the keys", by)
	if err != nil {
		return nil, err
	}
	t := receiver(b)
	ag, err := aggs(b.Name(), t.f, kwargs)
	if err != nil {
		return nil, err
	}
	f, err := t.f.GroupBy(keys, ag)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return &Table{f: f}, nil
}

func tableResample(_ *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var dateCol, every string
	var by starlark.Value = starlark.None
	if err := starlark.UnpackPositionalArgs(b.Name(), args, nil, 2, &dateCol, &every); err != nil {
		return nil, err
	}
	var rest []starlark.Tuple
	for _, kv := range kwargs {
		if kv[0] == starlark.String("by") {
			by = kv[1]
		} else {
			rest = append(rest, kv)
		}
	}
	keys, err := names(b.Name(), "by", by)
	if err != nil {
		return nil, err
	}
	period, err := plotting.ParsePeriod(every)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	t := receiver(b)
	ag, err := aggs(b.Name(), t.f, rest)
	if err != nil {
		return nil, err
	}
	f, err := t.f.Resample(dateCol, period, keys, ag)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	return &Table{f: f}, nil
}

// tableToCSV writes the table into the work folder as CSV.
func tableToCSV(thread *starlark.Thread, b *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name string
	if err := starlark.UnpackArgs(b.Name(), args, kwargs, "name", &name); err != nil {
		return nil, err
	}
	c := cellOf(thread)
	t := receiver(b)
	err := c.rt.folder.create(name, func(w io.Writer) error { return writeCSV(w, t.f) })
	if err != nil {
		return nil, fmt.Errorf("%s: %w", b.Name(), err)
	}
	if !slices.Contains(c.files, name) {
		c.files = append(c.files, name)
	}
	return starlark.None, nil
}

// writeCSV writes f with a header row, each cell as Column.Text gives it.
func writeCSV(w io.Writer, f *plotting.Frame) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(f.Names()); err != nil {
		return err
	}
	rec := make([]string, len(f.Columns))
	for i := range f.Len() {
		for j, c := range f.Columns {
			rec[j] = c.Text(i)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
