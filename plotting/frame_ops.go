package plotting

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// AggFunc is a way to sum up a group's values.
type AggFunc int

// The aggregate functions.
const (
	AggSum AggFunc = iota
	AggMean
	AggCount
	AggMin
	AggMax
	AggMedian
)

var aggNames = [...]string{"sum", "mean", "count", "min", "max", "median"}

// String names the function: "sum", "mean", "count", "min", "max" or
// "median".
func (a AggFunc) String() string {
	if a >= 0 && int(a) < len(aggNames) {
		return aggNames[a]
	}
	return fmt.Sprintf("AggFunc(%d)", int(a))
}

// ParseAgg reads an aggregate function's name, in any case; "avg" and
// "average" are mean.
func ParseAgg(s string) (AggFunc, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	for i, n := range aggNames {
		if s == n {
			return AggFunc(i), nil
		}
	}
	if s == "avg" || s == "average" {
		return AggMean, nil
	}
	return 0, fmt.Errorf("no aggregate %q; the aggregates are %s", s, strings.Join(aggNames[:], ", "))
}

// Agg is one column of a grouping's result: Func of Column's values in
// each group, named As. As "" names it after Column, or "<func>_<column>"
// when that name is taken; a count of rows, with Column "", is "count".
//
// Count counts the values that are not missing (the rows, with Column "")
// and takes any type; sum, mean and median take numbers; min and max take
// numbers, dates and datetimes. Sum and count give 0 for a group with no
// value, the others a missing cell. Sum, min and max keep the column's
// type; mean and median are floats; count is an int.
type Agg struct {
	Column string
	Func   AggFunc
	As     string
}

// Period is the span of time Resample sums rows up by.
type Period int

// The periods. A week starts on Monday.
const (
	Day Period = iota
	Week
	Month
	Year
)

var periodNames = [...]string{"day", "week", "month", "year"}

// String names the period: "day", "week", "month" or "year".
func (p Period) String() string {
	if p >= 0 && int(p) < len(periodNames) {
		return periodNames[p]
	}
	return fmt.Sprintf("Period(%d)", int(p))
}

// ParsePeriod reads a period's name, in any case; "daily", "weekly",
// "monthly", "yearly" and "annual", and the plurals, say the same.
func ParsePeriod(s string) (Period, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "daily", "days", "d":
		return Day, nil
	case "weekly", "weeks", "w":
		return Week, nil
	case "monthly", "months", "m":
		return Month, nil
	case "yearly", "years", "annual", "y":
		return Year, nil
	}
	for i, n := range periodNames {
		if s == n {
			return Period(i), nil
		}
	}
	return 0, fmt.Errorf("no period %q; the periods are %s", s, strings.Join(periodNames[:], ", "))
}

// aggPlan is an Agg checked against the frame.
type aggPlan struct {
	name string
	fn   AggFunc
	col  *Column // nil to count rows
}

// plan checks aggs against f and names their columns; taken holds the
// names already in use.
func (f *Frame) plan(aggs []Agg, taken map[string]bool) ([]aggPlan, error) {
	var out []aggPlan
	for _, a := range aggs {
		p := aggPlan{fn: a.Func}
		if a.Func < AggSum || a.Func > AggMedian {
			return nil, fmt.Errorf("no aggregate %d; the aggregates are %s", int(a.Func), strings.Join(aggNames[:], ", "))
		}
		if a.Column == "" {
			if a.Func != AggCount {
				return nil, fmt.Errorf("%s needs a column", a.Func)
			}
		} else {
			c, err := f.Column(a.Column)
			if err != nil {
				return nil, err
			}
			switch t := c.Type; a.Func {
			case AggSum, AggMean, AggMedian:
				if !t.Numeric() {
					return nil, fmt.Errorf("column %q is %s; %s needs numbers", c.Name, t, a.Func)
				}
			case AggMin, AggMax:
				if !t.Numeric() && !t.Temporal() {
					return nil, fmt.Errorf("column %q is %s; %s needs numbers or dates", c.Name, t, a.Func)
				}
			}
			p.col = c
		}
		switch {
		case a.As != "":
			if taken[a.As] {
				return nil, fmt.Errorf("two columns would be named %q; give the aggregate another name", a.As)
			}
			p.name = a.As
		case a.Column == "":
			p.name = freeName("count", taken)
		case !taken[a.Column]:
			p.name = a.Column
		default:
			p.name = freeName(a.Func.String()+"_"+a.Column, taken)
		}
		taken[p.name] = true
		out = append(out, p)
	}
	return out, nil
}

// freeName gives name, or name_2, name_3… if it is taken.
func freeName(name string, taken map[string]bool) string {
	n := name
	for k := 2; taken[n]; k++ {
		n = fmt.Sprintf("%s_%d", name, k)
	}
	return n
}

func (f *Frame) columns(names []string) ([]*Column, error) {
	cols := make([]*Column, len(names))
	for i, n := range names {
		c, err := f.Column(n)
		if err != nil {
			return nil, err
		}
		cols[i] = c
	}
	return cols, nil
}

// GroupBy sums up the rows by the values of the keys: a row for each
// combination of key values, in the order each first appears, holding the
// key values and then one column for each aggregate. Rows whose key is
// missing form a group of their own. With no keys, the whole frame is one
// group.
func (f *Frame) GroupBy(keys []string, aggs []Agg) (*Frame, error) {
	keyCols, err := f.columns(keys)
	if err != nil {
		return nil, err
	}
	taken := map[string]bool{}
	for _, k := range keys {
		if taken[k] {
			return nil, fmt.Errorf("key %q is given twice", k)
		}
		taken[k] = true
	}
	plans, err := f.plan(aggs, taken)
	if err != nil {
		return nil, err
	}
	gids, first := groupIDs(keyCols, f.Len())
	out := &Frame{Source: f.Source}
	for _, c := range keyCols {
		out.Columns = append(out.Columns, c.take(first))
	}
	groups := len(first)
	if len(keyCols) == 0 {
		groups = 1
	}
	for _, p := range plans {
		out.Columns = append(out.Columns, p.run(gids, groups))
	}
	return out, nil
}

// groupIDs numbers the combinations of the key columns' values in the
// order they first appear: each row's number, and each number's first row.
// With no keys, every row is group 0 and first is nil.
func groupIDs(keys []*Column, n int) (gids []int32, first []int32) {
	if len(keys) == 0 {
		return make([]int32, n), nil
	}
	gids, groups := keyIDs(keys[0])
	for _, k := range keys[1:] {
		ids, kn := keyIDs(k)
		combined := make([]uint64, n)
		for i := range combined {
			combined[i] = uint64(gids[i])*uint64(kn) + uint64(ids[i])
		}
		gids, groups = renumber(combined, uint64(groups)*uint64(kn))
	}
	first = make([]int32, groups)
	for i := range first {
		first[i] = -1
	}
	for i, g := range gids {
		if first[g] < 0 {
			first[g] = int32(i)
		}
	}
	return gids, first
}

// renumber gives each of the values (all below span) a number in the order
// they first appear, and how many there are.
func renumber(v []uint64, span uint64) ([]int32, int) {
	ids := make([]int32, len(v))
	next := int32(0)
	if span <= 1<<22 {
		seen := make([]int32, span)
		for i, x := range v {
			if seen[x] == 0 {
				next++
				seen[x] = next
			}
			ids[i] = seen[x] - 1
		}
		return ids, int(next)
	}
	seen := make(map[uint64]int32)
	for i, x := range v {
		id, ok := seen[x]
		if !ok {
			id = next
			seen[x] = id
			next++
		}
		ids[i] = id
	}
	return ids, int(next)
}

// keyIDs numbers a column's values in the order they first appear, a
// missing cell being a value of its own.
func keyIDs(c *Column) ([]int32, int) {
	n := c.n
	switch c.Type {
	case TypeText:
		missing := c.dict.len()
		return denseIDs(c.codes[:n], c.miss, 0, missing)
	case TypeBool:
		v := make([]uint8, n)
		for i, b := range c.bools[:n] {
			if b {
				v[i] = 1
			}
		}
		return denseIDs(v, c.miss, 0, 2)
	case TypeDate:
		lo, hi := int32(math.MaxInt32), int32(math.MinInt32)
		for i, x := range c.days[:n] {
			if !bitGet(c.miss, i) {
				lo, hi = min(lo, x), max(hi, x)
			}
		}
		if lo > hi {
			lo, hi = 0, 0
		}
		return denseIDs(c.days[:n], c.miss, lo, int(hi-lo)+1)
	case TypeInt, TypeDatetime:
		lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
		for i, x := range c.ints[:n] {
			if !bitGet(c.miss, i) {
				lo, hi = min(lo, x), max(hi, x)
			}
		}
		if lo > hi {
			lo, hi = 0, 0
		}
		if span := uint64(hi - lo); span < 1<<22 {
			return denseIDs(c.ints[:n], c.miss, lo, int(span)+1)
		}
		v := make([]uint64, n)
		for i, x := range c.ints[:n] {
			v[i] = uint64(x)
		}
		return mapIDs(v, c.miss)
	}
	v := make([]uint64, n)
	for i, x := range c.floats[:n] {
		if x == 0 {
			x = 0 // -0 is 0
		}
		v[i] = math.Float64bits(x)
	}
	return mapIDs(v, c.miss)
}

// denseIDs numbers values from lo to lo+span-1 in the order they first
// appear, by a table; a missing cell is the value lo+span.
func denseIDs[T uint32 | uint8 | int32 | int64](v []T, miss []uint64, lo T, span int) ([]int32, int) {
	ids := make([]int32, len(v))
	seen := make([]int32, span+1) // an id + 1, or 0 before the value is seen
	next := int32(0)
	for i, x := range v {
		k := int(x - lo)
		if miss != nil && bitGet(miss, i) {
			k = span
		}
		if seen[k] == 0 {
			next++
			seen[k] = next
		}
		ids[i] = seen[k] - 1
	}
	return ids, int(next)
}

// mapIDs is denseIDs by a map, for values of any span; a missing cell is
// a value of its own.
func mapIDs(v []uint64, miss []uint64) ([]int32, int) {
	ids := make([]int32, len(v))
	seen := make(map[uint64]int32)
	missing := int32(-1)
	next := int32(0)
	for i, x := range v {
		if miss != nil && bitGet(miss, i) {
			if missing < 0 {
				missing = next
				next++
			}
			ids[i] = missing
			continue
		}
		id, ok := seen[x]
		if !ok {
			id = next
			seen[x] = id
			next++
		}
		ids[i] = id
	}
	return ids, int(next)
}

// run computes the aggregate for each of groups groups; gids gives each
// row's group, or -1 to leave the row out.
func (p aggPlan) run(gids []int32, groups int) *Column {
	out := &Column{Name: p.name, n: groups}
	c := p.col
	var miss []uint64
	if c != nil {
		miss = c.miss
	}
	if p.fn == AggCount {
		out.Type, out.ints = TypeInt, counts(gids, miss, groups)
		return out
	}
	switch p.fn {
	case AggSum:
		if c.Type == TypeInt {
			out.Type, out.ints = TypeInt, sums(c.ints, gids, miss, groups)
		} else {
			out.Type, out.floats = TypeFloat, sums(c.floats, gids, miss, groups)
		}
		return out // a group with no value sums to 0
	case AggMean:
		var total []float64
		if c.Type == TypeInt {
			for _, v := range sums(c.ints, gids, miss, groups) {
				total = append(total, float64(v))
			}
		} else {
			total = sums(c.floats, gids, miss, groups)
		}
		k := counts(gids, miss, groups)
		for g := range total {
			if k[g] > 0 {
				total[g] /= float64(k[g])
			}
		}
		out.Type, out.floats = TypeFloat, total
	case AggMedian:
		out.Type, out.floats = TypeFloat, medians(c, gids, counts(gids, miss, groups))
	case AggMin, AggMax:
		less := p.fn == AggMin
		out.Type = c.Type
		switch c.Type {
		case TypeInt, TypeDatetime:
			out.ints = extremes(c.ints, miss, gids, groups, less)
		case TypeFloat:
			out.floats = extremes(c.floats, miss, gids, groups, less)
		case TypeDate:
			out.days = extremes(c.days, miss, gids, groups, less)
		}
	}
	// A group with no value: missing.
	k := counts(gids, miss, groups)
	none := make([]uint64, (groups+63)/64)
	some := false
	for g, n := range k {
		if n == 0 {
			bitSet(none, g)
			some = true
		}
	}
	if some {
		out.miss = none
	}
	return out
}

// counts counts each group's rows whose cell is not missing.
func counts(gids []int32, miss []uint64, groups int) []int64 {
	k := make([]int64, groups)
	for i, g := range gids {
		if g >= 0 && (miss == nil || !bitGet(miss, i)) {
			k[g]++
		}
	}
	return k
}

// sums sums each group's values that are not missing.
func sums[T int64 | float64](v []T, gids []int32, miss []uint64, groups int) []T {
	out := make([]T, groups)
	if miss == nil {
		for i, g := range gids {
			if g >= 0 {
				out[g] += v[i]
			}
		}
		return out
	}
	for i, g := range gids {
		if g >= 0 && !bitGet(miss, i) {
			out[g] += v[i]
		}
	}
	return out
}

func extremes[T int64 | int32 | float64](v []T, miss []uint64, gids []int32, groups int, less bool) []T {
	out := make([]T, groups)
	seen := make([]bool, groups)
	for i, g := range gids {
		if g < 0 || bitGet(miss, i) {
			continue
		}
		x := v[i]
		if !seen[g] || (less && x < out[g]) || (!less && x > out[g]) {
			out[g], seen[g] = x, true
		}
	}
	return out
}

// medians gives each group's median: the middle value, or the mean of the
// two middle ones.
func medians(c *Column, gids []int32, counts []int64) []float64 {
	starts := make([]int64, len(counts)+1)
	for g, k := range counts {
		starts[g+1] = starts[g] + k
	}
	vals := make([]float64, starts[len(counts)])
	at := slices.Clone(starts[:len(counts)])
	for i, g := range gids {
		if g < 0 || bitGet(c.miss, i) {
			continue
		}
		x, _ := c.Float(i)
		vals[at[g]] = x
		at[g]++
	}
	out := make([]float64, len(counts))
	for g := range counts {
		s := vals[starts[g]:starts[g+1]]
		if len(s) == 0 {
			continue
		}
		slices.Sort(s)
		if m := len(s) / 2; len(s)%2 == 1 {
			out[g] = s[m]
		} else {
			out[g] = (s[m-1] + s[m]) / 2
		}
	}
	return out
}

// maxResampleRows bounds the rows Resample makes: periods times key
// combinations.
const maxResampleRows = 10_000_000

// Resample sums up the rows by period of the date or datetime column
// dateCol, and by the keys: a row for each period from the first to the
// last, and each combination of key values, sorted by period then by the
// key values (missing last). The first column is the period's first day,
// typed date and named dateCol; the keys follow, then the aggregates. A
// period (and key combination) with no row is there, with counts and sums
// 0 and other aggregates missing. Rows whose date is missing are left out.
func (f *Frame) Resample(dateCol string, every Period, keys []string, aggs []Agg) (*Frame, error) {
	dc, err := f.Column(dateCol)
	if err != nil {
		return nil, err
	}
	if !dc.Type.Temporal() {
		return nil, fmt.Errorf("column %q is %s; resample needs a date or datetime column", dc.Name, dc.Type)
	}
	if every < Day || every > Year {
		return nil, fmt.Errorf("no period %d; the periods are %s", int(every), strings.Join(periodNames[:], ", "))
	}
	keyCols, err := f.columns(keys)
	if err != nil {
		return nil, err
	}
	taken := map[string]bool{dc.Name: true}
	for _, k := range keys {
		if taken[k] {
			return nil, fmt.Errorf("column %q is given twice", k)
		}
		taken[k] = true
	}
	plans, err := f.plan(aggs, taken)
	if err != nil {
		return nil, err
	}
	src := f
	if dc.miss != nil {
		src = f.Filter(func(i int) bool { return !dc.Missing(i) })
		dc, _ = src.Column(dateCol)
		keyCols, _ = src.columns(keys)
		for i := range plans {
			if plans[i].col != nil {
				plans[i].col, _ = src.Column(plans[i].col.Name)
			}
		}
	}
	n := src.Len()
	out := &Frame{Source: f.Source}
	if n == 0 {
		out.Columns = append(out.Columns, &Column{Name: dc.Name, Type: TypeDate})
		for _, c := range keyCols {
			out.Columns = append(out.Columns, c.take(nil))
		}
		for _, p := range plans {
			out.Columns = append(out.Columns, p.run(nil, 0))
		}
		return out, nil
	}
	periods := make([]int32, n) // each row's period, from the first
	lo, hi := periodRange(dc, every, periods)
	gids, first := groupIDs(keyCols, n)
	combos := max(len(first), 1)
	buckets := hi - lo + 1
	if rows := buckets * int64(combos); rows > maxResampleRows || rows < 0 {
		return nil, fmt.Errorf("resampling by %s makes %d periods × %d key combinations, over the %d rows Resample makes; choose a longer period or fewer keys",
			every, buckets, combos, maxResampleRows)
	}
	// The key combinations in order of their values.
	order := make([]int32, combos)
	for i := range order {
		order[i] = int32(i)
	}
	if len(keyCols) > 0 {
		cmps := make([]func(a, b int) int, len(keyCols))
		for k, c := range keyCols {
			cmps[k] = c.comparer()
		}
		slices.SortFunc(order, func(a, b int32) int {
			ra, rb := int(first[a]), int(first[b])
			for k, c := range keyCols {
				ma, mb := c.Missing(ra), c.Missing(rb)
				switch {
				case ma && mb:
					continue
				case ma:
					return 1
				case mb:
					return -1
				}
				if r := cmps[k](ra, rb); r != 0 {
					return r
				}
			}
			return 0
		})
	}
	rank := make([]int32, combos)
	for r, g := range order {
		rank[g] = int32(r)
	}
	slots := periods // each row's output row
	for i, p := range periods {
		slots[i] = p*int32(combos) + rank[gids[i]]
	}
	total := int(buckets) * combos
	days := make([]int32, total)
	for b := range int(buckets) {
		start := int32(periodStart(lo+int64(b), every))
		for k := range combos {
			days[b*combos+k] = start
		}
	}
	out.Columns = append(out.Columns, &Column{Name: dc.Name, Type: TypeDate, n: total, days: days})
	if len(keyCols) > 0 {
		rows := make([]int32, total)
		for s := range rows {
			rows[s] = first[order[s%combos]]
		}
		for _, c := range keyCols {
			out.Columns = append(out.Columns, c.take(rows))
		}
	}
	for _, p := range plans {
		out.Columns = append(out.Columns, p.run(slots, total))
	}
	return out, nil
}

// periodRange numbers the period of each row of the date or datetime
// column dc (which has no missing cell) from the first: into periods, and
// gives the first and last period. Days are mapped to periods by a table
// of the days the column spans, when that is not absurdly long.
func periodRange(dc *Column, every Period, periods []int32) (lo, hi int64) {
	n := dc.n
	day := func(i int) int64 {
		if dc.Type == TypeDate {
			return int64(dc.days[i])
		}
		return floorDiv(dc.ints[i], 86400000)
	}
	dlo, dhi := int64(math.MaxInt64), int64(math.MinInt64)
	for i := range n {
		d := day(i)
		dlo, dhi = min(dlo, d), max(dhi, d)
	}
	lo, hi = periodOf(dlo, every), periodOf(dhi, every)
	if dhi-dlo < 1<<20 {
		table := make([]int32, dhi-dlo+1)
		for d := range table {
			table[d] = int32(periodOf(dlo+int64(d), every) - lo)
		}
		if dc.Type == TypeDate {
			base := int32(dlo)
			for i, d := range dc.days[:n] {
				periods[i] = table[d-base]
			}
		} else {
			for i := range n {
				periods[i] = table[day(i)-dlo]
			}
		}
		return lo, hi
	}
	for i := range n {
		periods[i] = int32(periodOf(day(i), every) - lo)
	}
	return lo, hi
}

// periodOf numbers the period that holds the day d (days since
// 1970-01-01): the day itself, the week (from Monday), the month (as
// year*12 + month-1) or the year.
func periodOf(d int64, every Period) int64 {
	switch every {
	case Week:
		return floorDiv(d+3, 7) // 1970-01-01 was a Thursday
	case Month:
		y, m, _ := civil(d)
		return int64(y)*12 + int64(m-1)
	case Year:
		y, _, _ := civil(d)
		return int64(y)
	}
	return d
}

// periodStart gives the first day of period p.
func periodStart(p int64, every Period) int64 {
	switch every {
	case Week:
		return p*7 - 3
	case Month:
		return daysFromCivil(int(floorDiv(p, 12)), int(floorMod(p, 12))+1, 1)
	case Year:
		return daysFromCivil(int(p), 1, 1)
	}
	return p
}
