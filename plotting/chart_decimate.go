package plotting

import (
	"math"
	"math/bits"
	"slices"
	"sort"
	"sync"
)

// Large series are reduced before drawing to what the pixels can show,
// so a chart of ten million points draws about as fast as one of ten
// thousand and still shows every spike.

// chartFinite reports whether v is a value to draw (not NaN or ±Inf).
func chartFinite(v float64) bool {
	return v-v == 0 // NaN - NaN and Inf - Inf are NaN
}

// chartDecimateLine reduces a line to at most two points a pixel column:
// the lowest and the highest of the points that fall in it, in their
// order. xs must be finite and ascending (nil is 0, 1, 2, …); ok is false
// when they are not, and the caller sorts them first. A y that is not
// finite is a gap, kept as a NaN (gaps narrower than a column are not
// kept). A line of at most 2×columns points is returned as it is.
func chartDecimateLine(xs, ys []float64, columns int) (dx, dy []float64, ok bool) {
	n := len(ys)
	if columns < 1 || n <= 2*columns {
		if xs == nil {
			xs = make([]float64, n)
			for i := range xs {
				xs[i] = float64(i)
			}
		}
		for i, x := range xs {
			if x-x != 0 || (i > 0 && x < xs[i-1]) {
				return nil, nil, false
			}
		}
		return xs, ys, true
	}
	x0, x1 := chartXAt(xs, 0), chartXAt(xs, n-1)
	if x0-x0 != 0 || x1-x1 != 0 {
		return nil, nil, false
	}
	width := x1 - x0
	if !(width > 0) {
		width = 1
	}
	step := width / float64(columns)
	if n < 1<<20 || columns < 4 {
		r := chartDecimator{xs: xs, ys: ys, x0: x0, step: step, columns: columns}
		r.run(0, n, 0, x0)
		return r.ox, r.oy, r.ok
	}
	// Two halves of the columns at once: the work is a pass over memory.
	half := columns / 2
	limit := x0 + float64(half)*step
	split := n
	if xs == nil {
		split = min(n, int(math.Ceil(limit)))
	} else {
		split = sort.Search(n, func(i int) bool { return xs[i] >= limit })
	}
	left := chartDecimator{xs: xs, ys: ys, x0: x0, step: step, columns: half}
	right := chartDecimator{xs: xs, ys: ys, x0: x0, step: step, columns: columns, leadingGap: true}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		left.run(0, split, 0, x0)
	}()
	if split < n {
		right.run(split, n, half, chartXAt(xs, split))
	} else {
		right.ok = true
	}
	wg.Wait()
	if !left.ok || !right.ok || (split > 0 && split < n && chartXAt(xs, split) < chartXAt(xs, split-1)) {
		return nil, nil, false
	}
	ox, oy := left.ox, left.oy
	rx, ry := right.ox, right.oy
	if len(ry) > 0 && math.IsNaN(ry[0]) && (len(oy) == 0 || math.IsNaN(oy[len(oy)-1])) {
		rx, ry = rx[1:], ry[1:]
	}
	return append(ox, rx...), append(oy, ry...), true
}

// chartXAt is xs[i], or i for nil xs.
func chartXAt(xs []float64, i int) float64 {
	if xs == nil {
		return float64(i)
	}
	return xs[i]
}

// chartDecimator decimates a run of a line's points; see
// chartDecimateLine.
type chartDecimator struct {
	xs, ys     []float64
	x0, step   float64
	columns    int  // the column after the last this run fills
	leadingGap bool // keep a gap before the run's first point
	ox, oy     []float64
	ok         bool
}

func (r *chartDecimator) gap(x float64) {
	if (len(r.oy) > 0 || r.leadingGap) && (len(r.oy) == 0 || !math.IsNaN(r.oy[len(r.oy)-1])) {
		r.ox = append(r.ox, x)
		r.oy = append(r.oy, math.NaN())
	}
}

// run decimates points [i, n) into columns b, b+1, … r.columns-1; the
// last column takes every point left. prev is the x before point i.
func (r *chartDecimator) run(i, n, b int, prev float64) {
	xs, ys := r.xs, r.ys
	r.ox = make([]float64, 0, 2*(r.columns-b)+8)
	r.oy = make([]float64, 0, 2*(r.columns-b)+8)
	for ; i < n; b++ {
		end := n
		if b < r.columns-1 {
			limit := r.x0 + float64(b+1)*r.step
			if xs == nil {
				end = min(n, max(i, int(math.Ceil(limit))))
			} else {
				end = i
				for end < n {
					x := xs[end]
					if x-x != 0 || x < prev {
						return
					}
					if x >= limit {
						break
					}
					prev = x
					end++
				}
			}
		} else if xs != nil {
			for j := i; j < n; j++ {
				x := xs[j]
				if x-x != 0 || x < prev {
					return
				}
				prev = x
			}
		}
		lo, hi := -1, -1 // the column's lowest and highest points
		gapBefore, gapAfter := false, false
		gapAt := 0
		for j := i; j < end; j++ {
			y := ys[j]
			if y-y != 0 { // NaN or ±Inf: a gap
				if lo < 0 {
					gapBefore = true
				} else {
					gapAfter = true
				}
				gapAt = j
				continue
			}
			gapAfter = false
			switch {
			case lo < 0:
				lo, hi = j, j
			case y < ys[lo]:
				lo = j
			case y > ys[hi]:
				hi = j
			}
		}
		if lo >= 0 {
			if gapBefore {
				r.gap(chartXAt(xs, gapAt))
			}
			a, c := min(lo, hi), max(lo, hi)
			r.ox = append(r.ox, chartXAt(xs, a))
			r.oy = append(r.oy, ys[a])
			if c != a {
				r.ox = append(r.ox, chartXAt(xs, c))
				r.oy = append(r.oy, ys[c])
			}
		}
		if gapAfter || (lo < 0 && gapBefore) {
			r.gap(chartXAt(xs, gapAt))
		}
		i = end
	}
	r.ok = true
}

// chartDecimateStack picks the points of stacked layers that share xs
// (ascending, finite): in each of columns pixel columns, the lowest and
// highest point of every layer, so each layer keeps its extremes and all
// layers keep the same x values. It returns the chosen indices, or nil
// when there are no more than 2×columns points.
func chartDecimateStack(xs []float64, layers [][]float64, columns int) []int {
	n := len(xs)
	if columns < 1 || n <= 2*columns {
		return nil
	}
	x0, x1 := xs[0], xs[n-1]
	width := x1 - x0
	if !(width > 0) {
		width = 1
	}
	scale := float64(columns) / width
	var out []int
	var pick []int
	start := 0
	emit := func(end int) {
		pick = pick[:0]
		for _, l := range layers {
			lo, hi := start, start
			for i := start + 1; i < end; i++ {
				if l[i] < l[lo] {
					lo = i
				}
				if l[i] > l[hi] {
					hi = i
				}
			}
			pick = append(pick, lo, hi)
		}
		slices.Sort(pick)
		out = append(out, slices.Compact(pick)...)
	}
	bucket := 0
	for i, x := range xs {
		b := min(int((x-x0)*scale), columns-1)
		if i == 0 {
			bucket = b
			continue
		}
		if b != bucket {
			emit(i)
			start, bucket = i, b
		}
	}
	emit(n)
	return out
}

// chartThinScatter keeps at most one point in each cell of a cols×rows
// grid over [x0, x1]×[y0, y1], and always the points with the lowest and
// highest x and y. xs and ys are finite. It returns the indices kept, or
// nil when there are no more points than limit.
func chartThinScatter(xs, ys []float64, x0, x1, y0, y1 float64, cols, rows, limit int) []int {
	n := len(xs)
	if n <= limit || cols < 1 || rows < 1 {
		return nil
	}
	ext := [4]int{}
	for i := range xs {
		if xs[i] < xs[ext[0]] {
			ext[0] = i
		}
		if xs[i] > xs[ext[1]] {
			ext[1] = i
		}
		if ys[i] < ys[ext[2]] {
			ext[2] = i
		}
		if ys[i] > ys[ext[3]] {
			ext[3] = i
		}
	}
	sx := float64(cols) / math.Max(x1-x0, 1e-300)
	sy := float64(rows) / math.Max(y1-y0, 1e-300)
	seen := make([]uint64, (cols*rows+63)/64)
	out := make([]int, 0, min(n, 1<<16))
	mark := func(i int) bool {
		cx := min(max(int((xs[i]-x0)*sx), 0), cols-1)
		cy := min(max(int((ys[i]-y0)*sy), 0), rows-1)
		cell := cy*cols + cx
		w, bit := cell/64, uint64(1)<<(cell%64)
		if seen[w]&bit != 0 {
			return false
		}
		seen[w] |= bit
		return true
	}
	for _, i := range ext {
		if mark(i) {
			out = append(out, i)
		}
	}
	for i := range xs {
		if mark(i) {
			out = append(out, i)
		}
	}
	slices.Sort(out)
	return out
}

// chartBins are the shared bins of a histogram.
type chartBins struct {
	edges  []float64   // len(counts[i])+1 ascending edges
	counts [][]float64 // per series
}

// chartHistogram counts each series' finite values into bins shared by
// all series, in one pass a series. With bins 0 the count is chosen from
// the data (the larger of Freedman–Diaconis and Sturges, at most
// maxAuto) and the bin width is rounded to a nice number; whole-number
// data gets bins centred on whole numbers when the width is 1.
func chartHistogram(series [][]float64, bins, maxAuto int) chartBins {
	lo, hi := math.Inf(1), math.Inf(-1)
	n := 0
	integer := true
	for _, s := range series {
		for _, v := range s {
			if !chartFinite(v) {
				continue
			}
			n++
			lo, hi = math.Min(lo, v), math.Max(hi, v)
			if integer && v != math.Trunc(v) {
				integer = false
			}
		}
	}
	var edges []float64
	switch {
	case n == 0:
		edges = []float64{0, 1}
	case bins > 0:
		if lo == hi {
			lo, hi = lo-0.5, hi+0.5
		}
		edges = make([]float64, bins+1)
		for i := range edges {
			edges[i] = lo + (hi-lo)*float64(i)/float64(bins)
		}
		edges[bins] = hi
	default:
		edges = chartAutoEdges(series, n, lo, hi, integer, maxAuto)
	}
	nb := len(edges) - 1
	out := chartBins{edges: edges, counts: make([][]float64, len(series))}
	first, last := edges[0], edges[nb]
	scale := float64(nb) / (last - first)
	for si, s := range series {
		counts := make([]float64, nb)
		for _, v := range s {
			if !chartFinite(v) {
				continue
			}
			b := int((v - first) * scale)
			if b >= nb {
				b = nb - 1
			}
			if b < 0 {
				b = 0
			}
			// Rounding can put a value one bin off its edges.
			for b > 0 && v < edges[b] {
				b--
			}
			for b < nb-1 && v >= edges[b+1] {
				b++
			}
			counts[b]++
		}
		out.counts[si] = counts
	}
	return out
}

// chartAutoEdges chooses the bin edges of a histogram of n values in
// [lo, hi].
func chartAutoEdges(series [][]float64, n int, lo, hi float64, integer bool, maxAuto int) []float64 {
	maxAuto = max(maxAuto, 5)
	if lo == hi {
		w := 1.0
		if !integer && lo != 0 {
			w = math.Pow(10, math.Floor(math.Log10(math.Abs(lo)))) / 10
		}
		return []float64{lo - w/2, lo + w/2}
	}
	span := hi - lo
	sturges := float64(bits.Len(uint(n))) + 1 // ceil(log2 n) + 1
	width := span / sturges
	if iqr := chartIQR(series, n); iqr > 0 {
		fd := 2 * iqr / math.Cbrt(float64(n))
		width = math.Min(width, fd)
	}
	width = math.Max(width, span/float64(maxAuto))
	// Round the width up to a nice number.
	mag := math.Pow(10, math.Floor(math.Log10(width)))
	nice := 10 * mag
	for _, m := range chartNiceSteps {
		if m*mag >= width*(1-1e-9) {
			nice = m * mag
			break
		}
	}
	if integer && nice < 1 {
		nice = 1
	}
	if integer && nice == 1 {
		start := lo - 0.5
		k := int(math.Round(hi - lo + 1))
		edges := make([]float64, k+1)
		for i := range edges {
			edges[i] = start + float64(i)
		}
		return edges
	}
	first := math.Floor(lo/nice) * nice
	k := int(math.Floor((hi-first)/nice)) + 1
	if k > 1 && first+float64(k-1)*nice == hi {
		// hi sits on an edge: it belongs to the last bin below it.
		k--
	}
	edges := make([]float64, k+1)
	for i := range edges {
		edges[i] = first + float64(i)*nice
	}
	return edges
}

// chartIQR estimates the interquartile range of n finite values spread
// over series, from an even sample of at most 200,000 of them.
func chartIQR(series [][]float64, n int) float64 {
	const most = 200000
	stride := max(1, n/most)
	sample := make([]float64, 0, min(n, most+1))
	k := 0
	for _, s := range series {
		for _, v := range s {
			if !chartFinite(v) {
				continue
			}
			if k%stride == 0 {
				sample = append(sample, v)
			}
			k++
		}
	}
	if len(sample) < 4 {
		return 0
	}
	return chartQuantile(sample, 0.75) - chartQuantile(sample, 0.25)
}

// chartBoxStats summarises one box of a box plot.
type chartBoxStats struct {
	n           int
	q1, med, q3 float64
	lo, hi      float64   // whisker ends: the extreme values within 1.5 IQR of the box
	outliers    []float64 // values beyond the whiskers
	minV, maxV  float64
}

// chartBox computes a box from the finite values of vs, working on one
// copy by selection (no full sort).
func chartBox(vs []float64) (chartBoxStats, bool) {
	a := make([]float64, 0, len(vs))
	for _, v := range vs {
		if chartFinite(v) {
			a = append(a, v)
		}
	}
	if len(a) == 0 {
		return chartBoxStats{}, false
	}
	st := chartBoxStats{n: len(a)}
	st.med = chartQuantile(a, 0.5)
	st.q1 = chartQuantile(a, 0.25)
	st.q3 = chartQuantile(a, 0.75)
	iqr := st.q3 - st.q1
	fenceLo, fenceHi := st.q1-1.5*iqr, st.q3+1.5*iqr
	st.lo, st.hi = math.Inf(1), math.Inf(-1)
	st.minV, st.maxV = math.Inf(1), math.Inf(-1)
	for _, v := range a {
		st.minV, st.maxV = math.Min(st.minV, v), math.Max(st.maxV, v)
		if v < fenceLo || v > fenceHi {
			st.outliers = append(st.outliers, v)
			continue
		}
		st.lo, st.hi = math.Min(st.lo, v), math.Max(st.hi, v)
	}
	if st.lo > st.q1 {
		st.lo = st.q1
	}
	if st.hi < st.q3 {
		st.hi = st.q3
	}
	return st, true
}

// chartQuantile returns the p-quantile of a (finite values, reordered in
// place), interpolating between order statistics as spreadsheets do.
func chartQuantile(a []float64, p float64) float64 {
	n := len(a)
	if n == 0 {
		return math.NaN()
	}
	h := p * float64(n-1)
	k := int(math.Floor(h))
	k = min(max(k, 0), n-1)
	v := chartSelect(a, k)
	if f := h - float64(k); f > 0 && k+1 < n {
		next := slices.Min(a[k+1:])
		return v + f*(next-v)
	}
	return v
}

// chartSelect reorders a so that a[k] is its k'th smallest value, with
// smaller values before it and larger after, and returns a[k].
func chartSelect(a []float64, k int) float64 {
	lo, hi := 0, len(a)-1
	depth := 2 * bits.Len(uint(len(a)))
	for hi > lo {
		if hi-lo < 16 || depth == 0 {
			slices.Sort(a[lo : hi+1])
			return a[k]
		}
		depth--
		// Median of three as the pivot.
		mid := lo + (hi-lo)/2
		if a[mid] < a[lo] {
			a[mid], a[lo] = a[lo], a[mid]
		}
		if a[hi] < a[lo] {
			a[hi], a[lo] = a[lo], a[hi]
		}
		if a[hi] < a[mid] {
			a[hi], a[mid] = a[mid], a[hi]
		}
		pivot := a[mid]
		// Three-way partition: < pivot, == pivot, > pivot.
		lt, i, gt := lo, lo, hi
		for i <= gt {
			switch {
			case a[i] < pivot:
				a[lt], a[i] = a[i], a[lt]
				lt++
				i++
			case a[i] > pivot:
				a[gt], a[i] = a[i], a[gt]
				gt--
			default:
				i++
			}
		}
		switch {
		case k < lt:
			hi = lt - 1
		case k > gt:
			lo = gt + 1
		default:
			return a[k]
		}
	}
	return a[k]
}
