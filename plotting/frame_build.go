package plotting

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"sync"
	"unicode/utf8"
)

// dict holds the distinct texts of a text column, each once, in one byte
// arena, with a hash index: a column of a million cells and twenty names
// keeps twenty strings and a million codes.
type dict struct {
	arena []byte
	ends  []int      // where each text ends in arena; it starts where the one before ends
	table []dictSlot // open addressing, a power of two long
	short *[128]shortSlot

	once  sync.Once
	strs  []string // the texts as strings, made once when first asked for
	ronce sync.Once
	rank  []uint32 // each code's place in the sorted texts
}

// dictSlot is a slot of a dict's index: code+1 (0 for an empty slot) and
// the high half of the text's hash.
type dictSlot struct{ code, hash uint32 }

// hashSeed varies hashBytes from one run to the next, so that no file can
// be made to collide.
var hashSeed = rand.Uint64() | 1

// hashBytes hashes b a word at a time; short texts, such as the names a
// category column repeats, take a few nanoseconds.
func hashBytes(b []byte) uint64 {
	h := hashSeed ^ uint64(len(b))*0x9e3779b97f4a7c15
	for len(b) >= 8 {
		h = (h ^ binary.LittleEndian.Uint64(b)) * 0xbf58476d1ce4e5b9
		h ^= h >> 31
		b = b[8:]
	}
	var t uint64
	switch {
	case len(b) >= 4:
		t = uint64(binary.LittleEndian.Uint32(b)) | uint64(binary.LittleEndian.Uint32(b[len(b)-4:]))<<32
	case len(b) > 0:
		t = uint64(b[0]) | uint64(b[len(b)/2])<<8 | uint64(b[len(b)-1])<<16 | 1<<24
	}
	h = (h ^ t) * 0x94d049bb133111eb
	h ^= h >> 29
	h *= 0xbf58476d1ce4e5b9
	return h ^ h>>32
}

func newDict() *dict { return &dict{table: make([]dictSlot, 16)} }

func (d *dict) len() int { return len(d.ends) }

func (d *dict) bytes(code uint32) []byte {
	start := 0
	if code > 0 {
		start = d.ends[code-1]
	}
	return d.arena[start:d.ends[code]]
}

// shortSlot caches the code of a text of at most 16 bytes: the text as
// two words, zero-padded, and its length plus one (0 for an empty slot).
type shortSlot struct {
	w0, w1 uint64
	n      uint32
	code   uint32
}

// words gives b, at most 16 bytes long, as two little-endian words padded
// with zeros.
func words(b []byte) (w0, w1 uint64) {
	n := len(b)
	switch {
	case n >= 8:
		w0 = binary.LittleEndian.Uint64(b)
		if n > 8 {
			w1 = binary.LittleEndian.Uint64(b[n-8:]) >> (8 * (16 - n))
		}
	case n >= 4:
		w0 = uint64(binary.LittleEndian.Uint32(b)) | uint64(binary.LittleEndian.Uint32(b[n-4:]))>>(8*(8-n))<<32
	default:
		for i := n - 1; i >= 0; i-- {
			w0 = w0<<8 | uint64(b[i])
		}
	}
	return w0, w1
}

// add gives the code of b, adding it if it is new. Bytes that are not
// valid UTF-8 are kept with U+FFFD for each bad sequence. The codes of
// short texts are cached, so that a column of a few names repeated takes
// a few nanoseconds a cell.
func (d *dict) add(b []byte) uint32 {
	if len(b) > 16 {
		return d.lookup(b)
	}
	w0, w1 := words(b)
	return d.addShort(b, w0, w1)
}

// addShort is add for b of at most 16 bytes, given as words.
func (d *dict) addShort(b []byte, w0, w1 uint64) uint32 {
	if d.short == nil {
		d.short = new([128]shortSlot)
	}
	e := &d.short[((w0^w1*0x9e3779b97f4a7c15^uint64(len(b)))*0xbf58476d1ce4e5b9)>>57]
	if e.n == uint32(len(b))+1 && e.w0 == w0 && e.w1 == w1 {
		return e.code
	}
	code := d.lookup(b)
	*e = shortSlot{w0, w1, uint32(len(b)) + 1, code}
	return code
}

// byteMask keeps the low k bytes of a word, k from 0 to 8.
func byteMask(k int) uint64 { return ^uint64(0) >> (64 - 8*uint(k)) }

// lookup is add, by the hash index.
func (d *dict) lookup(b []byte) uint32 {
	h := hashBytes(b)
	mask := uint64(len(d.table) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		e := d.table[i]
		if e.code == 0 {
			break
		}
		if e.hash == uint32(h>>32) && bytes.Equal(d.bytes(e.code-1), b) {
			return e.code - 1
		}
	}
	if !utf8.Valid(b) {
		return d.add(bytes.ToValidUTF8(b, []byte("\uFFFD")))
	}
	code := uint32(len(d.ends))
	d.arena = append(d.arena, b...)
	d.ends = append(d.ends, len(d.arena))
	if 2*len(d.ends) > len(d.table) {
		d.grow()
	} else {
		d.insert(code, h)
	}
	return code
}

func (d *dict) insert(code uint32, h uint64) {
	mask := uint64(len(d.table) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		if d.table[i].code == 0 {
			d.table[i] = dictSlot{code + 1, uint32(h >> 32)}
			return
		}
	}
}

func (d *dict) grow() {
	d.table = make([]dictSlot, 2*len(d.table))
	for code := range d.ends {
		d.insert(uint32(code), hashBytes(d.bytes(uint32(code))))
	}
}

// str gives the text of code as a string. The strings of a dictionary of
// up to 65,536 texts are made once, when first asked for; a bigger one
// (of IDs, say) makes each when asked.
func (d *dict) str(code uint32) string {
	if len(d.ends) > 1<<16 {
		return string(d.bytes(code))
	}
	d.once.Do(func() {
		d.strs = make([]string, len(d.ends))
		for i := range d.strs {
			d.strs[i] = string(d.bytes(uint32(i)))
		}
	})
	return d.strs[code]
}

// ranks gives each code's place among the texts sorted by their bytes.
func (d *dict) ranks() []uint32 {
	d.ronce.Do(func() {
		order := make([]uint32, len(d.ends))
		for i := range order {
			order[i] = uint32(i)
		}
		slices.SortFunc(order, func(a, b uint32) int { return bytes.Compare(d.bytes(a), d.bytes(b)) })
		d.rank = make([]uint32, len(order))
		for r, code := range order {
			d.rank[code] = uint32(r)
		}
	})
	return d.rank
}

// kind is what a column being read holds so far: a Type, or nothing but
// missing cells yet (kNone), or values of types that do not mix, whose
// text is still to be read (kConflict).
type kind uint8

const (
	kNone kind = iota
	kInt
	kFloat
	kBool
	kDate
	kDatetime
	kText
	kConflict
)

func (k kind) typ() Type {
	switch k {
	case kInt:
		return TypeInt
	case kFloat:
		return TypeFloat
	case kBool:
		return TypeBool
	case kDate:
		return TypeDate
	case kDatetime:
		return TypeDatetime
	}
	return TypeText
}

// Dates written a/b/yyyy could be month first or day first; they are kept
// as ambiguous until the whole column is read. An ambiguous date is held,
// in place of a count of days (or of milliseconds), as ambBase (or
// ambBaseMs) plus yyyy*10000 + a*100 + b, far below any real date.
const (
	ambBase   = -2_100_000_000
	ambLimit  = -1_000_000_000
	ambBaseMs = -1 << 62
	ambLimMs  = -1 << 61
)

func ambPacked(v int64) (y, a, b int) {
	p := int(v - ambBase)
	return p / 10000, p / 100 % 100, p % 100
}

// ambStats sums up a column's ambiguous dates: the largest first and
// second parts, and whether all of them are valid month first, and day
// first.
type ambStats struct {
	n          int
	maxA, maxB int
	badMF      bool
	badDF      bool
}

func (s *ambStats) note(v int64) {
	y, a, b := ambPacked(v)
	s.n++
	s.maxA, s.maxB = max(s.maxA, a), max(s.maxB, b)
	s.badMF = s.badMF || !validDate(y, a, b)
	s.badDF = s.badDF || !validDate(y, b, a)
}

func (s *ambStats) merge(o ambStats) {
	s.n += o.n
	s.maxA, s.maxB = max(s.maxA, o.maxA), max(s.maxB, o.maxB)
	s.badMF = s.badMF || o.badMF
	s.badDF = s.badDF || o.badDF
}

// resolve decides the order of the column's ambiguous dates: day first if
// some first part is over 12, else month first; ok is false when no one
// order reads them all.
func (s *ambStats) resolve() (dayFirst, ok bool) {
	if s.maxA > 12 {
		return true, s.maxB <= 12 && !s.badDF
	}
	if !s.badMF {
		return false, true
	}
	return true, !s.badDF
}

// colData is a column being read: a chunk's share of it, or the whole of
// it as the chunks are joined.
type colData struct {
	kind    kind
	n       int
	miss    []uint64
	ints    []int64 // kInt; kDatetime as Unix milliseconds
	floats  []float64
	bools   []bool
	days    []int32
	codes   []uint32
	dict    *dict
	amb     ambStats
	capRows int  // the rows storage is made for
	pooled  bool // storage comes from the pools (see newChunkCol)
}

func newColData(capRows int, text bool) *colData {
	c := &colData{capRows: max(capRows, 1)}
	if text {
		c.start(kText)
	}
	return c
}

// newChunkCol is newColData for a chunk's share of a column, whose storage
// comes from the pools and goes back with release once joined.
func newChunkCol(capRows int, text bool) *colData {
	c := &colData{capRows: max(capRows, 1), pooled: true}
	if text {
		c.start(kText)
	}
	return c
}

// The storage of chunks' columns and of text blocks is used again from one
// read to the next, and within a read from one chunk to the next: the
// garbage collector then has little to do.
var (
	poolInts   slicePool[int64]
	poolFloats slicePool[float64]
	poolDays   slicePool[int32]
	poolCodes  slicePool[uint32]
	poolWords  slicePool[uint64]
	poolBlocks slicePool[byte]
)

// slicePool keeps slices for use again.
type slicePool[T any] struct{ p sync.Pool }

// get gives a slice of n zero values with room for size.
func (sp *slicePool[T]) get(n, size int) []T {
	if v, _ := sp.p.Get().(*[]T); v != nil {
		if s := *v; cap(s) >= size {
			s = s[:n]
			clear(s)
			return s
		}
	}
	return make([]T, n, size)
}

func (sp *slicePool[T]) put(s []T) {
	if cap(s) > 0 {
		sp.p.Put(&s)
	}
}

// release gives a pooled column's storage back; the column is empty
// after.
func (c *colData) release() {
	if !c.pooled {
		return
	}
	poolInts.put(c.ints)
	poolFloats.put(c.floats)
	poolDays.put(c.days)
	poolCodes.put(c.codes)
	poolWords.put(c.miss)
	c.ints, c.floats, c.days, c.codes, c.miss = nil, nil, nil, nil, nil
}

// add reads one cell. A column keeps the type its cells agree on, as
// classify reads them: ints are floats once a float comes, dates are
// datetimes once a datetime comes, and other types that meet make a
// conflict, to be read again as text.
func (c *colData) add(b []byte, dec byte) {
	switch c.kind {
	case kFloat:
		switch k, iv, fv := parseNumber(trimSpace(b), dec); k {
		case kFloat:
			c.floats = append(c.floats, fv)
			c.n++
			return
		case kInt:
			c.floats = append(c.floats, float64(iv))
			c.n++
			return
		}
	case kInt:
		if k, iv, _ := parseNumber(trimSpace(b), dec); k == kInt {
			c.ints = append(c.ints, iv)
			c.n++
			return
		}
	case kDate:
		if k, v := parseDate(trimSpace(b)); k == kDate {
			if v < ambLimit {
				c.amb.note(v)
			}
			c.days = append(c.days, int32(v))
			c.n++
			return
		}
	case kText:
		if !missingMarker(trimSpace(b)) {
			c.codes = append(c.codes, c.dict.add(b))
			c.n++
			return
		}
	case kConflict:
		c.n++
		return
	}
	k, iv, fv := classify(b, dec)
	c.put(k, iv, fv, b)
}

// put adds a value classify (or a workbook cell) gave: of kind k, in iv
// or fv, or as the text raw.
func (c *colData) put(k kind, iv int64, fv float64, raw []byte) {
	if k == kNone {
		c.addMissing()
		return
	}
	if c.kind == kConflict {
		c.n++
		return
	}
	if c.kind == kNone {
		c.start(k)
	}
	if c.kind != k {
		switch {
		case c.kind == kInt && k == kFloat:
			c.intsToFloats()
		case c.kind == kFloat && k == kInt:
			k, fv = kFloat, float64(iv)
		case c.kind == kDate && k == kDatetime:
			c.daysToMs()
		case c.kind == kDatetime && k == kDate:
			k, iv = kDatetime, dayToMs(iv)
		default:
			c.conflict()
			c.n++
			return
		}
	}
	switch k {
	case kInt, kDatetime:
		c.ints = append(c.ints, iv)
	case kFloat:
		c.floats = append(c.floats, fv)
	case kBool:
		c.bools = append(c.bools, iv != 0)
	case kDate:
		if iv < ambLimit {
			c.amb.note(iv)
		}
		c.days = append(c.days, int32(iv))
	case kText:
		c.codes = append(c.codes, c.dict.add(raw))
	}
	c.n++
}

func (c *colData) addMissing() {
	if c.miss == nil {
		words := (c.capRows + 63) / 64
		if c.pooled {
			c.miss = poolWords.get(words, words)
		} else {
			c.miss = make([]uint64, words)
		}
	}
	if c.n>>6 >= len(c.miss) {
		c.miss = append(c.miss, make([]uint64, len(c.miss)+1)...)
	}
	bitSet(c.miss, c.n)
	switch c.kind {
	case kInt, kDatetime:
		c.ints = append(c.ints, 0)
	case kFloat:
		c.floats = append(c.floats, 0)
	case kBool:
		c.bools = append(c.bools, false)
	case kDate:
		c.days = append(c.days, 0)
	case kText:
		c.codes = append(c.codes, 0)
	}
	c.n++
}

// start makes storage for kind k, the rows so far (all missing) zero.
func (c *colData) start(k kind) {
	c.kind = k
	size := max(c.capRows, c.n+1)
	switch k {
	case kInt, kDatetime:
		c.ints = storage(&poolInts, c.pooled, c.n, size)
	case kFloat:
		c.floats = storage(&poolFloats, c.pooled, c.n, size)
	case kBool:
		c.bools = make([]bool, c.n, size)
	case kDate:
		c.days = storage(&poolDays, c.pooled, c.n, size)
	case kText:
		c.codes = storage(&poolCodes, c.pooled, c.n, size)
		if c.dict == nil {
			c.dict = newDict()
		}
	}
}

// storage gives n zero values with room for size, from the pool if
// pooled.
func storage[T any](pool *slicePool[T], pooled bool, n, size int) []T {
	if pooled {
		return pool.get(n, size)
	}
	return make([]T, n, size)
}

func (c *colData) intsToFloats() {
	c.floats = make([]float64, len(c.ints), max(cap(c.ints), c.capRows))
	for i, v := range c.ints {
		c.floats[i] = float64(v)
	}
	c.ints, c.kind = nil, kFloat
}

func (c *colData) daysToMs() {
	c.ints = make([]int64, len(c.days), max(cap(c.days), c.capRows))
	for i, v := range c.days {
		c.ints[i] = dayToMs(int64(v))
	}
	c.days, c.kind = nil, kDatetime
}

// dayToMs gives a count of days as milliseconds, keeping an ambiguous date
// ambiguous.
func dayToMs(v int64) int64 {
	if v < ambLimit {
		return ambBaseMs + (v - ambBase)
	}
	return v * 86400000
}

func (c *colData) conflict() {
	c.release()
	c.kind = kConflict
	c.ints, c.floats, c.bools, c.days, c.codes, c.dict = nil, nil, nil, nil, nil, nil
	c.amb = ambStats{}
}

// part is a chunk's share of a column as it was joined: where its rows
// start, how many there are, and the kind the chunk read them as.
type part struct {
	chunk, off, n int
	kind          kind
}

// joined is a whole column as chunks are joined to it in order.
type joined struct {
	colData
	parts   []part
	pending []part // parts to read again as text
}

// reserve sets the rows storage is made for.
func (j *joined) reserve(rows int) { j.capRows = max(j.capRows, rows) }

// join appends the chunk's share cc of the column.
func (j *joined) join(cc *colData, chunk int) {
	p := part{chunk: chunk, off: j.n, n: cc.n, kind: cc.kind}
	j.parts = append(j.parts, p)
	j.joinMissing(cc)
	k := cc.kind
	if k == kNone {
		j.extend(cc.n)
		return
	}
	if j.kind == kNone {
		j.colData.start(k)
	}
	if j.kind != k {
		switch {
		case j.kind == kInt && k == kFloat:
			j.intsToFloats()
		case j.kind == kDate && k == kDatetime:
			j.daysToMs()
		case j.kind == kFloat && k == kInt, j.kind == kDatetime && k == kDate:
		case j.kind == kText:
			j.pending = append(j.pending, p)
			j.extend(cc.n)
			return
		default:
			j.toText(j.parts[:len(j.parts)-1])
			if k != kText {
				j.pending = append(j.pending, p)
				j.extend(cc.n)
				return
			}
		}
	}
	j.amb.merge(cc.amb)
	switch j.kind {
	case kInt:
		j.ints = appendGrow(j.ints, cc.ints, j.capRows)
	case kFloat:
		if k == kInt {
			j.floats = growFor(j.floats, cc.n, j.capRows)
			for _, v := range cc.ints {
				j.floats = append(j.floats, float64(v))
			}
		} else {
			j.floats = appendGrow(j.floats, cc.floats, j.capRows)
		}
	case kBool:
		j.bools = appendGrow(j.bools, cc.bools, j.capRows)
	case kDate:
		j.days = appendGrow(j.days, cc.days, j.capRows)
	case kDatetime:
		if k == kDate {
			j.ints = growFor(j.ints, cc.n, j.capRows)
			for _, v := range cc.days {
				j.ints = append(j.ints, dayToMs(int64(v)))
			}
		} else {
			j.ints = appendGrow(j.ints, cc.ints, j.capRows)
		}
	case kText:
		remap := make([]uint32, cc.dict.len())
		for code := range remap {
			remap[code] = j.dict.add(cc.dict.bytes(uint32(code)))
		}
		j.codes = growFor(j.codes, cc.n, j.capRows)
		for i, code := range cc.codes {
			if len(remap) == 0 || bitGet(cc.miss, i) {
				code = 0
			} else {
				code = remap[code]
			}
			j.codes = append(j.codes, code)
		}
	}
	j.n += cc.n
	j.fitMissing()
}

// fitMissing keeps the missing cells' bits, once there are any, as long as
// the column: a chunk with none adds no bits of its own.
func (j *joined) fitMissing() {
	need := (j.n + 63) / 64
	if j.miss == nil || len(j.miss) >= need {
		return
	}
	if cap(j.miss) >= need {
		j.miss = j.miss[:need]
		return
	}
	m := make([]uint64, need, max(need, (j.capRows+63)/64))
	copy(m, j.miss)
	j.miss = m
}

// joinMissing copies the chunk's missing cells, at rows j.n on.
func (j *joined) joinMissing(cc *colData) {
	if cc.miss == nil {
		return
	}
	need := (j.n + cc.n + 63) / 64
	if len(j.miss) < need {
		size := max(need, (j.capRows+63)/64)
		if cap(j.miss) >= need {
			j.miss = j.miss[:need]
		} else {
			m := make([]uint64, need, size)
			copy(m, j.miss)
			j.miss = m
		}
	}
	forBits(cc.miss, cc.n, func(i int) { bitSet(j.miss, j.n+i) })
}

// extend adds n zero values (their rows are missing, or to be read again).
func (j *joined) extend(n int) {
	switch j.kind {
	case kInt, kDatetime:
		j.ints = appendZeros(j.ints, n, j.capRows)
	case kFloat:
		j.floats = appendZeros(j.floats, n, j.capRows)
	case kBool:
		j.bools = appendZeros(j.bools, n, j.capRows)
	case kDate:
		j.days = appendZeros(j.days, n, j.capRows)
	case kText:
		j.codes = appendZeros(j.codes, n, j.capRows)
	}
	j.n += n
	j.fitMissing()
}

// toText turns the column to text: the parts given, read as another type,
// are to be read again.
func (j *joined) toText(parts []part) {
	n := j.n
	j.conflict()
	j.kind = kText
	j.dict = newDict()
	j.codes = make([]uint32, n, max(j.capRows, n))
	j.pending = j.pending[:0]
	for _, p := range parts {
		if p.kind != kNone {
			j.pending = append(j.pending, p)
		}
	}
}

// growFor makes room for n more values, growing to at least capRows.
func growFor[T any](s []T, n, capRows int) []T {
	if len(s)+n <= cap(s) {
		return s
	}
	size := max(capRows, len(s)+n, cap(s)+cap(s)/4)
	out := make([]T, len(s), size)
	copy(out, s)
	return out
}

func appendGrow[T any](s, more []T, capRows int) []T {
	return append(growFor(s, len(more), capRows), more...)
}

func appendZeros[T any](s []T, n, capRows int) []T {
	s = growFor(s, n, capRows)
	var zero T
	for range n {
		s = append(s, zero)
	}
	return s
}

// resolveDates settles the column's ambiguous dates by the order they all
// agree on, or turns the column to text (all its parts to be read again)
// when none does.
func (j *joined) resolveDates() {
	if j.amb.n == 0 || (j.kind != kDate && j.kind != kDatetime) {
		return
	}
	dayFirst, ok := j.amb.resolve()
	if !ok {
		j.toText(j.parts)
		return
	}
	fix := func(v int64) int64 {
		y, a, b := ambPacked(v)
		if dayFirst {
			a, b = b, a
		}
		return daysFromCivil(y, a, b)
	}
	if j.kind == kDate {
		for i, v := range j.days {
			if v < ambLimit {
				j.days[i] = int32(fix(int64(v)))
			}
		}
		return
	}
	for i, v := range j.ints {
		if v < ambLimMs {
			j.ints[i] = fix(v-ambBaseMs+ambBase) * 86400000
		}
	}
}

// column gives the finished column.
// view gives a chunk's share of a column as a Column named name, on the
// chunk's storage, which it must not outlive.
func (c *colData) view(name string) *Column {
	if c.kind == kNone {
		// No value: text, every cell missing, as column gives it.
		j := &joined{colData: colData{n: c.n, miss: c.miss}}
		return j.column(name)
	}
	col := &Column{Name: name, Type: c.kind.typ(), n: c.n, ints: c.ints, floats: c.floats,
		bools: c.bools, days: c.days, codes: c.codes, dict: c.dict}
	if countBits(c.miss, c.n) > 0 {
		col.miss = c.miss
	}
	return col
}

func (j *joined) column(name string) *Column {
	c := &Column{Name: name, Type: j.kind.typ(), n: j.n}
	if countBits(j.miss, j.n) > 0 {
		c.miss = j.miss
	}
	switch j.kind {
	case kInt, kDatetime:
		c.ints = j.ints
	case kFloat:
		c.floats = j.floats
	case kBool:
		c.bools = j.bools
	case kDate:
		c.days = j.days
	case kText:
		c.codes, c.dict = j.codes, j.dict
	default: // no value at all: text, every cell missing
		c.codes, c.dict = make([]uint32, j.n), newDict()
		if c.miss == nil && j.n > 0 {
			c.miss = make([]uint64, (j.n+63)/64)
			for i := range j.n {
				bitSet(c.miss, i)
			}
		}
	}
	return c
}
