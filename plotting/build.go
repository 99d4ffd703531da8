package plotting

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
)

// ChartRequest says which chart of a frame to draw: the columns, the
// grouping, the aggregate and the kind. Empty fields are chosen from the
// frame's columns by BuildChart.
type ChartRequest struct {
	X     string   // the column along x; "" picks one
	Y     []string // the columns of values; none picks one
	By    string   // a column whose values split the data into series
	Agg   string   // sum, mean, count, min, max or median; "" is sum (mean for line and area charts of a number x)
	Every string   // day, week, month or year: resample a date x; "" keeps each date
	Kind  Kind     // "" picks one: a date and a number make a line, a category and a number a bar
	Title string   // "" makes one from the columns
}

// Columns names the columns the chart reads, when the request names them
// all; nil when BuildChart would choose among the table's columns. Reading
// only these (ReadOptions.Columns) keeps a wide or long table's chart lean.
func (r ChartRequest) Columns() []string {
	oneValue := r.Kind == KindHist || r.Kind == KindBox
	if len(r.Y) == 0 || r.X == "" && !oneValue {
		return nil
	}
	cols := slices.Clone(r.Y)
	for _, c := range []string{r.X, r.By} {
		if c != "" && !slices.Contains(cols, c) {
			cols = append(cols, c)
		}
	}
	return cols
}

// Chart limits.
const (
	maxCategories = 40 // bars and boxes drawn
	maxSeries     = 24 // series a --by column makes
)

// BuildChart picks the columns and kind req leaves open, aggregates f as
// the kind needs, and returns the chart to draw. Its errors are for people:
// a missing column, an empty table, a column of the wrong type.
func BuildChart(f *Frame, req ChartRequest) (*Chart, error) {
	if f.Len() == 0 {
		return nil, errors.New("the table has no rows")
	}
	b := &chartBuilder{f: f, req: req}
	if err := b.pick(); err != nil {
		return nil, err
	}
	c, err := b.build()
	if err != nil {
		return nil, err
	}
	b.titled(c)
	return c, nil
}

// titled gives c the title asked for, or one made from its columns.
func (b *chartBuilder) titled(c *Chart) {
	switch {
	case b.req.Title != "":
		c.Title = b.req.Title
	case c.Title == "":
		c.Title = b.title()
	}
}

type chartBuilder struct {
	f   *Frame
	req ChartRequest
	x   *Column   // nil for hist and box of bare columns
	ys  []*Column // value columns
	by  *Column
	agg AggFunc
}

// column finds a named column, with a flag's name in its error.
func (b *chartBuilder) column(name, flag string) (*Column, error) {
	c, err := b.f.Column(name)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	return c, nil
}

func (b *chartBuilder) pick() error {
	req := &b.req
	var err error
	if req.X != "" {
		if b.x, err = b.column(req.X, "x"); err != nil {
			return err
		}
	}
	for _, name := range req.Y {
		c, err := b.column(name, "y")
		if err != nil {
			return err
		}
		b.ys = append(b.ys, c)
	}
	if req.By != "" {
		if b.by, err = b.column(req.By, "by"); err != nil {
			return err
		}
	}
	if req.Kind != "" {
		if _, err := ParseKind(string(req.Kind)); err != nil {
			return err
		}
	}
	if b.by != nil && len(b.ys) > 1 {
		return errors.New("splitting into series (by) needs a single column of values (y)")
	}
	used := func(c *Column) bool {
		return c == b.x || c == b.by || slices.Contains(b.ys, c)
	}
	first := func(ok func(*Column) bool) *Column {
		for _, c := range b.f.Columns {
			if !used(c) && ok(c) {
				return c
			}
		}
		return nil
	}
	numeric := func(c *Column) bool { return c.Type.Numeric() }
	oneValue := req.Kind == KindHist || req.Kind == KindBox
	if len(b.ys) == 0 && !(oneValue && b.x != nil && b.x.Type.Numeric()) {
		y := first(numeric)
		switch {
		case y != nil:
			b.ys = []*Column{y}
		case b.x != nil && b.x.Type.Numeric() && req.Kind == "":
			// One column of numbers and nothing to set it against: its
			// distribution.
			req.Kind, oneValue = KindHist, true
		default:
			return errors.New("the table has no column of numbers to chart; its columns are " + b.f.describeColumns())
		}
	}
	if b.x == nil && !oneValue && req.Kind != KindScatter {
		b.x = first(func(c *Column) bool { return c.Type.Temporal() })
		if b.x == nil {
			b.x = first(func(c *Column) bool { return c.Type == TypeText || c.Type == TypeBool })
		}
	}
	if b.x == nil && req.Kind == KindScatter {
		b.x = first(numeric)
		if b.x == nil {
			return errors.New("a scatter chart needs two columns of numbers, x and y")
		}
	}
	if req.Kind == "" {
		req.Kind = b.autoKind()
	}
	if oneValue && len(b.ys) == 0 {
		b.ys, b.x = []*Column{b.x}, nil
	}

	b.agg = AggSum
	if (req.Kind == KindLine || req.Kind == KindArea) && b.x != nil && b.x.Type.Numeric() {
		b.agg = AggMean
	}
	if req.Agg != "" {
		if b.agg, err = ParseAgg(req.Agg); err != nil {
			return fmt.Errorf("combining values (agg): %w", err)
		}
	}
	for _, y := range b.ys {
		if !y.Type.Numeric() && !(b.agg == AggCount && !oneValue && req.Kind != KindScatter) {
			return fmt.Errorf("column %q is %s; a %s chart needs numbers in --y", y.Name, y.Type, req.Kind)
		}
	}
	if req.Every != "" {
		if b.x == nil || !b.x.Type.Temporal() {
			return errors.New("resampling by a period (every) needs a date column along x")
		}
		if _, err := ParsePeriod(req.Every); err != nil {
			return fmt.Errorf("every: %w", err)
		}
	}
	switch req.Kind {
	case KindBar, KindLine, KindArea, KindHeatmap:
		if b.x == nil {
			return fmt.Errorf("a %s chart needs a column along x (a date or a category)", req.Kind)
		}
	case KindScatter:
		if !b.x.Type.Numeric() && !b.x.Type.Temporal() {
			return fmt.Errorf("column %q is %s; a scatter chart needs numbers or dates along x", b.x.Name, b.x.Type)
		}
	}
	if req.Kind == KindHeatmap && b.by == nil {
		return errors.New("a heatmap needs two category columns, x and by")
	}
	return nil
}

// autoKind picks the chart for the columns chosen.
func (b *chartBuilder) autoKind() Kind {
	switch {
	case b.x == nil:
		return KindHist
	case b.x.Type.Temporal():
		return KindLine
	case b.x.Type.Numeric():
		return KindScatter
	}
	return KindBar
}

func (b *chartBuilder) title() string {
	var ys []string
	for _, y := range b.ys {
		ys = append(ys, y.Name)
	}
	t := strings.Join(ys, ", ")
	switch b.req.Kind {
	case KindHist, KindBox:
		t = "Distribution of " + t
	case KindScatter:
		t = t + " against " + b.x.Name
	default:
		if b.agg != AggSum {
			t = b.agg.String() + " " + t
		}
		t = upperFirst(t) + " by " + b.x.Name
		if b.req.Every != "" {
			p, _ := ParsePeriod(b.req.Every)
			t = upperFirst(t) + ", each " + p.String()
		}
	}
	if b.by != nil {
		t += " and " + b.by.Name
	}
	return upperFirst(t)
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func (b *chartBuilder) build() (*Chart, error) {
	switch b.req.Kind {
	case KindHist, KindBox:
		return b.distribution()
	case KindScatter:
		return b.scatter()
	case KindHeatmap:
		return b.heatmap()
	}
	return b.aggregated()
}

// keys are the grouping columns: x, then by.
func (b *chartBuilder) keys() []string {
	keys := []string{b.x.Name}
	if b.by != nil {
		keys = append(keys, b.by.Name)
	}
	return keys
}

func (b *chartBuilder) aggs() []Agg {
	var aggs []Agg
	for i, y := range b.ys {
		aggs = append(aggs, Agg{Column: y.Name, Func: b.agg, As: fmt.Sprintf("\x00y%d", i)})
	}
	return aggs
}

// grouped aggregates the value columns by x (resampled when asked) and by.
func (b *chartBuilder) grouped() (*Frame, error) {
	if b.req.Every != "" {
		p, _ := ParsePeriod(b.req.Every)
		var keys []string
		if b.by != nil {
			keys = []string{b.by.Name}
		}
		return b.f.Resample(b.x.Name, p, keys, b.aggs())
	}
	return b.f.GroupBy(b.keys(), b.aggs())
}

// aggregated draws bars, lines and areas: one value per x (and by).
func (b *chartBuilder) aggregated() (*Chart, error) {
	g, err := b.grouped()
	if err != nil {
		return nil, err
	}
	return b.chartOf(g)
}

// chartOf draws the grouped frame g: x (or its period), by if any, then a
// value column for each y.
func (b *chartBuilder) chartOf(g *Frame) (*Chart, error) {
	c := &Chart{Kind: b.req.Kind, XLabel: b.x.Name, YLabel: b.yLabel()}
	xs := g.Columns[0]
	var by *Column
	if b.by != nil {
		by = g.Columns[1]
	}
	vals := g.Columns[len(g.Columns)-len(b.ys):]
	bar := c.Kind == KindBar
	if !bar && !(xs.Type.Temporal() || xs.Type.Numeric()) {
		// A line of categories is drawn at their positions, in order.
		c.Kind = KindBar
		bar = true
	}
	c.TimeX = !bar && xs.Type.Temporal()

	// Series: one per value column, or one per by value.
	type series struct {
		name string
		pts  map[string]float64 // bar: category → value
		x, y []float64
	}
	var ss []*series
	index := map[string]int{}
	get := func(name string) *series {
		i, ok := index[name]
		if !ok {
			i = len(ss)
			index[name] = i
			ss = append(ss, &series{name: name, pts: map[string]float64{}})
		}
		return ss[i]
	}
	var cats []string
	seen := map[string]bool{}
	for r := range g.Len() {
		if xs.Missing(r) {
			continue
		}
		key := b.periodLabel(xs, r)
		if bar && !seen[key] {
			seen[key] = true
			cats = append(cats, key)
		}
		for i, v := range vals {
			name := b.ys[i].Name
			if by != nil {
				name = by.Text(r)
				if by.Missing(r) {
					name = "(missing)"
				}
			}
			y, ok := v.Float(r)
			if !ok {
				y = math.NaN()
			}
			s := get(name)
			if bar {
				s.pts[key] = y
			} else {
				x, _ := xs.Float(r)
				s.x, s.y = append(s.x, x), append(s.y, y)
			}
		}
	}
	if len(ss) > maxSeries {
		return nil, fmt.Errorf("column %q makes %d series; a chart stays readable with at most %d", b.by.Name, len(ss), maxSeries)
	}
	if len(ss) == 0 {
		return nil, errors.New("no rows have a value along x")
	}
	if bar {
		if xs.Type.Temporal() || xs.Type.Numeric() {
			// In order along x, as the grouping left them.
		} else {
			slices.SortStableFunc(cats, func(a, b string) int { return cmp.Compare(a, b) })
		}
		totals := map[string]float64{}
		for _, s := range ss {
			for cat, v := range s.pts {
				totals[cat] = addNaN(totals[cat], math.Abs(v))
			}
		}
		all := len(cats)
		additive := b.agg == AggSum || b.agg == AggCount
		cats = b.capCategories(cats, totals, additive, func(cat string) {
			for _, s := range ss {
				s.pts["other"] = addNaN(s.pts["other"], s.pts[cat])
			}
		})
		if len(cats) < all && !additive {
			c.Title = fmt.Sprintf("%s (the %d largest of %d)", b.title(), len(cats), all)
		}
		c.Categories = cats
	}
	for _, s := range ss {
		out := Series{Name: s.name}
		if len(ss) == 1 && by == nil {
			out.Name = ""
		}
		if bar {
			for _, cat := range cats {
				v, ok := s.pts[cat]
				if !ok {
					v = math.NaN()
				}
				out.Y = append(out.Y, v)
			}
		} else {
			out.X, out.Y = s.x, s.y
			sortXY(out.X, out.Y)
		}
		c.Series = append(c.Series, out)
	}
	return c, nil
}

// periodLabel names row r's x for a bar: a resampled date by its period
// ("Jan 2024", "2024"), any other value as its text.
func (b *chartBuilder) periodLabel(xs *Column, r int) string {
	t, ok := xs.Time(r)
	if !ok || b.req.Every == "" {
		return xs.Text(r)
	}
	switch p, _ := ParsePeriod(b.req.Every); p {
	case Month:
		return t.Format("Jan 2006")
	case Year:
		return t.Format("2006")
	case Week:
		return "week of " + t.Format("Jan 2, 2006")
	}
	return xs.Text(r)
}

// capCategories keeps at most maxCategories categories: those with the
// largest totals, in their order. When sum is true the rest are summed
// into "other" (fold is called with each); otherwise they are left out.
func (b *chartBuilder) capCategories(cats []string, totals map[string]float64, sum bool, fold func(string)) []string {
	if len(cats) <= maxCategories {
		return cats
	}
	n := maxCategories
	if sum {
		n-- // room for "other"
	}
	ranked := slices.Clone(cats)
	slices.SortStableFunc(ranked, func(x, y string) int { return cmp.Compare(totals[y], totals[x]) })
	keep := map[string]bool{}
	for _, cat := range ranked[:n] {
		keep[cat] = true
	}
	var out []string
	for _, cat := range cats {
		if keep[cat] {
			out = append(out, cat)
		} else if sum {
			fold(cat)
		}
	}
	if sum {
		out = append(out, "other")
	}
	return out
}

func addNaN(a, b float64) float64 {
	if math.IsNaN(b) {
		return a
	}
	return a + b
}

// sortXY sorts points by x, keeping each y with its x.
func sortXY(x, y []float64) {
	if slices.IsSorted(x) {
		return
	}
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(x[a], x[b]) })
	xs, ys := slices.Clone(x), slices.Clone(y)
	for i, j := range idx {
		x[i], y[i] = xs[j], ys[j]
	}
}

func (b *chartBuilder) yLabel() string {
	name := b.ys[0].Name
	if len(b.ys) > 1 {
		return ""
	}
	if b.agg == AggCount {
		return "count"
	}
	if b.agg != AggSum {
		return b.agg.String() + " of " + name
	}
	return name
}

// distribution draws histograms and box plots of raw values.
func (b *chartBuilder) distribution() (*Chart, error) {
	c := &Chart{Kind: b.req.Kind, XLabel: b.ys[0].Name, YLabel: "rows"}
	if c.Kind == KindBox {
		c.XLabel, c.YLabel = "", b.ys[0].Name
	}
	split := b.by
	if split == nil && c.Kind == KindBox && b.x != nil && !b.x.Type.Numeric() {
		split = b.x
	}
	if split == nil {
		for _, y := range b.ys {
			c.Series = append(c.Series, Series{Name: y.Name, Y: y.Floats()})
		}
		if len(b.ys) == 1 && c.Kind == KindHist {
			c.Series[0].Name = ""
		}
		return c, nil
	}
	y := b.ys[0]
	vals := y.Floats()
	groups := map[string][]float64{}
	var names []string
	for r := range y.Len() {
		name := split.Text(r)
		if split.Missing(r) {
			name = "(missing)"
		}
		if _, ok := groups[name]; !ok {
			names = append(names, name)
		}
		groups[name] = append(groups[name], vals[r])
	}
	slices.Sort(names)
	limit := maxSeries
	if c.Kind == KindBox {
		limit = maxCategories
		c.XLabel = split.Name
	}
	if len(names) > limit {
		return nil, fmt.Errorf("column %q has %d values; a %s chart stays readable with at most %d", split.Name, len(names), c.Kind, limit)
	}
	for _, name := range names {
		c.Series = append(c.Series, Series{Name: name, Y: groups[name]})
	}
	if c.Kind == KindBox {
		c.Categories = names
	}
	return c, nil
}

// scatter draws raw x, y pairs, a series per by value.
func (b *chartBuilder) scatter() (*Chart, error) {
	y := b.ys[0]
	c := &Chart{Kind: KindScatter, XLabel: b.x.Name, YLabel: y.Name, TimeX: b.x.Type.Temporal()}
	xv := b.x.Floats()
	if b.by == nil {
		for _, yc := range b.ys {
			s := Series{X: xv, Y: yc.Floats()}
			if len(b.ys) > 1 {
				s.Name = yc.Name
				c.YLabel = ""
			}
			c.Series = append(c.Series, s)
		}
		return c, nil
	}
	yv := y.Floats()
	index := map[string]int{}
	for r := range y.Len() {
		name := b.by.Text(r)
		if b.by.Missing(r) {
			name = "(missing)"
		}
		i, ok := index[name]
		if !ok {
			if len(c.Series) == maxSeries {
				return nil, fmt.Errorf("column %q has more than %d values; a chart stays readable with at most %d series", b.by.Name, maxSeries, maxSeries)
			}
			i = len(c.Series)
			index[name] = i
			c.Series = append(c.Series, Series{Name: name})
		}
		s := &c.Series[i]
		s.X, s.Y = append(s.X, xv[r]), append(s.Y, yv[r])
	}
	return c, nil
}

// heatmap draws an aggregate of y for each pair of x and by values.
func (b *chartBuilder) heatmap() (*Chart, error) {
	g, err := b.grouped()
	if err != nil {
		return nil, err
	}
	// Both groupings put x (or its period) first, then by, then the value.
	xs, by, v := g.Columns[0], g.Columns[1], g.Columns[2]
	c := &Chart{Kind: KindHeatmap, XLabel: b.x.Name, YLabel: b.by.Name}
	col, row := map[string]int{}, map[string]int{}
	var cells [][3]float64
	for r := range g.Len() {
		if xs.Missing(r) || by.Missing(r) {
			continue
		}
		cx, rx := xs.Text(r), by.Text(r)
		if _, ok := col[cx]; !ok {
			col[cx] = len(c.Categories)
			c.Categories = append(c.Categories, cx)
		}
		if _, ok := row[rx]; !ok {
			row[rx] = len(c.RowLabels)
			c.RowLabels = append(c.RowLabels, rx)
		}
		val, ok := v.Float(r)
		if !ok {
			val = math.NaN()
		}
		cells = append(cells, [3]float64{float64(row[rx]), float64(col[cx]), val})
	}
	if len(c.Categories) > 200 || len(c.RowLabels) > 200 {
		return nil, fmt.Errorf("a heatmap of %d × %d cells is too large to read; group --x or --by more coarsely", len(c.RowLabels), len(c.Categories))
	}
	c.Grid = make([][]float64, len(c.RowLabels))
	for i := range c.Grid {
		c.Grid[i] = make([]float64, len(c.Categories))
		for j := range c.Grid[i] {
			c.Grid[i][j] = math.NaN()
		}
	}
	for _, cell := range cells {
		c.Grid[int(cell[0])][int(cell[1])] = cell[2]
	}
	return c, nil
}

// describeColumns names a frame's columns with their types, for errors.
func (f *Frame) describeColumns() string {
	names := make([]string, len(f.Columns))
	for i, c := range f.Columns {
		names[i] = fmt.Sprintf("%s (%s)", c.Name, c.Type)
	}
	return nameList(names, 10)
}
