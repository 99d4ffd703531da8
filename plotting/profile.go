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
	// for text, bool, dates, ints in a range of up to 16 million, decimals
	// of up to 4 places in a range of up to 64 million steps, and other
	// numbers up to 100,000 different values; beyond, it is estimated
	// (HyperLogLog, within about 1%) and DistinctApprox is true.
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
	p := &Profile{File: f.Source.File, Decimal: f.Source.Decimal, Rows: f.Len()}
	if p.Decimal == "" {
		p.Decimal = "."
	}
	if f.Source.Sheet != "" {
		sheet := f.Source.Sheet
		p.Sheet = &sheet
	}
	if f.Source.Encoding != "" {
		enc, delim := f.Source.Encoding, f.Source.Delimiter
		p.Encoding, p.Delimiter = &enc, &delim
	}
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

func profileColumn(c *Column) (cp ColumnProfile) {
	cp = ColumnProfile{Name: c.Name, Type: c.Type.String(), Missing: c.missingCount()}
	if cp.Missing == c.n {
		return cp
	}
	defer func() {
		if cp.Mean != nil && (math.IsInf(*cp.Mean, 0) || math.IsNaN(*cp.Mean)) {
			cp.Mean = nil // sums past the largest float: no mean JSON can hold
		}
	}()
	switch c.Type {
	case TypeText:
		counts := make([]int, c.dict.len())
		if c.miss == nil {
			for _, code := range c.codes[:c.n] {
				counts[code]++
			}
		} else {
			for i, code := range c.codes[:c.n] {
				if !bitGet(c.miss, i) {
					counts[code]++
				}
			}
		}
		cp.Top, cp.Distinct = top(counts, 5, func(code int) string { return c.dict.str(uint32(code)) })
	case TypeBool:
		var counts [2]int
		for i, v := range c.bools[:c.n] {
			if !bitGet(c.miss, i) {
				if v {
					counts[1]++
				} else {
					counts[0]++
				}
			}
		}
		cp.Top, cp.Distinct = top(counts[:], 5, func(v int) string { return strconv.FormatBool(v == 1) })
	case TypeInt:
		lo, hi, sum := intStats(c.ints[:c.n], c.miss)
		cp.Min, cp.Max = lo, hi
		mean := sum / float64(c.n-cp.Missing)
		cp.Mean = &mean
		cp.Distinct, cp.DistinctApprox = distinctInts(c.ints[:c.n], c.miss, lo, hi)
	case TypeDatetime:
		lo, hi, _ := intStats(c.ints[:c.n], c.miss)
		cp.Min, cp.Max = formatDatetime(lo), formatDatetime(hi)
		cp.Distinct, cp.DistinctApprox = distinctInts(c.ints[:c.n], c.miss, lo, hi)
	case TypeDate:
		lo, hi := int32(math.MaxInt32), int32(math.MinInt32)
		for i, v := range c.days[:c.n] {
			if (v < lo || v > hi) && !bitGet(c.miss, i) {
				lo, hi = min(lo, v), max(hi, v)
			}
		}
		cp.Min, cp.Max = formatDate(int64(lo)), formatDate(int64(hi))
		seen := make([]uint64, (int(hi)-int(lo))/64+1)
		for i, v := range c.days[:c.n] {
			if !bitGet(c.miss, i) {
				bitSet(seen, int(v-lo))
			}
		}
		cp.Distinct = countBits(seen, len(seen)*64)
	case TypeFloat:
		lo, hi, sum := math.Inf(1), math.Inf(-1), 0.0
		for i, v := range c.floats[:c.n] {
			if c.miss == nil || !bitGet(c.miss, i) {
				lo, hi, sum = min(lo, v), max(hi, v), sum+v
			}
		}
		cp.Min, cp.Max = lo, hi
		mean := sum / float64(c.n-cp.Missing)
		cp.Mean = &mean
		if n, ok := distinctDecimals(c.floats[:c.n], c.miss, lo, hi); ok {
			cp.Distinct = n
			break
		}
		var d distinctCounter
		for i, v := range c.floats[:c.n] {
			if c.miss == nil || !bitGet(c.miss, i) {
				if v == 0 {
					v = 0 // -0 is 0
				}
				d.add(math.Float64bits(v))
			}
		}
		cp.Distinct, cp.DistinctApprox = d.count()
	}
	return cp
}

func intStats(v []int64, miss []uint64) (lo, hi int64, sum float64) {
	lo, hi = math.MaxInt64, math.MinInt64
	for i, x := range v {
		if miss == nil || !bitGet(miss, i) {
			lo, hi, sum = min(lo, x), max(hi, x), sum+float64(x)
		}
	}
	return lo, hi, sum
}

// distinctInts counts the different values of v, exactly with a bitmap
// when they span at most 16 million.
func distinctInts(v []int64, miss []uint64, lo, hi int64) (int, bool) {
	if span := uint64(hi - lo); span < 1<<24 {
		seen := make([]uint64, span/64+1)
		for i, x := range v {
			if miss == nil || !bitGet(miss, i) {
				bitSet(seen, int(x-lo))
			}
		}
		return countBits(seen, len(seen)*64), false
	}
	var d distinctCounter
	for i, x := range v {
		if miss == nil || !bitGet(miss, i) {
			d.add(uint64(x))
		}
	}
	return d.count()
}

// distinctDecimals counts the different values of v exactly when all are
// whole multiples of a power of ten from 1 to 0.0001 (amounts of money,
// measures written to a few decimals) spanning at most 64 million steps:
// then each value is a bit of a bitmap. It gives false for other floats.
func distinctDecimals(v []float64, miss []uint64, lo, hi float64) (int, bool) {
	const magic = 1 << 52 * 1.5 // adding and taking it away rounds to a whole number
	var seen []uint64
	for d := range 5 {
		scale := pow10[d]
		if (hi-lo)*scale >= 1<<26 || math.Abs(lo)*scale >= 1<<50 || math.Abs(hi)*scale >= 1<<50 {
			return 0, false
		}
		base := (lo*scale + magic) - magic
		words := int(((hi*scale+magic)-magic-base)/64) + 1
		if cap(seen) < words {
			seen = make([]uint64, words)
		} else {
			seen = seen[:words]
			clear(seen)
		}
		fits := true
		for i, x := range v {
			if miss != nil && bitGet(miss, i) {
				continue
			}
			k := (x*scale + magic) - magic
			if k/scale != x {
				fits = false
				break
			}
			bitSet(seen, int(k-base))
		}
		if fits {
			return countBits(seen, len(seen)*64), true
		}
	}
	return 0, false
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
