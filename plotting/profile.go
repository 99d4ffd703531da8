package plotting

import (
	"fmt"
	"math"
	"math/bits"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Profile sums up a Frame: where it came from, its rows, and each
// column's type, missing and distinct values, range, mean and most common
// values.
type Profile struct {
	File      string          `json:"file"`
	Sheet     *string         `json:"sheet"`     // null for a text table
	Encoding  *string         `json:"encoding"`  // null for a workbook
	Delimiter *string         `json:"delimiter"` // null for a workbook
	Decimal   string          `json:"decimal"`
	Rows      int             `json:"rows"`
	Columns   []ColumnProfile `json:"columns"`
}

// ColumnProfile sums up one column.
type ColumnProfile struct {
	Name    string `json:"name"`
	Type    string `json:"type"` // Type.String()
	Missing int    `json:"missing"`
	// Distinct counts the different values, missing not counted: exactly
	// for text, bool, dates, ints and datetimes in a range of up to 64
	// million, decimals of up to 4 places in a range of up to 64 million
	// steps, and other numbers up to 100,000 different values; beyond, it
	// is estimated (HyperLogLog, within about 1%) and DistinctApprox is
	// true.
	Distinct       int  `json:"distinct"`
	DistinctApprox bool `json:"distinct_approx"`
	// Min and Max are numbers for a numeric column, "2024-01-31" for a
	// date and "2024-01-31 15:04:05" for a datetime column, and null for
	// text, bool and a column with no value.
	Min  any      `json:"min"`
	Max  any      `json:"max"`
	Mean *float64 `json:"mean"` // null but for a numeric column with a value
	// Top is the five most common values of a text or bool column, with
	// their counts, the most common first (ties by value); null for others.
	Top []TopValue `json:"top"`
}

// TopValue is a value and how many rows hold it.
type TopValue struct {
	Value string `json:"value"`
	Count int    `json:"count"`
}

// ProfileFrame profiles f, its columns side by side on the machine's cores.
func ProfileFrame(f *Frame) *Profile {
	p := newProfile(f.Source, f.Len())
	p.Columns = make([]ColumnProfile, len(f.Columns))
	sem := make(chan struct{}, runtime.NumCPU())
	var wg sync.WaitGroup
	for i, c := range f.Columns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			p.Columns[i] = profileColumn(c)
		}()
	}
	wg.Wait()
	return p
}

// profileColumn profiles c a run of rows at a time.
// newProfile starts the profile of a table of rows rows read from src.
func newProfile(src Source, rows int) *Profile {
	p := &Profile{File: src.File, Decimal: src.Decimal, Rows: rows}
	if p.Decimal == "" {
		p.Decimal = "."
	}
	if src.Sheet != "" {
		sheet := src.Sheet
		p.Sheet = &sheet
	}
	if src.Encoding != "" {
		enc, delim := src.Encoding, src.Delimiter
		p.Encoding, p.Delimiter = &enc, &delim
	}
	return p
}

func profileColumn(c *Column) ColumnProfile {
	var cp colProfile
	step := profileRun
	if c.Type == TypeText {
		step = c.n // a part's counts are as long as the dictionary
	}
	for from := 0; from < c.n; from += step {
		p := columnPart(c, from, min(from+step, c.n))
		if err := cp.merge(&p); err != nil {
			panic(err) // a column's parts are all of its type
		}
	}
	return cp.profile(c.Name, c.Type)
}

// top gives the n largest counts, ties by text, and how many are not 0.
func top(counts []int, n int, text func(int) string) ([]TopValue, int) {
	var idx []int
	for i, c := range counts {
		if c > 0 {
			idx = append(idx, i)
		}
	}
	distinct := len(idx)
	texts := map[int]string{}
	name := func(i int) string {
		s, ok := texts[i]
		if !ok {
			s = text(i)
			texts[i] = s
		}
		return s
	}
	// A partial selection: the n best, by count then text.
	better := func(a, b int) bool {
		if counts[a] != counts[b] {
			return counts[a] > counts[b]
		}
		return name(a) < name(b)
	}
	best := make([]int, 0, n+1)
	for _, i := range idx {
		if len(best) == n && !better(i, best[n-1]) {
			continue
		}
		at, _ := slices.BinarySearchFunc(best, i, func(e, t int) int {
			if better(e, t) {
				return -1
			}
			return 1
		})
		best = slices.Insert(best, at, i)
		if len(best) > n {
			best = best[:n]
		}
	}
	out := make([]TopValue, len(best))
	for k, i := range best {
		out[k] = TopValue{Value: name(i), Count: counts[i]}
	}
	return out, distinct
}

// distinctCounter counts different 64-bit values: exactly, in a hash set,
// up to exactLimit of them; then by a HyperLogLog estimate.
type distinctCounter struct {
	set  []uint64 // open addressing of mixed values (0 is empty)
	n    int
	zero bool // the value that mixes to 0 was seen
	regs []uint8
}

const (
	exactLimit = 100_000
	hllBits    = 14 // 16,384 registers: a standard error of 0.8%
)

// mix scrambles a value's bits (the finalizer of SplitMix64), a bijection.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

func (d *distinctCounter) add(x uint64) {
	h := mix(x)
	if d.regs != nil {
		d.hll(h)
		return
	}
	if h == 0 {
		if !d.zero {
			d.zero = true
			d.n++
		}
		return
	}
	if d.set == nil {
		d.set = make([]uint64, 1024)
	}
	mask := uint64(len(d.set) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch d.set[i] {
		case h:
			return
		case 0:
			d.set[i] = h
			d.n++
			if 2*d.n > len(d.set) {
				d.growSet()
			}
			return
		}
	}
}

func (d *distinctCounter) growSet() {
	if d.n > exactLimit {
		d.regs = make([]uint8, 1<<hllBits)
		for _, h := range d.set {
			if h != 0 {
				d.hll(h)
			}
		}
		if d.zero {
			d.hll(0)
		}
		d.set = nil
		return
	}
	old := d.set
	d.set = make([]uint64, 2*len(old))
	mask := uint64(len(d.set) - 1)
	for _, h := range old {
		if h == 0 {
			continue
		}
		i := h & mask
		for d.set[i] != 0 {
			i = (i + 1) & mask
		}
		d.set[i] = h
	}
}

func (d *distinctCounter) hll(h uint64) {
	i := h >> (64 - hllBits)
	r := uint8(bits.LeadingZeros64(h<<hllBits|1<<(hllBits-1))) + 1
	if r > d.regs[i] {
		d.regs[i] = r
	}
}

// count gives the count, and whether it is an estimate.
func (d *distinctCounter) count() (int, bool) {
	if d.regs == nil {
		return d.n, false
	}
	m := float64(len(d.regs))
	sum, zeros := 0.0, 0
	for _, r := range d.regs {
		sum += math.Ldexp(1, -int(r))
		if r == 0 {
			zeros++
		}
	}
	e := 0.7213 / (1 + 1.079/m) * m * m / sum
	if e <= 2.5*m && zeros > 0 {
		e = m * math.Log(m/float64(zeros))
	}
	return int(math.Round(e)), true
}

// Text writes the profile for people: its Summary, then the Table's rows
// aligned, numbers to the right.
func (p *Profile) Text() string {
	var b strings.Builder
	b.WriteString(p.Summary())
	b.WriteByte('\n')
	rows := p.Table()
	widths := make([]int, len(rows[0]))
	for _, r := range rows {
		for j, s := range r {
			widths[j] = max(widths[j], utf8.RuneCountInString(s))
		}
	}
	for _, r := range rows {
		var line strings.Builder
		for j, s := range r {
			if j > 0 {
				line.WriteString("  ")
			}
			pad := strings.Repeat(" ", widths[j]-utf8.RuneCountInString(s))
			if ProfileNumeric[j] {
				line.WriteString(pad + s)
			} else {
				line.WriteString(s + pad)
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
	return b.String()
}

// Summary is the profile's first line: the file, its rows and how it was
// read ("sales.csv: 1,000 rows, UTF-8, delimiter \";\", decimal comma").
func (p *Profile) Summary() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Sheet != nil {
		fmt.Fprintf(&b, ", sheet %q", *p.Sheet)
	}
	fmt.Fprintf(&b, ": %s %s", groupThousands(p.Rows), plural(p.Rows, "row"))
	if p.Encoding != nil {
		fmt.Fprintf(&b, ", %s", *p.Encoding)
	}
	if p.Delimiter != nil {
		fmt.Fprintf(&b, ", delimiter %s", delimName(*p.Delimiter))
	}
	if p.Decimal != "." {
		fmt.Fprintf(&b, ", decimal comma")
	}
	return b.String()
}

// ProfileNumeric says which of the Table's columns hold numbers (drawn
// aligned to the right).
var ProfileNumeric = []bool{false, false, true, true, true, true, true, false}

// Table is the profile as text cells for people: a header row, then a row
// per column with its name, type, missing and distinct counts ("~" marks
// an approximate one), min, max, mean and most common values.
func (p *Profile) Table() [][]string {
	rows := [][]string{{"column", "type", "missing", "distinct", "min", "max", "mean", "top"}}
	for _, c := range p.Columns {
		distinct := groupThousands(c.Distinct)
		if c.DistinctApprox {
			distinct = "~" + distinct
		}
		mean := ""
		if c.Mean != nil {
			mean = formatFloat(roundSig(*c.Mean, 6))
		}
		var tops []string
		for _, t := range c.Top {
			tops = append(tops, fmt.Sprintf("%s (%s)", clipRunes(t.Value, 20), groupThousands(t.Count)))
		}
		rows = append(rows, []string{clipRunes(c.Name, 30), c.Type, groupThousands(c.Missing), distinct,
			profileValue(c.Min), profileValue(c.Max), mean, strings.Join(tops, ", ")})
	}
	return rows
}

func delimName(d string) string {
	switch d {
	case "\t":
		return "tab"
	case ",", ";", "|":
		return `"` + d + `"`
	}
	return strconv.Quote(d)
}

func profileValue(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case float64:
		return formatFloat(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case string:
		return v
	}
	return fmt.Sprint(v)
}

// roundSig rounds v to n significant digits.
func roundSig(v float64, n int) float64 {
	if v == 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return v
	}
	f, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', n, 64), 64)
	return f
}

// groupThousands writes n as 1,234,567.
func groupThousands(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, s[i])
	}
	if neg {
		return "-" + string(b)
	}
	return string(b)
}
