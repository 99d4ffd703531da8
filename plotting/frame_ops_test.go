package plotting

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
)

const salesCSV = "region,product,units,price,day\n" +
	"North,A,1,10,2024-01-01\n" +
	"South,B,2,20,2024-01-01\n" +
	"North,B,3,30,2024-01-03\n" +
	"North,A,4,,2024-01-08\n" +
	"South,A,,50,2024-02-15\n"

func sales(t *testing.T) *Frame {
	t.Helper()
	fr, err := readText(t, "sales.csv", []byte(salesCSV), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return fr
}

// table gives a frame's columns as Text gives them, by name.
func table(fr *Frame) map[string][]string {
	out := map[string][]string{}
	for _, c := range fr.Columns {
		out[c.Name] = cells(c)
	}
	return out
}

func TestGroupBy(t *testing.T) {
	fr := sales(t)
	cases := []struct {
		name  string
		keys  []string
		aggs  []Agg
		names []string
		want  map[string][]string
		types []Type
	}{
		{"sum, mean, count", []string{"region"},
			[]Agg{{Column: "units", Func: AggSum}, {Column: "price", Func: AggMean}, {Func: AggCount}, {Column: "units", Func: AggCount, As: "with units"}},
			[]string{"region", "units", "price", "count", "with units"},
			map[string][]string{"region": {"North", "South"}, "units": {"8", "2"}, "price": {"20", "35"}, "count": {"3", "2"}, "with units": {"3", "1"}},
			[]Type{TypeText, TypeInt, TypeFloat, TypeInt, TypeInt}},
		{"min, max, median", []string{"region"},
			[]Agg{{Column: "day", Func: AggMin}, {Column: "day", Func: AggMax}, {Column: "units", Func: AggMedian}, {Column: "price", Func: AggMedian}, {Column: "price", Func: AggMax}},
			[]string{"region", "day", "max_day", "units", "price", "max_price"},
			map[string][]string{"region": {"North", "South"}, "day": {"2024-01-01", "2024-01-01"}, "max_day": {"2024-01-08", "2024-02-15"},
				"units": {"3", "2"}, "price": {"20", "35"}, "max_price": {"30", "50"}},
			[]Type{TypeText, TypeDate, TypeDate, TypeFloat, TypeFloat, TypeInt}},
		{"two keys in first-seen order", []string{"region", "product"}, []Agg{{Column: "units", Func: AggSum}},
			[]string{"region", "product", "units"},
			map[string][]string{"region": {"North", "South", "North", "South"}, "product": {"A", "B", "B", "A"}, "units": {"5", "2", "3", "0"}},
			[]Type{TypeText, TypeText, TypeInt}},
		{"no keys", nil, []Agg{{Column: "units", Func: AggSum}, {Column: "units", Func: AggMean}, {Column: "units", Func: AggMedian, As: "med"}},
			[]string{"units", "mean_units", "med"},
			map[string][]string{"units": {"10"}, "mean_units": {"2.5"}, "med": {"2.5"}},
			[]Type{TypeInt, TypeFloat, TypeFloat}},
		{"a key of numbers", []string{"units"}, []Agg{{Func: AggCount}},
			[]string{"units", "count"},
			map[string][]string{"units": {"1", "2", "3", "4", ""}, "count": {"1", "1", "1", "1", "1"}},
			[]Type{TypeInt, TypeInt}},
		{"a missing key is a group", []string{"price"}, []Agg{{Column: "units", Func: AggMin}},
			[]string{"price", "units"},
			map[string][]string{"price": {"10", "20", "30", "", "50"}, "units": {"1", "2", "3", "4", ""}},
			[]Type{TypeInt, TypeInt}},
	}
	for _, c := range cases {
		out, err := fr.GroupBy(c.keys, c.aggs)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		var types []Type
		for _, col := range out.Columns {
			types = append(types, col.Type)
		}
		if !reflect.DeepEqual(out.Names(), c.names) || !reflect.DeepEqual(table(out), c.want) || !reflect.DeepEqual(types, c.types) {
			t.Errorf("%s: got %q %v %v", c.name, out.Names(), table(out), types)
		}
	}
	if fr.Len() != 5 || fr.Columns[2].Text(0) != "1" {
		t.Fatal("GroupBy changed its input")
	}
}

func TestGroupByErrors(t *testing.T) {
	fr := sales(t)
	cases := []struct {
		keys []string
		aggs []Agg
		want string
	}{
		{[]string{"region"}, []Agg{{Column: "region", Func: AggSum}}, `column "region" is text; sum needs numbers`},
		{[]string{"region"}, []Agg{{Column: "product", Func: AggMedian}}, `column "product" is text; median needs numbers`},
		{[]string{"region"}, []Agg{{Column: "product", Func: AggMax}}, `column "product" is text; max needs numbers or dates`},
		{[]string{"regions"}, nil, `no column "regions"; the columns are region, product, units, price, day`},
		{[]string{"region"}, []Agg{{Column: "unit", Func: AggSum}}, `no column "unit"; the columns are region, product, units, price, day`},
		{[]string{"region"}, []Agg{{Func: AggSum}}, `sum needs a column`},
		{[]string{"region"}, []Agg{{Column: "units", Func: AggSum, As: "region"}}, `two columns would be named "region"; give the aggregate another name`},
		{[]string{"region", "region"}, nil, `key "region" is given twice`},
	}
	for _, c := range cases {
		if _, err := fr.GroupBy(c.keys, c.aggs); err == nil || err.Error() != c.want {
			t.Errorf("GroupBy(%q, %v): %v, want %q", c.keys, c.aggs, err, c.want)
		}
	}
}

func TestParseAggAndPeriod(t *testing.T) {
	for s, want := range map[string]AggFunc{"sum": AggSum, " Mean ": AggMean, "avg": AggMean, "COUNT": AggCount, "min": AggMin, "max": AggMax, "median": AggMedian} {
		if got, err := ParseAgg(s); err != nil || got != want {
			t.Errorf("ParseAgg(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := ParseAgg("total"); err == nil || err.Error() != `no aggregate "total"; the aggregates are sum, mean, count, min, max, median` {
		t.Errorf("ParseAgg(total): %v", err)
	}
	for s, want := range map[string]Period{"day": Day, "Weekly": Week, "month": Month, "years": Year, "M": Month} {
		if got, err := ParsePeriod(s); err != nil || got != want {
			t.Errorf("ParsePeriod(%q) = %v, %v", s, got, err)
		}
	}
	if _, err := ParsePeriod("hour"); err == nil || err.Error() != `no period "hour"; the periods are day, week, month, year` {
		t.Errorf("ParsePeriod(hour): %v", err)
	}
	if AggMedian.String() != "median" || Week.String() != "week" || TypeDatetime.String() != "datetime" {
		t.Error("String")
	}
}

func TestSortFilterHead(t *testing.T) {
	fr := sales(t)
	cases := []struct {
		col  string
		desc bool
		want []string // the products, then the units
	}{
		{"units", false, []string{"A,B,B,A,A", "1,2,3,4,"}},
		{"units", true, []string{"A,B,B,A,A", "4,3,2,1,"}},
		{"price", true, []string{"A,B,B,A,A", ",,,,"}},
		{"region", false, []string{"A,B,A,B,A", "1,3,4,2,"}},
		{"region", true, []string{"B,A,A,B,A", "2,,1,3,4"}},
		{"day", true, []string{"A,A,B,A,B", ",4,3,1,2"}},
	}
	for _, c := range cases {
		out, err := fr.Sort(c.col, c.desc)
		if err != nil {
			t.Fatal(err)
		}
		got := []string{strings.Join(cells(out.Columns[1]), ","), strings.Join(cells(out.Columns[2]), ",")}
		if c.col == "price" {
			got[1] = strings.Join(cells(out.Columns[3]), ",")
			c.want[1] = "50,30,20,10,"
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("Sort(%s, %v) = %q, want %q", c.col, c.desc, got, c.want)
		}
	}
	if _, err := fr.Sort("nope", false); err == nil {
		t.Error("Sort by a missing column")
	}
	units, _ := fr.Column("units")
	big := fr.Filter(func(i int) bool { v, ok := units.Float(i); return ok && v > 1 })
	if got := cells(big.Columns[2]); !reflect.DeepEqual(got, []string{"2", "3", "4"}) || big.Columns[3].Missing(2) != true {
		t.Fatalf("Filter: %q", got)
	}
	if h := fr.Head(2); h.Len() != 2 || cells(h.Columns[0])[1] != "South" {
		t.Fatalf("Head(2) = %v", h)
	}
	if h := fr.Head(100); h.Len() != 5 || !h.Columns[3].Missing(3) || h.Columns[3].Missing(4) {
		t.Fatalf("Head(100) = %v", h)
	}
	if h := fr.Head(-1); h.Len() != 0 || len(h.Columns) != 5 {
		t.Fatalf("Head(-1) = %v", h)
	}
	if h := fr.Head(3); h.Columns[3].miss != nil {
		t.Fatal("Head(3) keeps a missing bitmap with no missing cell")
	}
}

func TestResample(t *testing.T) {
	fr := sales(t)
	cases := []struct {
		name  string
		every Period
		keys  []string
		want  map[string][]string
	}{
		{"by week", Week, nil, map[string][]string{
			"day":   {"2024-01-01", "2024-01-08", "2024-01-15", "2024-01-22", "2024-01-29", "2024-02-05", "2024-02-12"},
			"units": {"6", "4", "0", "0", "0", "0", "0"}, "price": {"20", "", "", "", "", "", "50"}, "count": {"3", "1", "0", "0", "0", "0", "1"}}},
		{"by month", Month, nil, map[string][]string{
			"day": {"2024-01-01", "2024-02-01"}, "units": {"10", "0"}, "price": {"20", "50"}, "count": {"4", "1"}}},
		{"by year", Year, nil, map[string][]string{
			"day": {"2024-01-01"}, "units": {"10"}, "price": {"27.5"}, "count": {"5"}}},
		{"by month and region", Month, []string{"region"}, map[string][]string{
			"day": {"2024-01-01", "2024-01-01", "2024-02-01", "2024-02-01"}, "region": {"North", "South", "North", "South"},
			"units": {"8", "2", "0", "0"}, "price": {"20", "20", "", "50"}, "count": {"3", "1", "0", "1"}}},
	}
	aggs := []Agg{{Column: "units", Func: AggSum}, {Column: "price", Func: AggMean}, {Func: AggCount}}
	for _, c := range cases {
		out, err := fr.Resample("day", c.every, c.keys, aggs)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := table(out); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got  %v\n want %v", c.name, got, c.want)
		}
		if out.Columns[0].Type != TypeDate {
			t.Errorf("%s: the period column is %s", c.name, out.Columns[0].Type)
		}
	}
	days, err := fr.Resample("day", Day, nil, []Agg{{Func: AggCount}})
	if err != nil || days.Len() != 46 || cells(days.Columns[1])[0] != "2" || cells(days.Columns[1])[1] != "0" || cells(days.Columns[0])[45] != "2024-02-15" {
		t.Fatalf("by day: %v %v", err, days)
	}
	if _, err := fr.Resample("region", Day, nil, nil); err == nil || err.Error() != `column "region" is text; resample needs a date or datetime column` {
		t.Errorf("resample by text: %v", err)
	}
}

// Datetimes fall in the day they are in, in UTC; rows with no date are
// left out; a week starts on Monday.
func TestResampleDatetimes(t *testing.T) {
	in := "at,v\n2024-01-07T23:30:00Z,1\n2024-01-08T00:10:00+01:00,2\n2024-01-08T00:10:00Z,3\n,4\n2024-01-15 09:00,5\n"
	fr, err := readText(t, "dt.csv", []byte(in), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := fr.Resample("at", Week, nil, []Agg{{Column: "v", Func: AggSum}, {Column: "at", Func: AggMax}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"at": {"2024-01-01", "2024-01-08", "2024-01-15"}, "v": {"3", "3", "5"}, "max_at": {"2024-01-07 23:30:00", "2024-01-08 00:10:00", "2024-01-15 09:00:00"}}
	if got := table(out); !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
	wide, _ := readText(t, "wide.csv", []byte("d,v\n0001-01-01,1\n9999-12-31T12:00,2\n2024-05-05,3\n"), ReadOptions{})
	years, err := wide.Resample("d", Year, nil, []Agg{{Column: "v", Func: AggSum}})
	if err != nil || years.Len() != 9999 || years.Columns[1].Text(2023) != "3" || years.Columns[0].Text(9998) != "9999-01-01" || years.Columns[1].Text(9998) != "2" {
		t.Fatalf("years: %v", err)
	}
	empty := fr.Filter(func(int) bool { return false })
	if out, err := empty.Resample("at", Day, nil, []Agg{{Func: AggCount}}); err != nil || out.Len() != 0 || len(out.Columns) != 2 {
		t.Fatalf("empty: %v %v", out, err)
	}
}

func TestFrameBasics(t *testing.T) {
	fr := sales(t)
	if _, err := fr.Column("x"); err == nil || err.Error() != `no column "x"; the columns are region, product, units, price, day` {
		t.Fatalf("Column: %v", err)
	}
	want := "region  product  units  price  day\n" +
		"North   A            1     10  2024-01-01\n" +
		"South   B            2     20  2024-01-01\n" +
		"North   B            3     30  2024-01-03\n" +
		"North   A            4         2024-01-08\n" +
		"South   A                  50  2024-02-15\n"
	if got := fr.String(); got != want {
		t.Fatalf("String:\n%s\nwant:\n%s", got, want)
	}
	var long strings.Builder
	long.WriteString("n\n")
	for i := range 25 {
		long.WriteString(strings.Repeat("x", i) + "\n")
	}
	lf, _ := readText(t, "l.csv", []byte(long.String()), ReadOptions{})
	if s := lf.String(); !strings.HasSuffix(s, "\n… 4 more rows\n") || strings.Count(s, "\n") != 22 {
		t.Fatalf("String of 25 rows:\n%s", s)
	}
	price, _ := fr.Column("price")
	if v, ok := price.Float(0); !ok || v != 10 {
		t.Fatal("Float")
	}
	if _, ok := price.Float(3); ok {
		t.Fatal("Float of a missing cell")
	}
	fl := price.Floats()
	if fl[1] != 20 || !math.IsNaN(fl[3]) {
		t.Fatalf("Floats = %v", fl)
	}
	day, _ := fr.Column("day")
	if v, _ := day.Float(0); v != 1704067200 {
		t.Fatalf("a date's Float = %v", v)
	}
	if tm, ok := day.Time(2); !ok || tm.Format("2006-01-02") != "2024-01-03" || tm.Location().String() != "UTC" {
		t.Fatalf("Time = %v", tm)
	}
	region, _ := fr.Column("region")
	if region.Floats() != nil {
		t.Fatal("Floats of text")
	}
	if _, ok := region.Time(0); ok {
		t.Fatal("Time of text")
	}
	if !TypeInt.Numeric() || TypeBool.Numeric() || !TypeDate.Temporal() || TypeText.Temporal() {
		t.Fatal("Numeric, Temporal")
	}
}

// A text column of many different values (IDs) reads, sorts and groups.
func TestManyTexts(t *testing.T) {
	var b strings.Builder
	b.WriteString("id,n\n")
	const rows = 70_000
	for i := range rows {
		fmt.Fprintf(&b, "id-%05d,%d\n", (i*7919)%rows, i%3)
	}
	fr, err := readText(t, "ids.csv", []byte(b.String()), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	id := fr.Columns[0]
	if id.Type != TypeText || id.Text(1) != "id-07919" || id.dict.len() != rows {
		t.Fatalf("id: %s %q", id.Type, id.Text(1))
	}
	sorted, _ := fr.Sort("id", true)
	if got := sorted.Columns[0].Text(0); got != "id-69999" {
		t.Fatalf("sorted: %q", got)
	}
	groups, _ := fr.GroupBy([]string{"id"}, []Agg{{Column: "n", Func: AggSum}})
	if groups.Len() != rows {
		t.Fatalf("%d groups", groups.Len())
	}
	if p := ProfileFrame(fr); p.Columns[0].Distinct != rows || len(p.Columns[0].Top) != 5 {
		t.Fatalf("profile %+v", p.Columns[0])
	}
}
