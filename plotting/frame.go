package plotting

import (
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Type is the type of a column's values.
type Type int

// The types a column can have.
const (
	TypeText Type = iota
	TypeInt
	TypeFloat
	TypeBool
	TypeDate
	TypeDatetime
)

// String names the type: "text", "int", "float", "bool", "date" or
// "datetime".
func (t Type) String() string {
	switch t {
	case TypeText:
		return "text"
	case TypeInt:
		return "int"
	case TypeFloat:
		return "float"
	case TypeBool:
		return "bool"
	case TypeDate:
		return "date"
	case TypeDatetime:
		return "datetime"
	}
	return fmt.Sprintf("Type(%d)", int(t))
}

// Numeric tells whether the type is int or float.
func (t Type) Numeric() bool { return t == TypeInt || t == TypeFloat }

// Temporal tells whether the type is date or datetime.
func (t Type) Temporal() bool { return t == TypeDate || t == TypeDatetime }

// Column is one column of a Frame: a name, a type and a value or a missing
// cell for each row. A column is never changed once made: operations on a
// Frame make new columns, and may share the storage of unchanged ones.
type Column struct {
	Name string
	Type Type

	n    int
	miss []uint64 // a bit set for each missing row; nil when none is missing
	// The values, by type; a missing row holds the zero value.
	ints   []int64   // TypeInt; TypeDatetime as Unix milliseconds
	floats []float64 // TypeFloat
	bools  []bool    // TypeBool
	days   []int32   // TypeDate, as days since 1970-01-01
	codes  []uint32  // TypeText, as codes into dict
	dict   *dict
}

// Len is the number of rows.
func (c *Column) Len() int { return c.n }

// Missing tells whether row i holds no value.
func (c *Column) Missing(i int) bool { return bitGet(c.miss, i) }

// Float gives row i as a number: an int or float as it is, a bool as 0 or
// 1, a date or datetime as Unix seconds. It gives false for a missing cell
// and for text.
func (c *Column) Float(i int) (float64, bool) {
	if c.Missing(i) {
		return 0, false
	}
	switch c.Type {
	case TypeInt:
		return float64(c.ints[i]), true
	case TypeFloat:
		return c.floats[i], true
	case TypeBool:
		if c.bools[i] {
			return 1, true
		}
		return 0, true
	case TypeDate:
		return float64(c.days[i]) * 86400, true
	case TypeDatetime:
		return float64(c.ints[i]) / 1000, true
	}
	return 0, false
}

// Time gives row i of a date or datetime column, in UTC. It gives false
// for a missing cell and for other types.
func (c *Column) Time(i int) (time.Time, bool) {
	if c.Missing(i) {
		return time.Time{}, false
	}
	switch c.Type {
	case TypeDate:
		return time.Unix(int64(c.days[i])*86400, 0).UTC(), true
	case TypeDatetime:
		return time.UnixMilli(c.ints[i]).UTC(), true
	}
	return time.Time{}, false
}

// Text gives row i as text: a date as 2006-01-02, a datetime as
// 2006-01-02 15:04:05 (with milliseconds when it has any), a float in the
// fewest digits that read back as the same number, and "" for a missing
// cell.
func (c *Column) Text(i int) string {
	if c.Missing(i) {
		return ""
	}
	switch c.Type {
	case TypeText:
		return c.dict.str(c.codes[i])
	case TypeInt:
		return strconv.FormatInt(c.ints[i], 10)
	case TypeFloat:
		return formatFloat(c.floats[i])
	case TypeBool:
		return strconv.FormatBool(c.bools[i])
	case TypeDate:
		return formatDate(int64(c.days[i]))
	case TypeDatetime:
		return formatDatetime(c.ints[i])
	}
	return ""
}

// Floats gives the whole column as numbers, as Float does, with NaN for a
// missing cell; it gives nil for a text column. The slice is new.
func (c *Column) Floats() []float64 {
	if c.Type == TypeText {
		return nil
	}
	out := make([]float64, c.n)
	switch c.Type {
	case TypeInt:
		for i, v := range c.ints[:c.n] {
			out[i] = float64(v)
		}
	case TypeFloat:
		copy(out, c.floats[:c.n])
	case TypeBool:
		for i, v := range c.bools[:c.n] {
			if v {
				out[i] = 1
			}
		}
	case TypeDate:
		for i, v := range c.days[:c.n] {
			out[i] = float64(v) * 86400
		}
	case TypeDatetime:
		for i, v := range c.ints[:c.n] {
			out[i] = float64(v) / 1000
		}
	}
	forBits(c.miss, c.n, func(i int) { out[i] = math.NaN() })
	return out
}

// missingCount counts the missing rows.
func (c *Column) missingCount() int { return countBits(c.miss, c.n) }

// Frame is a table held in columns, every column of the same length.
type Frame struct {
	Columns []*Column
	Source  Source
	// Warnings says what reading found wrong and mended (rows of the wrong
	// length, a quote that never closes, a read cut short), a line each.
	Warnings []string
}

// Source says where a Frame was read from and how.
type Source struct {
	File      string // the file's base name
	Sheet     string // the workbook's sheet, or "" for a text table
	Encoding  string // as Table.Encoding names it, or "" for a workbook
	Delimiter string // ",", ";", "\t" or "|", or "" for a workbook
	Decimal   string // "." or ","
}

// Len is the number of rows.
func (f *Frame) Len() int {
	if len(f.Columns) == 0 {
		return 0
	}
	return f.Columns[0].n
}

// Names gives the column names in order.
func (f *Frame) Names() []string {
	names := make([]string, len(f.Columns))
	for i, c := range f.Columns {
		names[i] = c.Name
	}
	return names
}

// Column gives the column called name, or an error that names the columns
// there are.
func (f *Frame) Column(name string) (*Column, error) {
	for _, c := range f.Columns {
		if c.Name == name {
			return c, nil
		}
	}
	return nil, fmt.Errorf("no column %q; the columns are %s", name, nameList(f.Names(), 20))
}

// nameList joins names for a message, at most max of them.
func nameList(names []string, max int) string {
	if len(names) == 0 {
		return "none"
	}
	if len(names) <= max {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:max], ", ") + fmt.Sprintf(", … (%d more)", len(names)-max)
}

// Head gives the first n rows (all of them if there are fewer).
func (f *Frame) Head(n int) *Frame {
	n = min(max(n, 0), f.Len())
	return f.with(func(c *Column) *Column { return c.slice(n) })
}

// Filter gives the rows for which keep is true, in order.
func (f *Frame) Filter(keep func(row int) bool) *Frame {
	var idx []int32
	for i := range f.Len() {
		if keep(i) {
			idx = append(idx, int32(i))
		}
	}
	return f.with(func(c *Column) *Column { return c.take(idx) })
}

// Sort gives the rows ordered by the column col, ascending or descending.
// The sort is stable, and missing cells come last either way. Text sorts
// by its bytes (so by code point).
func (f *Frame) Sort(col string, desc bool) (*Frame, error) {
	c, err := f.Column(col)
	if err != nil {
		return nil, err
	}
	idx := make([]int32, c.n)
	for i := range idx {
		idx[i] = int32(i)
	}
	cmp := c.comparer()
	slices.SortFunc(idx, func(a, b int32) int {
		ma, mb := c.Missing(int(a)), c.Missing(int(b))
		switch {
		case ma && mb:
			return int(a - b)
		case ma:
			return 1
		case mb:
			return -1
		}
		r := cmp(int(a), int(b))
		if desc {
			r = -r
		}
		if r != 0 {
			return r
		}
		return int(a - b)
	})
	return f.with(func(c *Column) *Column { return c.take(idx) }), nil
}

// with gives a frame of the same source whose columns are fn of these.
func (f *Frame) with(fn func(*Column) *Column) *Frame {
	out := &Frame{Source: f.Source, Columns: make([]*Column, len(f.Columns))}
	for i, c := range f.Columns {
		out.Columns[i] = fn(c)
	}
	return out
}

// comparer gives a comparison of two non-missing rows.
func (c *Column) comparer() func(a, b int) int {
	switch c.Type {
	case TypeInt, TypeDatetime:
		return func(a, b int) int { return cmpOrdered(c.ints[a], c.ints[b]) }
	case TypeFloat:
		return func(a, b int) int { return cmpOrdered(c.floats[a], c.floats[b]) }
	case TypeBool:
		return func(a, b int) int { return cmpBool(c.bools[a], c.bools[b]) }
	case TypeDate:
		return func(a, b int) int { return cmpOrdered(c.days[a], c.days[b]) }
	}
	rank := c.dict.ranks()
	return func(a, b int) int { return cmpOrdered(rank[c.codes[a]], rank[c.codes[b]]) }
}

func cmpOrdered[T int64 | int32 | uint32 | float64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case b:
		return -1
	}
	return 1
}

// slice gives the first n rows, sharing the values.
func (c *Column) slice(n int) *Column {
	out := &Column{Name: c.Name, Type: c.Type, n: n, dict: c.dict}
	if c.miss != nil {
		words := (n + 63) / 64
		out.miss = make([]uint64, words)
		copy(out.miss, c.miss[:words])
		if r := n % 64; r != 0 {
			out.miss[words-1] &= 1<<r - 1
		}
		if countBits(out.miss, n) == 0 {
			out.miss = nil
		}
	}
	switch {
	case c.ints != nil:
		out.ints = c.ints[:n:n]
	case c.floats != nil:
		out.floats = c.floats[:n:n]
	case c.bools != nil:
		out.bools = c.bools[:n:n]
	case c.days != nil:
		out.days = c.days[:n:n]
	case c.codes != nil:
		out.codes = c.codes[:n:n]
	}
	return out
}

// take gives the rows idx, in that order.
func (c *Column) take(idx []int32) *Column {
	out := &Column{Name: c.Name, Type: c.Type, n: len(idx), dict: c.dict}
	if c.miss != nil {
		miss := make([]uint64, (len(idx)+63)/64)
		some := false
		for i, r := range idx {
			if bitGet(c.miss, int(r)) {
				bitSet(miss, i)
				some = true
			}
		}
		if some {
			out.miss = miss
		}
	}
	switch c.Type {
	case TypeInt, TypeDatetime:
		out.ints = gather(c.ints, idx)
	case TypeFloat:
		out.floats = gather(c.floats, idx)
	case TypeBool:
		out.bools = gather(c.bools, idx)
	case TypeDate:
		out.days = gather(c.days, idx)
	case TypeText:
		out.codes = gather(c.codes, idx)
	}
	return out
}

func gather[T any](v []T, idx []int32) []T {
	out := make([]T, len(idx))
	for i, r := range idx {
		out[i] = v[r]
	}
	return out
}

// String writes the frame as an aligned table, numbers right-aligned: its
// first 20 rows, then how many more there are.
func (f *Frame) String() string {
	const maxRows, maxCell = 20, 40
	rows := min(f.Len(), maxRows)
	cells := make([][]string, len(f.Columns))
	widths := make([]int, len(f.Columns))
	for j, c := range f.Columns {
		cells[j] = make([]string, rows+1)
		cells[j][0] = clipRunes(c.Name, maxCell)
		for i := range rows {
			cells[j][i+1] = clipRunes(c.Text(i), maxCell)
		}
		for _, s := range cells[j] {
			widths[j] = max(widths[j], utf8.RuneCountInString(s))
		}
	}
	var b strings.Builder
	for i := range rows + 1 {
		line := make([]byte, 0, 80)
		for j, c := range f.Columns {
			if j > 0 {
				line = append(line, "  "...)
			}
			s := cells[j][i]
			pad := strings.Repeat(" ", widths[j]-utf8.RuneCountInString(s))
			if c.Type.Numeric() {
				line = append(append(line, pad...), s...)
			} else {
				line = append(append(line, s...), pad...)
			}
		}
		b.WriteString(strings.TrimRight(string(line), " "))
		b.WriteByte('\n')
	}
	if n := f.Len() - rows; n > 0 {
		fmt.Fprintf(&b, "… %d more %s\n", n, plural(n, "row"))
	}
	return b.String()
}

// clipRunes keeps at most n runes of s, one line of it, marking a cut with
// "…".
func clipRunes(s string, n int) string {
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i] + "…"
	}
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// formatFloat writes v in the fewest digits that read back as v, without
// an exponent for everyday magnitudes.
func formatFloat(v float64) string {
	if a := math.Abs(v); a != 0 && (a < 1e-4 || a >= 1e15) {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

func formatDate(days int64) string {
	y, m, d := civil(days)
	var b [10]byte
	return string(appendDate(b[:0], y, m, d))
}

func appendDate(b []byte, y, m, d int) []byte {
	if y < 0 || y > 9999 {
		return fmt.Appendf(b, "%d-%02d-%02d", y, m, d)
	}
	return append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d/10), byte('0'+d%10))
}

func formatDatetime(ms int64) string {
	days, rest := floorDiv(ms, 86400000), floorMod(ms, 86400000)
	y, m, d := civil(days)
	b := appendDate(make([]byte, 0, 23), y, m, d)
	s := rest / 1000
	b = fmt.Appendf(b, " %02d:%02d:%02d", s/3600, s/60%60, s%60)
	if f := rest % 1000; f != 0 {
		b = fmt.Appendf(b, ".%03d", f)
	}
	return string(b)
}

// daysFromCivil counts the days from 1970-01-01 to the proleptic
// Gregorian date y-m-d.
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := floorDiv(int64(y), 400)
	yoe := int64(y) - era*400
	mp := int64((m + 9) % 12)
	doy := (153*mp+2)/5 + int64(d) - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civil is the date of a count of days from 1970-01-01.
func civil(days int64) (y, m, d int) {
	z := days + 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = int(doy - (153*mp+2)/5 + 1)
	m = int(mp + 3)
	if m > 12 {
		m -= 12
	}
	y = int(yoe + era*400)
	if m <= 2 {
		y++
	}
	return y, m, d
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

func bitGet(m []uint64, i int) bool { return m != nil && m[i>>6]&(1<<(uint(i)&63)) != 0 }

func bitSet(m []uint64, i int) { m[i>>6] |= 1 << (uint(i) & 63) }

// countBits counts the bits set among the first n.
func countBits(m []uint64, n int) int {
	if m == nil {
		return 0
	}
	c, words := 0, n/64
	for _, w := range m[:words] {
		c += bits.OnesCount64(w)
	}
	if r := n % 64; r != 0 {
		c += bits.OnesCount64(m[words] & (1<<r - 1))
	}
	return c
}

// forBits calls fn with each bit set among the first n, in order.
func forBits(m []uint64, n int, fn func(int)) {
	for wi, w := range m {
		for w != 0 {
			i := wi*64 + bits.TrailingZeros64(w)
			if i >= n {
				return
			}
			fn(i)
			w &= w - 1
		}
	}
}
