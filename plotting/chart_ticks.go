package plotting

import (
	"math"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"
)

// chartNiceSteps are the mantissas of tick steps people read easily.
var chartNiceSteps = []float64{1, 2, 2.5, 5}

// chartStep returns the smallest nice step (1, 2, 2.5 or 5 times a power
// of ten) that marks [lo, hi] with at most n ticks. With extend, the
// ticks also cover lo and hi (the axis is widened to them); with integer,
// steps are whole numbers.
func chartStep(lo, hi float64, n int, extend, integer bool) float64 {
	n = max(n, 2)
	span := hi - lo
	if !(span > 0) || math.IsInf(span, 0) {
		return 1
	}
	mag := math.Pow(10, math.Floor(math.Log10(span/float64(n))))
	for range 40 {
		for _, m := range chartNiceSteps {
			step := m * mag
			if integer && (step < 1 || step != math.Trunc(step)) {
				continue
			}
			if chartTickCount(lo, hi, step, extend) <= n {
				return step
			}
		}
		mag *= 10
	}
	return span
}

// chartTickCount is the number of multiples of step in [lo, hi], or, with
// extend, from the multiple at or below lo to the one at or above hi.
func chartTickCount(lo, hi, step float64, extend bool) int {
	if extend {
		return int(math.Ceil(hi/step-1e-9)-math.Floor(lo/step+1e-9)) + 1
	}
	return int(math.Floor(hi/step+1e-9)-math.Ceil(lo/step-1e-9)) + 1
}

// chartNiceRange widens [lo, hi] to whole ticks of a nice step, so the
// top gridline closes the plot; of the steps that take at most n (or a
// couple more) ticks, it picks the one that leaves least of the axis
// empty. zero puts 0 in the range.
func chartNiceRange(lo, hi float64, n int, zero, integer bool) (float64, float64, float64) {
	if zero {
		lo, hi = math.Min(lo, 0), math.Max(hi, 0)
	}
	if lo == hi {
		d := math.Abs(lo) * 0.1
		if d == 0 {
			d = 1
		}
		if zero && lo == 0 {
			return 0, 1, chartStep(0, 1, n, true, integer)
		}
		lo, hi = lo-d, hi+d
	}
	step := chartStep(lo, hi, n, true, integer)
	best := step
	bestScore := math.Inf(-1)
	// The chosen step and the two finer nice steps below it.
	for _, s := range []float64{step, chartFinerStep(step), chartFinerStep(chartFinerStep(step))} {
		if integer && (s < 1 || s != math.Trunc(s)) {
			continue
		}
		count := chartTickCount(lo, hi, s, true)
		if count > n+2 {
			continue
		}
		a, b := math.Floor(lo/s+1e-9)*s, math.Ceil(hi/s-1e-9)*s
		score := (hi-lo)/(b-a) - 0.12*float64(max(0, count-n))
		if score > bestScore+1e-9 {
			best, bestScore = s, score
		}
	}
	return math.Floor(lo/best+1e-9) * best, math.Ceil(hi/best-1e-9) * best, best
}

// chartFinerStep is the nice step below step: 5 → 2.5 → 2 → 1 → 0.5.
func chartFinerStep(step float64) float64 {
	mag := math.Pow(10, math.Floor(math.Log10(step)+1e-9))
	m := step / mag
	switch {
	case m > 4.99:
		return 2.5 * mag
	case m > 2.49:
		return 2 * mag
	case m > 1.99:
		return mag
	}
	return 0.5 * mag
}

// chartNumberTicks marks a numeric axis with at most Max labelled ticks
// at a nice step, labelled for people: 0.3, 250, 1.5k, 2M.
type chartNumberTicks struct {
	Max     int
	Integer bool    // whole-number steps only (counts, integer data)
	Step    float64 // the step, if already chosen
}

// Ticks implements plot.Ticker.
func (t chartNumberTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) {
		return []plot.Tick{{Value: lo, Label: chartFormatNumber(lo)}}
	}
	step := t.Step
	if !(step > 0) || (hi-lo)/step > 100 {
		step = chartStep(lo, hi, t.Max, false, t.Integer)
	}
	first := math.Ceil(lo/step - 1e-9)
	last := math.Floor(hi/step + 1e-9)
	big := math.Max(math.Abs(first*step), math.Abs(last*step)) >= 1e4
	var ticks []plot.Tick
	for k := first; k <= last && len(ticks) <= max(t.Max, 2)+2; k++ {
		v := k * step
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: chartFormatTick(v, step, big)})
	}
	return ticks
}

// chartFormatTick writes v, a tick at a multiple of step, with the
// decimals step needs, so an axis reads 0.20, 0.25, 0.30; with big, thousands and up are
// written 1.5k, 2M, 3B, 4T.
func chartFormatTick(v, step float64, big bool) string {
	if v == 0 {
		return "0"
	}
	unit, suffix := 1.0, ""
	if big {
		unit, suffix = chartUnit(math.Abs(v))
	}
	s := strconv.FormatFloat(v/unit, 'f', chartDecimals(step/unit), 64)
	return chartMinus(s) + suffix
}

// chartFormatNumber writes v for people with about three significant
// digits: 0.123, 42, 1234, 12.3k, 4.5M.
func chartFormatNumber(v float64) string {
	switch {
	case math.IsNaN(v):
		return ""
	case math.IsInf(v, 1):
		return "∞"
	case math.IsInf(v, -1):
		return "−∞"
	case v == 0:
		return "0"
	}
	a := math.Abs(v)
	unit, suffix := 1.0, ""
	if a >= 1e4 {
		unit, suffix = chartUnit(a)
	}
	x := a / unit
	var s string
	switch {
	case x >= 1000 || x == math.Trunc(x):
		s = strconv.FormatFloat(x, 'f', 0, 64)
	case x < 1e-4:
		s = strconv.FormatFloat(x, 'g', 2, 64)
	default:
		d := max(0, 2-int(math.Floor(math.Log10(x))))
		s = chartTrimZeros(strconv.FormatFloat(x, 'f', d, 64))
	}
	if v < 0 {
		s = "−" + s
	}
	return s + suffix
}

// chartUnit picks the suffix for a magnitude of a.
func chartUnit(a float64) (float64, string) {
	switch {
	case a >= 1e12:
		return 1e12, "T"
	case a >= 1e9:
		return 1e9, "B"
	case a >= 1e6:
		return 1e6, "M"
	case a >= 1e3:
		return 1e3, "k"
	}
	return 1, ""
}

// chartDecimals is the number of decimals that writes x exactly enough.
func chartDecimals(x float64) int {
	x = math.Abs(x)
	for d := 0; d < 12; d++ {
		r := x * math.Pow10(d)
		if math.Abs(r-math.Round(r)) < 1e-6*math.Max(1, r) {
			return d
		}
	}
	return 12
}

func chartTrimZeros(s string) string {
	if strings.IndexByte(s, '.') < 0 {
		return s
	}
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// chartMinus writes a leading minus as the typographic minus sign.
func chartMinus(s string) string {
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		return "−" + rest
	}
	return s
}

// chartTimeUnit is the calendar unit of a date-axis step.
type chartTimeUnit int

const (
	chartSeconds chartTimeUnit = iota
	chartDays
	chartWeeks
	chartHalfMonths
	chartMonths
	chartYears
)

// chartTimeStep is one spacing a date axis may use.
type chartTimeStep struct {
	unit   chartTimeUnit
	n      int     // units a step
	approx float64 // seconds a step, roughly
}

const chartDay = 24 * 3600

var chartTimeSteps = func() []chartTimeStep {
	var steps []chartTimeStep
	for _, s := range []int{1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200} {
		steps = append(steps, chartTimeStep{chartSeconds, s, float64(s)})
	}
	steps = append(steps,
		chartTimeStep{chartDays, 1, chartDay},
		chartTimeStep{chartDays, 2, 2 * chartDay},
		chartTimeStep{chartDays, 3, 3 * chartDay},
		chartTimeStep{chartWeeks, 1, 7 * chartDay},
		chartTimeStep{chartHalfMonths, 1, 15.2 * chartDay},
		chartTimeStep{chartMonths, 1, 30.4 * chartDay},
		chartTimeStep{chartMonths, 2, 60.9 * chartDay},
		chartTimeStep{chartMonths, 3, 91.3 * chartDay},
		chartTimeStep{chartMonths, 6, 182.6 * chartDay},
	)
	for _, y := range []int{1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000} {
		steps = append(steps, chartTimeStep{chartYears, y, float64(y) * 365.25 * chartDay})
	}
	return steps
}()

// chartTimeTicks marks an axis of Unix seconds with at most Max ticks at
// calendar steps chosen by the span: minutes, hours, days, weeks, half
// months, months, quarters, half years or years. Labels say what the step
// needs ("14:00", "Mar 4", "Apr", "2023"); the first tick, and a tick
// where the day or year changes, also says the day or year.
type chartTimeTicks struct {
	Max      int
	Location *time.Location // nil is UTC
}

// Ticks implements plot.Ticker.
func (t chartTimeTicks) Ticks(lo, hi float64) []plot.Tick {
	loc := t.Location
	if loc == nil {
		loc = time.UTC
	}
	maxTicks := max(t.Max, 2)
	if !(hi > lo) || lo < chartMinUnix || hi > chartMaxUnix {
		return chartNumberTicks{Max: maxTicks}.Ticks(lo, hi)
	}
	// The finest step that fits; but rather one tick too many than too
	// few to read the axis by.
	var best, finer []time.Time
	var step, finerStep chartTimeStep
	for _, s := range chartTimeSteps {
		if (hi-lo)/s.approx > float64(maxTicks)+4 {
			continue
		}
		ts := chartTimesAt(lo, hi, s, loc, maxTicks+4)
		if len(ts) > maxTicks {
			finer, finerStep = ts, s
			continue
		}
		best, step = ts, s
		if len(ts) < 3 && finer != nil && len(finer) <= min(maxTicks+3, 12) {
			best, step = finer, finerStep
		}
		break
	}
	if best == nil {
		return chartNumberTicks{Max: maxTicks}.Ticks(lo, hi)
	}
	ticks := make([]plot.Tick, len(best))
	for i, tm := range best {
		var prev time.Time
		if i > 0 {
			prev = best[i-1]
		}
		ticks[i] = plot.Tick{Value: float64(tm.Unix()) + float64(tm.Nanosecond())/1e9, Label: chartTimeLabel(tm, prev, i == 0, step)}
	}
	return ticks
}

// The span of time a date axis labels as dates: years 1 to 9999.
const (
	chartMinUnix = -62135596800
	chartMaxUnix = 253402300799
)

// chartUnixTime converts Unix seconds to a time in loc.
func chartUnixTime(v float64, loc *time.Location) time.Time {
	sec := math.Floor(v)
	return time.Unix(int64(sec), int64((v-sec)*1e9)).In(loc)
}

// chartTimesAt lists the step's calendar times in [lo, hi], stopping
// after limit of them.
func chartTimesAt(lo, hi float64, s chartTimeStep, loc *time.Location, limit int) []time.Time {
	start := chartUnixTime(lo, loc)
	y, mo, d := start.Date()
	var next func(i int) time.Time
	switch s.unit {
	case chartSeconds:
		day := time.Date(y, mo, d, 0, 0, 0, 0, loc)
		off := start.Sub(day).Seconds()
		k := math.Ceil(off / float64(s.n))
		next = func(i int) time.Time {
			return day.Add(time.Duration((k + float64(i)) * float64(s.n) * float64(time.Second)))
		}
	case chartDays:
		first := time.Date(y, mo, d, 0, 0, 0, 0, loc)
		if s.n > 1 && (first.YearDay()-1)%s.n != 0 {
			first = first.AddDate(0, 0, s.n-(first.YearDay()-1)%s.n)
		}
		next = func(i int) time.Time { return first.AddDate(0, 0, i*s.n) }
	case chartWeeks:
		first := time.Date(y, mo, d, 0, 0, 0, 0, loc)
		back := (int(first.Weekday()) + 6) % 7 // days since Monday
		first = first.AddDate(0, 0, -back)
		next = func(i int) time.Time { return first.AddDate(0, 0, 7*i) }
	case chartHalfMonths:
		first := time.Date(y, mo, 1, 0, 0, 0, 0, loc)
		next = func(i int) time.Time {
			m := first.AddDate(0, i/2, 0)
			if i%2 == 1 {
				return m.AddDate(0, 0, 14)
			}
			return m
		}
	case chartMonths:
		m0 := (int(mo) - 1) / s.n * s.n
		first := time.Date(y, time.Month(m0+1), 1, 0, 0, 0, 0, loc)
		next = func(i int) time.Time { return first.AddDate(0, i*s.n, 0) }
	case chartYears:
		y0 := y - ((y%s.n)+s.n)%s.n
		next = func(i int) time.Time { return time.Date(y0+i*s.n, 1, 1, 0, 0, 0, 0, loc) }
	}
	var out []time.Time
	for i := 0; i < 4*limit+8; i++ {
		tm := next(i)
		v := float64(tm.Unix())
		if v > hi+1e-6 {
			break
		}
		if v < lo-1e-6 {
			continue
		}
		out = append(out, tm)
		if len(out) > limit {
			break
		}
	}
	return out
}

// chartTimeLabel writes a date-axis label for tm at step s.
func chartTimeLabel(tm, prev time.Time, first bool, s chartTimeStep) string {
	newYear := first || tm.Year() != prev.Year()
	switch s.unit {
	case chartSeconds:
		f := "15:04"
		if s.n < 60 {
			f = "15:04:05"
		}
		label := tm.Format(f)
		if first || tm.YearDay() != prev.YearDay() || tm.Year() != prev.Year() {
			label += "\n" + tm.Format("Jan 2")
		}
		return label
	case chartDays, chartWeeks, chartHalfMonths:
		label := tm.Format("Jan 2")
		if newYear {
			label += "\n" + tm.Format("2006")
		}
		return label
	case chartMonths:
		if newYear || tm.Month() == time.January {
			return tm.Format("Jan 2006")
		}
		return tm.Format("Jan")
	}
	return tm.Format("2006")
}
