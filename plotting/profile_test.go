package plotting

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"testing"
)

const peopleCSV = "name,age,score,member,joined,city,note\n" +
	"Ann,30,1.5,yes,2024-01-01,Oslo,\n" +
	"Bob,,2.5,no,2024-01-03,Oslo,\n" +
	"Cid,40,,yes,2024-01-02,Rome,\n" +
	"Dee,30,4,,NA,Oslo,\n"

func TestProfileFrame(t *testing.T) {
	fr, err := readText(t, "people.csv", []byte(peopleCSV), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := ProfileFrame(fr)
	f := func(v float64) *float64 { return &v }
	want := []ColumnProfile{
		{Name: "name", Type: "text", Distinct: 4, Top: []TopValue{{"Ann", 1}, {"Bob", 1}, {"Cid", 1}, {"Dee", 1}}},
		{Name: "age", Type: "int", Missing: 1, Distinct: 2, Min: int64(30), Max: int64(40), Mean: f(100.0 / 3)},
		{Name: "score", Type: "float", Missing: 1, Distinct: 3, Min: 1.5, Max: 4.0, Mean: f(8.0 / 3)},
		{Name: "member", Type: "bool", Missing: 1, Distinct: 2, Top: []TopValue{{"true", 2}, {"false", 1}}},
		{Name: "joined", Type: "date", Missing: 1, Distinct: 3, Min: "2024-01-01", Max: "2024-01-03"},
		{Name: "city", Type: "text", Distinct: 2, Top: []TopValue{{"Oslo", 3}, {"Rome", 1}}},
		{Name: "note", Type: "text", Missing: 4},
	}
	if !reflect.DeepEqual(p.Columns, want) {
		for i := range p.Columns {
			if !reflect.DeepEqual(p.Columns[i], want[i]) {
				t.Errorf("column %d:\n got  %+v\n want %+v", i, p.Columns[i], want[i])
			}
		}
	}
	if p.File != "people.csv" || p.Rows != 4 || p.Sheet != nil || *p.Encoding != "UTF-8" || *p.Delimiter != "," || p.Decimal != "." {
		t.Fatalf("profile %+v", p)
	}
	js, err := json.Marshal(p.Columns[4])
	if err != nil || string(js) != `{"name":"joined","type":"date","missing":1,"distinct":3,"distinct_approx":false,"min":"2024-01-01","max":"2024-01-03","mean":null,"top":null}` {
		t.Fatalf("JSON %s %v", js, err)
	}
	js, _ = json.Marshal(p)
	if !bytes.Contains(js, []byte(`"file":"people.csv","sheet":null,"encoding":"UTF-8","delimiter":",","decimal":".","rows":4`)) {
		t.Fatalf("JSON %s", js)
	}
	text := "people.csv: 4 rows, UTF-8, delimiter \",\"\n" +
		"column  type   missing  distinct         min         max     mean  top\n" +
		"name    text         0         4                                   Ann (1), Bob (1), Cid (1), Dee (1)\n" +
		"age     int          1         2          30          40  33.3333\n" +
		"score   float        1         3         1.5           4  2.66667\n" +
		"member  bool         1         2                                   true (2), false (1)\n" +
		"joined  date         1         3  2024-01-01  2024-01-03\n" +
		"city    text         0         2                                   Oslo (3), Rome (1)\n" +
		"note    text         4         0\n"
	if got := p.Text(); got != text {
		t.Fatalf("Text:\n%s\nwant:\n%s", got, text)
	}
}

func TestProfileWorkbookAndDatetimes(t *testing.T) {
	fr, err := ReadFile(salesBook(t), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := ProfileFrame(fr)
	if p.Sheet == nil || *p.Sheet != "Sales" || p.Encoding != nil || p.Delimiter != nil {
		t.Fatalf("profile %+v", p)
	}
	when := p.Columns[4]
	if when.Min != "2024-01-31 01:30:00" || when.Max != "2024-02-01 01:00:00" || when.Distinct != 2 || when.Mean != nil {
		t.Fatalf("when %+v", when)
	}
	if got := p.Text(); !bytes.HasPrefix([]byte(got), []byte("book.xlsx, sheet \"Sales\": 3 rows\n")) {
		t.Fatalf("Text %q", got)
	}
}

// Distinct counts are exact up to 100,000 values, and within 2% past it;
// they are exact for decimals and for ints in a range of up to 64 million
// whatever their count.
func TestProfileDistinct(t *testing.T) {
	for _, n := range []int{10, 100_000, 300_000} {
		floats := make([]float64, 2*n)
		ints := make([]int64, 2*n)
		decimals := make([]float64, 2*n)
		near := make([]int64, 2*n)
		for i := range floats {
			floats[i] = float64(i%n) / 3
			ints[i] = int64(i%n) * 1e12 // a wide range: no bitmap
			decimals[i] = float64(i%n) / 100
			near[i] = int64(i%n) * 7
		}
		fr := &Frame{Columns: []*Column{
			{Name: "f", Type: TypeFloat, n: 2 * n, floats: floats},
			{Name: "i", Type: TypeInt, n: 2 * n, ints: ints},
			{Name: "decimals", Type: TypeFloat, n: 2 * n, floats: decimals},
			{Name: "near", Type: TypeInt, n: 2 * n, ints: near},
		}}
		for _, c := range ProfileFrame(fr).Columns {
			exact := n <= 100_000 || c.Name == "decimals" || c.Name == "near"
			if c.DistinctApprox == exact || exact && c.Distinct != n || math.Abs(float64(c.Distinct-n)) > 0.02*float64(n) {
				t.Errorf("%d distinct: column %s counts %d (approximate %v)", n, c.Name, c.Distinct, c.DistinctApprox)
			}
		}
	}
}

// A mean past the largest float is null, and the profile still JSON.
func TestProfileHugeMean(t *testing.T) {
	fr, err := readText(t, "huge.csv", []byte("x\n1e308\n1.7e308\n"), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := ProfileFrame(fr)
	if _, err := json.Marshal(p); err != nil || p.Columns[0].Mean != nil || p.Columns[0].Max != 1.7e308 {
		t.Fatalf("%+v %v", p.Columns[0], err)
	}
}

func TestTop(t *testing.T) {
	counts := []int{5, 0, 7, 5, 1, 9, 5, 2}
	got, distinct := top(counts, 5, func(i int) string { return fmt.Sprint("v", 9-i) })
	want := []TopValue{{"v4", 9}, {"v7", 7}, {"v3", 5}, {"v6", 5}, {"v9", 5}}
	if !reflect.DeepEqual(got, want) || distinct != 7 {
		t.Fatalf("top = %v %d", got, distinct)
	}
}
