package plotting

import (
	"errors"
	"math"
	"math/bits"
	"path"
	"strconv"
)

// A column is profiled a run of rows at a time: each run is summed up as a
// colPart on its own (a text table's chunk, on the goroutine that parsed
// it), and the parts are merged in order into a colProfile. Every measure
// merges to what the whole column gives at once, so the profile of a table
// read chunk by chunk is the profile of the table.

// errMixedTypes says the runs of a column disagree on its type in a way
// only the whole column settles: text and numbers, say, which make text
// whose values the parts no longer hold.
var errMixedTypes = errors.New("the column's parts disagree on its type")

// profileRun is the rows a part of a Frame's column covers.
const profileRun = 1 << 16

// maxKeySpan is the widest span of keys a column's distinct values are
// counted in a bitmap for, exactly (8 MB of bits).
const maxKeySpan = 1 << 26

// maxDecimals is the most decimal places a float column's values are
// counted with as keys; maxScaled bounds a scaled value, so that each is a
// whole float64.
const (
	maxDecimals = 4
	maxScaled   = 1 << 50
)

// colPart sums up a run of a column's rows.
type colPart struct {
	typ        Type
	none       bool // no row of the run holds a value: typ says nothing
	n, missing int
	ilo, ihi   int64   // int, date (days) and datetime (milliseconds)
	flo, fhi   float64 // float
	sum, comp  float64 // int and float: the sum, and what its rounding lost
	// keys are the values, missing left out, as whole numbers: ints,
	// days and milliseconds as they are; floats times 10^scale, or their
	// bits when scale is -1 (no scale up to maxDecimals writes them all).
	keys   []int64
	scale  int
	dict   *dict // text: the codes' texts
	counts []int // text: the rows of each code; bool: of false and true
}

// release gives the part's keys back to the pool.
func (p *colPart) release() {
	poolInts.put(p.keys)
	p.keys = nil
}

// columnPart sums up rows from to to of c. A text column's counts are by
// c's dictionary.
func columnPart(c *Column, from, to int) colPart {
	p := colPart{typ: c.Type, n: to - from}
	present := func(i int) bool { return c.miss == nil || !bitGet(c.miss, i) }
	if c.miss != nil {
		for i := from; i < to; i++ {
			if bitGet(c.miss, i) {
				p.missing++
			}
		}
	}
	if p.missing == p.n {
		p.none = true
		return p
	}
	switch c.Type {
	case TypeText:
		p.dict, p.counts = c.dict, make([]int, c.dict.len())
		for i, code := range c.codes[from:to] {
			if present(from + i) {
				p.counts[code]++
			}
		}
	case TypeBool:
		p.counts = make([]int, 2)
		for i, v := range c.bools[from:to] {
			if present(from + i) {
				p.counts[b2i(v)]++
			}
		}
	case TypeInt, TypeDatetime:
		p.keys = poolInts.get(0, p.n-p.missing)
		for i, v := range c.ints[from:to] {
			if present(from + i) {
				p.keys = append(p.keys, v)
			}
		}
		p.intStats()
	case TypeDate:
		p.keys = poolInts.get(0, p.n-p.missing)
		for i, v := range c.days[from:to] {
			if present(from + i) {
				p.keys = append(p.keys, int64(v))
			}
		}
		p.ilo, p.ihi = minMax(p.keys)
	case TypeFloat:
		p.floatStats(c.floats[from:to], c.miss, from)
	}
	return p
}

func b2i(v bool) int {
	if v {
		return 1
	}
	return 0
}

func minMax(keys []int64) (lo, hi int64) {
	lo, hi = math.MaxInt64, math.MinInt64
	for _, k := range keys {
		lo, hi = min(lo, k), max(hi, k)
	}
	return lo, hi
}

// addSum adds v to the part's sum, keeping what rounding loses
// (Neumaier's summation), so that the sum hardly depends on how the
// column is cut into parts.
func addSum(sum, comp *float64, v float64) {
	t := *sum + v
	if math.Abs(*sum) >= math.Abs(v) {
		*comp += (*sum - t) + v
	} else {
		*comp += (v - t) + *sum
	}
	*sum = t
}

func (p *colPart) intStats() {
	p.ilo, p.ihi = minMax(p.keys)
	for _, k := range p.keys {
		addSum(&p.sum, &p.comp, float64(k))
	}
}

// floatStats sums up the floats v, whose row i is row off+i of miss, and
// makes their keys at the fewest decimal places that write them all.
func (p *colPart) floatStats(v []float64, miss []uint64, off int) {
	p.flo, p.fhi = math.Inf(1), math.Inf(-1)
	p.keys = poolInts.get(0, p.n-p.missing)
	for i, x := range v {
		if miss == nil || !bitGet(miss, off+i) {
			p.flo, p.fhi = min(p.flo, x), max(p.fhi, x)
			addSum(&p.sum, &p.comp, x)
			p.keys = append(p.keys, int64(math.Float64bits(x)))
		}
	}
	p.scale = -1
	vals := p.keys
	const magic = 1 << 52 * 1.5 // adding and taking it away rounds to a whole number
	for d := range maxDecimals + 1 {
		scale := pow10[d]
		if !(math.Abs(p.flo)*scale < maxScaled && math.Abs(p.fhi)*scale < maxScaled) {
			break
		}
		fits := true
		for _, b := range vals {
			x := math.Float64frombits(uint64(b))
			if k := (x*scale + magic) - magic; k/scale != x {
				fits = false
				break
			}
		}
		if fits {
			for i, b := range vals {
				x := math.Float64frombits(uint64(b))
				vals[i] = int64((x*scale + magic) - magic)
			}
			p.scale = d
			return
		}
	}
	for i, b := range vals {
		if b == math.MinInt64 { // -0 is 0
			vals[i] = 0
		}
	}
}

// toFloat makes an int part a float part.
func (p *colPart) toFloat() {
	p.typ, p.flo, p.fhi = TypeFloat, float64(p.ilo), float64(p.ihi)
	if p.ilo > -maxScaled && p.ihi < maxScaled {
		p.scale = 0
		return
	}
	p.scale = -1
	for i, k := range p.keys {
		p.keys[i] = int64(math.Float64bits(float64(k)))
	}
}

// toDatetime makes a date part a datetime part.
func (p *colPart) toDatetime() {
	p.typ, p.ilo, p.ihi = TypeDatetime, p.ilo*msPerDay, p.ihi*msPerDay
	for i, k := range p.keys {
		p.keys[i] = k * msPerDay
	}
}

const msPerDay = 86_400_000

// colProfile is a column's profile as its parts are merged in.
type colProfile struct {
	typ        Type
	some       bool // a value was seen: typ holds
	n, missing int
	ilo, ihi   int64
	flo, fhi   float64
	sum, comp  float64
	set        keySet
	dict       *dict
	counts     []int
}

// merge adds the next run of the column's rows.
func (cp *colProfile) merge(p *colPart) error {
	defer p.release()
	cp.n += p.n
	cp.missing += p.missing
	if p.none {
		return nil
	}
	if !cp.some {
		cp.some, cp.typ = true, p.typ
		cp.ilo, cp.ihi = math.MaxInt64, math.MinInt64
		cp.flo, cp.fhi = math.Inf(1), math.Inf(-1)
		cp.set = keySet{float: p.typ == TypeFloat, scale: max(p.scale, 0)}
	}
	switch {
	case cp.typ == p.typ:
	case cp.typ == TypeFloat && p.typ == TypeInt:
		p.toFloat()
	case cp.typ == TypeInt && p.typ == TypeFloat:
		if err := cp.toFloat(); err != nil {
			return err
		}
	case cp.typ == TypeDatetime && p.typ == TypeDate:
		p.toDatetime()
	case cp.typ == TypeDate && p.typ == TypeDatetime:
		if err := cp.toDatetime(); err != nil {
			return err
		}
	default:
		return errMixedTypes
	}
	addSum(&cp.sum, &cp.comp, p.sum)
	addSum(&cp.sum, &cp.comp, p.comp)
	switch cp.typ {
	case TypeText:
		cp.mergeText(p)
	case TypeBool:
		if cp.counts == nil {
			cp.counts = make([]int, 2)
		}
		cp.counts[0] += p.counts[0]
		cp.counts[1] += p.counts[1]
	case TypeFloat:
		cp.flo, cp.fhi = min(cp.flo, p.flo), max(cp.fhi, p.fhi)
		cp.set.addScaled(p.keys, p.scale)
	default:
		cp.ilo, cp.ihi = min(cp.ilo, p.ilo), max(cp.ihi, p.ihi)
		cp.set.add(p.keys, p.ilo, p.ihi)
	}
	return nil
}

// mergeText adds a text part's counts, by the part's dictionary.
func (cp *colProfile) mergeText(p *colPart) {
	if cp.dict == nil {
		// The first part's dictionary is the profile's: a Frame's parts
		// all share it, and a chunk's is its own.
		cp.dict = p.dict
	}
	if p.dict == cp.dict {
		if len(cp.counts) < len(p.counts) {
			cp.counts = append(cp.counts, make([]int, len(p.counts)-len(cp.counts))...)
		}
		for code, k := range p.counts {
			cp.counts[code] += k
		}
		return
	}
	for code, k := range p.counts {
		if k == 0 {
			continue
		}
		c := int(cp.dict.add(p.dict.bytes(uint32(code))))
		for len(cp.counts) <= c {
			cp.counts = append(cp.counts, 0)
		}
		cp.counts[c] += k
	}
}

func (cp *colProfile) toFloat() error {
	if cp.set.over || cp.ilo <= -maxScaled || cp.ihi >= maxScaled {
		return errMixedTypes // the ints' keys are no longer at hand
	}
	cp.typ, cp.flo, cp.fhi = TypeFloat, float64(cp.ilo), float64(cp.ihi)
	cp.set.float, cp.set.scale = true, 0
	return nil
}

func (cp *colProfile) toDatetime() error {
	if cp.set.over {
		return errMixedTypes // the days are no longer at hand
	}
	keys := cp.set.keys()
	cp.typ, cp.ilo, cp.ihi = TypeDatetime, cp.ilo*msPerDay, cp.ihi*msPerDay
	for i := range keys {
		keys[i] *= msPerDay
	}
	cp.set = keySet{}
	cp.set.add(keys, cp.ilo, cp.ihi)
	return nil
}

// profile gives the column's profile, named name, of type typ if no row
// holds a value.
func (cp *colProfile) profile(name string, typ Type) (out ColumnProfile) {
	out = ColumnProfile{Name: name, Type: cp.typ.String(), Missing: cp.missing}
	if !cp.some {
		out.Type = typ.String()
		return out
	}
	mean := (cp.sum + cp.comp) / float64(cp.n-cp.missing)
	if math.IsInf(mean, 0) || math.IsNaN(mean) {
		mean = math.NaN() // sums past the largest float: no mean JSON can hold
	}
	switch cp.typ {
	case TypeText:
		out.Top, out.Distinct = top(cp.counts, 5, func(code int) string { return cp.dict.str(uint32(code)) })
	case TypeBool:
		out.Top, out.Distinct = top(cp.counts, 5, func(v int) string { return strconv.FormatBool(v == 1) })
	case TypeInt:
		out.Min, out.Max = cp.ilo, cp.ihi
		out.Distinct, out.DistinctApprox = cp.set.count()
	case TypeFloat:
		out.Min, out.Max = cp.flo, cp.fhi
		out.Distinct, out.DistinctApprox = cp.set.count()
	case TypeDate:
		out.Min, out.Max = formatDate(cp.ilo), formatDate(cp.ihi)
		out.Distinct, out.DistinctApprox = cp.set.count()
	case TypeDatetime:
		out.Min, out.Max = formatDatetime(cp.ilo), formatDatetime(cp.ihi)
		out.Distinct, out.DistinctApprox = cp.set.count()
	}
	if (cp.typ == TypeInt || cp.typ == TypeFloat) && !math.IsNaN(mean) {
		out.Mean = &mean
	}
	return out
}

// keySet counts a column's different values, held as whole-number keys:
// exactly in a bitmap while they span under maxKeySpan keys, then in a
// distinctCounter (exactly up to its limit, then estimated).
type keySet struct {
	float   bool  // the values are floats: keys are values times 10^scale
	scale   int   // the decimal places of a float's key
	base    int64 // the key of words' first bit
	words   []uint64
	lo, hi  int64 // the least and greatest key set, when words is not nil
	over    bool  // the keys spanned too much: every value is in counted
	counted distinctCounter
}

// value is the value a key stands for, as the distinctCounter counts it.
func (s *keySet) value(k int64, scale int) uint64 {
	if !s.float {
		return uint64(k)
	}
	if scale < 0 {
		return uint64(k) // already the float's bits
	}
	return math.Float64bits(float64(k) / pow10[scale])
}

// addScaled adds float keys at scale (-1: the floats' bits).
func (s *keySet) addScaled(keys []int64, scale int) {
	if len(keys) == 0 {
		return
	}
	if scale < 0 || s.over {
		s.spill()
		for _, k := range keys {
			s.counted.add(s.value(k, scale))
		}
		return
	}
	if scale > s.scale {
		s.rescale(scale)
		if s.over {
			s.addScaled(keys, scale)
			return
		}
	}
	if scale < s.scale {
		m := int64(pow10[s.scale-scale])
		for _, k := range keys {
			if k <= -maxScaled/m || k >= maxScaled/m {
				s.spill()
				s.addScaled(keys, scale)
				return
			}
		}
		for i := range keys {
			keys[i] *= m
		}
	}
	lo, hi := minMax(keys)
	s.add(keys, lo, hi)
}

// rescale makes the float keys' decimal places d, more than they were.
func (s *keySet) rescale(d int) {
	keys := s.keys()
	m := int64(pow10[d-s.scale])
	for _, k := range keys {
		if k <= -maxScaled/m || k >= maxScaled/m {
			s.spill() // at the old scale, which stands for the same values
			s.scale = d
			return
		}
	}
	for i := range keys {
		keys[i] *= m
	}
	s.words, s.scale = nil, d
	lo, hi := minMax(keys)
	s.add(keys, lo, hi)
}

// add sets the keys, whose least and greatest are lo and hi.
func (s *keySet) add(keys []int64, lo, hi int64) {
	if len(keys) == 0 {
		return
	}
	if s.over {
		for _, k := range keys {
			s.counted.add(s.value(k, s.scale))
		}
		return
	}
	if s.words != nil {
		lo, hi = min(lo, s.lo), max(hi, s.hi)
	}
	if uint64(hi-lo) >= maxKeySpan {
		s.spill()
		s.add(keys, lo, hi)
		return
	}
	s.cover(lo, hi)
	for _, k := range keys {
		bitSet(s.words, int(k-s.base))
	}
}

// cover makes the bitmap reach from lo to hi, which span under
// maxKeySpan, with room to grow on a side it grows at, so that keys that
// climb do not copy it each time.
func (s *keySet) cover(lo, hi int64) {
	end := s.base + int64(len(s.words))*64 - 1 // the last key the bitmap holds
	if s.words != nil && lo >= s.base && hi <= end {
		s.lo, s.hi = lo, hi
		return
	}
	from, to := lo, hi
	if s.words != nil {
		slack := (hi - lo) / 2
		if lo < s.base && lo-slack < lo {
			from = max(lo-slack, hi-maxKeySpan)
		}
		if hi > end && hi+slack > hi {
			to = min(hi+slack, from+maxKeySpan)
		}
		from, to = min(from, s.base), max(to, end)
	}
	base := from &^ 63
	words := make([]uint64, (to-base)/64+1)
	if s.words != nil {
		copy(words[(s.base-base)/64:], s.words)
	}
	s.base, s.words, s.lo, s.hi = base, words, lo, hi
}

// keys gives the keys set, in order.
func (s *keySet) keys() []int64 {
	var keys []int64
	for w, word := range s.words {
		for word != 0 {
			keys = append(keys, s.base+int64(w*64+bits.TrailingZeros64(word)))
			word &= word - 1
		}
	}
	return keys
}

// spill moves the keys set to the counter, for good.
func (s *keySet) spill() {
	if s.over {
		return
	}
	s.over = true
	for _, k := range s.keys() {
		s.counted.add(s.value(k, s.scale))
	}
	s.words = nil
}

// count gives the number of different values, and whether it is an
// estimate.
func (s *keySet) count() (int, bool) {
	if s.over {
		return s.counted.count()
	}
	return countBits(s.words, len(s.words)*64), false
}

// ProfileFile profiles the table file at p, and gives the warnings its
// reading gave (see Frame.Warnings). A text table is profiled as it is
// read: each chunk is summed up on the goroutine that parsed it, and the
// table is never held whole. A workbook, or a text table whose types only
// the whole of a column settles (text among numbers, say, or dates whose
// order is day or month first), is read whole and then profiled. Either
// way the profile is the one ProfileFrame gives of the table read whole,
// but that a mean may differ in its last digits, summed in another order.
func ProfileFile(p string, opts ReadOptions) (*Profile, []string, error) {
	if err := checkTableName(p); err != nil {
		return nil, nil, err
	}
	if !IsWorkbook(p) {
		prof, warnings, err := streamProfile(p, opts)
		if !errors.Is(err, errNoStream) {
			return prof, warnings, err
		}
	}
	f, err := ReadFile(p, opts)
	if err != nil {
		return nil, nil, err
	}
	return ProfileFrame(f), f.Warnings, nil
}

// streamProfile profiles a text table chunk by chunk, or says errNoStream.
func streamProfile(p string, opts ReadOptions) (*Profile, []string, error) {
	f, size, err := openSized(p)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	name := path.Base(p)
	tr, unique, err := openText(f, size, name, opts)
	if err != nil {
		return nil, nil, err
	}
	width := tr.p.width
	cols := make([]colProfile, width)
	var stats readStats
	err = tr.pipeline(func(idx int, data []byte) *chunkResult {
		res := tr.parseChunk(idx, data)
		parts := make([]*colPart, width)
		for j, c := range res.cols {
			if c == nil {
				continue
			}
			if c.amb.n > 0 {
				res.err = errNoStream // day or month first: the whole column says
			}
			parts[j] = c.part()
			c.release()
		}
		res.cols, res.value = nil, parts
		return res
	}, func(res *chunkResult) error {
		stats.add(res.stats)
		for j, part := range res.value.([]*colPart) {
			if part != nil {
				if err := cols[j].merge(part); err != nil {
					return errNoStream
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	src := tr.source(name)
	prof := newProfile(src, stats.rows)
	for j, n := range unique {
		if tr.keep == nil || tr.keep[j] {
			prof.Columns = append(prof.Columns, cols[j].profile(n, TypeText))
		}
	}
	warnings := stats.warnings(width)
	if tr.cut {
		warnings = append(warnings, cutWarning(tr.end, size))
	}
	return prof, warnings, nil
}

// part sums up a chunk's share of a column; the part holds none of the
// chunk's storage but its dictionary.
func (c *colData) part() *colPart {
	if c.kind == kNone {
		return &colPart{none: true, n: c.n, missing: c.n}
	}
	p := columnPart(c.view(""), 0, c.n)
	return &p
}
