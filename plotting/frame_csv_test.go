package plotting

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

// readText reads content as the file name.
func readText(t *testing.T, name string, content []byte, opts ReadOptions) (*Frame, error) {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, content, 0o600); err != nil {
		t.Fatal(err)
	}
	return ReadFile(p, opts)
}

// cells gives a column's cells as Text gives them.
func cells(c *Column) []string {
	out := make([]string, c.Len())
	for i := range out {
		out[i] = c.Text(i)
	}
	return out
}

func utf16Text(s string, order unicode.Endianness) []byte {
	b, err := unicode.UTF16(order, unicode.UseBOM).NewEncoder().Bytes([]byte(s))
	if err != nil {
		panic(err)
	}
	return b
}

// col is a column as a test expects it.
type col struct {
	name  string
	typ   Type
	cells []string
}

func TestReadCSVFrame(t *testing.T) {
	cases := []struct {
		name    string
		in      []byte
		cols    []col
		source  Source // checked for the fields set
		warning string // a substring of the warnings
	}{
		{"semicolons, decimal comma", []byte("name;price;qty\nA;1.234,56;3\nB;2,5;4\n"),
			[]col{{"name", TypeText, []string{"A", "B"}}, {"price", TypeFloat, []string{"1234.56", "2.5"}}, {"qty", TypeInt, []string{"3", "4"}}},
			Source{Delimiter: ";", Decimal: ","}, ""},
		{"byte order mark", []byte("\ufeffa,b\n1,x\n"),
			[]col{{"a", TypeInt, []string{"1"}}, {"b", TypeText, []string{"x"}}},
			Source{Encoding: EncodingUTF8BOM, Delimiter: ",", Decimal: "."}, ""},
		{"UTF-16 LE", utf16Text("city,n\nZürich,1\nBern,2\n", unicode.LittleEndian),
			[]col{{"city", TypeText, []string{"Zürich", "Bern"}}, {"n", TypeInt, []string{"1", "2"}}},
			Source{Encoding: EncodingUTF16LE}, ""},
		{"UTF-16 BE", utf16Text("city;n\nZürich;1,5\n", unicode.BigEndian),
			[]col{{"city", TypeText, []string{"Zürich"}}, {"n", TypeFloat, []string{"1.5"}}},
			Source{Encoding: EncodingUTF16BE, Delimiter: ";", Decimal: ","}, ""},
		{"Latin-1", []byte("city,n\nZ\xfcrich,1\n"),
			[]col{{"city", TypeText, []string{"Zürich"}}, {"n", TypeInt, []string{"1"}}},
			Source{Encoding: EncodingLatin1}, ""},
		{"Windows-1252", []byte("item\tprice\n\x80 note\t3\n"),
			[]col{{"item", TypeText, []string{"€ note"}}, {"price", TypeInt, []string{"3"}}},
			Source{Encoding: EncodingCP1252, Delimiter: "\t"}, ""},
		{"quoted newlines and quotes", []byte("id,note\n1,\"two\nlines\"\n2,\"say \"\"hi\"\"\"\r\n3,\"a,b\"\n"),
			[]col{{"id", TypeInt, []string{"1", "2", "3"}}, {"note", TypeText, []string{"two\nlines", `say "hi"`, "a,b"}}},
			Source{}, ""},
		{"ragged rows", []byte("a,b,c\n1,2,3\n4,5\n6,7,8,9\n"),
			[]col{{"a", TypeInt, []string{"1", "4", "6"}}, {"b", TypeInt, []string{"2", "5", "7"}}, {"c", TypeInt, []string{"3", "", "8"}}},
			Source{}, "1 row has more than the header's 3 fields (the first is row 3)"},
		{"header only", []byte("a,b\n"), []col{{"a", TypeText, []string{}}, {"b", TypeText, []string{}}}, Source{}, ""},
		{"thousands separators", []byte("n,m\n\"1,234,567\",\"2,000.5\"\n12,3\n"),
			[]col{{"n", TypeInt, []string{"1234567", "12"}}, {"m", TypeFloat, []string{"2000.5", "3"}}}, Source{}, ""},
		{"thousands with a decimal comma", []byte("v;w\n1.234.567;1\n2.000,5;2\n-1 234,5;3\n"),
			[]col{{"v", TypeFloat, []string{"1234567", "2000.5", "-1234.5"}}, {"w", TypeInt, []string{"1", "2", "3"}}}, Source{Decimal: ","}, ""},
		{"thin and no-break spaces", []byte("n\n1\u00a0234\n5\u202f678\n9\u2009000\n"),
			[]col{{"n", TypeInt, []string{"1234", "5678", "9000"}}}, Source{}, ""},
		{"groups of the wrong size are text", []byte("n\n\"1,23\"\n\"1,234\"\n"),
			[]col{{"n", TypeText, []string{"1,23", "1,234"}}}, Source{}, ""},
		{"missing markers", []byte("a,b\n1,NA\nN/A,\n3,null\nNaN,-\nNone,NULL\n nan ,n/a\n"),
			[]col{{"a", TypeInt, []string{"1", "", "3", "", "", ""}}, {"b", TypeText, []string{"", "", "", "", "", ""}}}, Source{}, ""},
		{"ISO dates", []byte("d,e,f\n2024-01-31,2024/01/31,31.01.2024\n2024-2-5,2024/02/05,05.02.2024\n"),
			[]col{{"d", TypeDate, []string{"2024-01-31", "2024-02-05"}}, {"e", TypeDate, []string{"2024-01-31", "2024-02-05"}}, {"f", TypeDate, []string{"2024-01-31", "2024-02-05"}}}, Source{}, ""},
		{"day first when a first part is over 12", []byte("d\n05/02/2024\n31/01/2024\n"),
			[]col{{"d", TypeDate, []string{"2024-02-05", "2024-01-31"}}}, Source{}, ""},
		{"month first by default", []byte("d\n05/02/2024\n01/31/2024\n12-25-2023\n"),
			[]col{{"d", TypeDate, []string{"2024-05-02", "2024-01-31", "2023-12-25"}}}, Source{}, ""},
		{"month first when the order can only be that", []byte("d\n02/29/2024\n01/02/2024\n"),
			[]col{{"d", TypeDate, []string{"2024-02-29", "2024-01-02"}}}, Source{}, ""},
		{"no one order: text", []byte("d\n31/01/2024\n01/31/2024\n"),
			[]col{{"d", TypeText, []string{"31/01/2024", "01/31/2024"}}}, Source{}, ""},
		{"datetimes to UTC", []byte("t\n2024-01-31T10:00:00Z\n2024-01-31 10:00\n2024-01-31T12:30:00+02:30\n2024-01-31T05:00-0500\n31.01.2024 10:00:00.250\n"),
			[]col{{"t", TypeDatetime, []string{"2024-01-31 10:00:00", "2024-01-31 10:00:00", "2024-01-31 10:00:00", "2024-01-31 10:00:00", "2024-01-31 10:00:00.250"}}}, Source{}, ""},
		{"dates and datetimes", []byte("t\n2024-01-31\n2024-01-31T08:15\n"),
			[]col{{"t", TypeDatetime, []string{"2024-01-31 00:00:00", "2024-01-31 08:15:00"}}}, Source{}, ""},
		{"ints and floats", []byte("x\n1\n2.5\n-3\n1e3\n"),
			[]col{{"x", TypeFloat, []string{"1", "2.5", "-3", "1000"}}}, Source{}, ""},
		{"ints and text", []byte("x\n1\nx1\n007\n"),
			[]col{{"x", TypeText, []string{"1", "x1", "007"}}}, Source{}, ""},
		{"bools", []byte("b,n\ntrue,0\nFALSE,1\nYes,0\nno,1\n"),
			[]col{{"b", TypeBool, []string{"true", "false", "true", "false"}}, {"n", TypeInt, []string{"0", "1", "0", "1"}}}, Source{}, ""},
		{"numbers first: no header", []byte("1,2024-01-01\n3,2024-01-02\n"),
			[]col{{"column_1", TypeInt, []string{"1", "3"}}, {"column_2", TypeDate, []string{"2024-01-01", "2024-01-02"}}}, Source{}, ""},
		{"names made unique", []byte("value,value, ,x,value_2\n1,2,3,4,5\n"),
			[]col{{"value", TypeInt, []string{"1"}}, {"value_3", TypeInt, []string{"2"}}, {"column_3", TypeInt, []string{"3"}}, {"x", TypeInt, []string{"4"}}, {"value_2", TypeInt, []string{"5"}}}, Source{}, ""},
		{"pipes and blank lines", []byte("a|b\n\n1|2\r\n\r\n3|4"),
			[]col{{"a", TypeInt, []string{"1", "3"}}, {"b", TypeInt, []string{"2", "4"}}}, Source{Delimiter: "|"}, ""},
		{"a quote that never closes", []byte("a,b\n1,\"open\n2,3\n"),
			[]col{{"a", TypeInt, []string{"1"}}, {"b", TypeText, []string{"open\n2,3\n"}}}, Source{}, "a quote in row 1 never closes"},
		{"big and odd numbers", []byte("x\n12345678901234567890\n0.1\n1.7976931348623157e308\n"),
			[]col{{"x", TypeFloat, []string{"1.2345678901234567e+19", "0.1", "1.7976931348623157e+308"}}}, Source{}, ""},
		{"int64 edges", []byte("x\n-9223372036854775808\n9223372036854775807\n"),
			[]col{{"x", TypeInt, []string{"-9223372036854775808", "9223372036854775807"}}}, Source{}, ""},
	}
	for _, c := range cases {
		fr, err := readText(t, "t.csv", c.in, ReadOptions{})
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		var got []col
		for _, cl := range fr.Columns {
			got = append(got, col{cl.Name, cl.Type, cells(cl)})
		}
		if !reflect.DeepEqual(got, c.cols) {
			t.Errorf("%s:\n got  %+v\n want %+v", c.name, got, c.cols)
		}
		s := c.source
		if s.Encoding != "" && fr.Source.Encoding != s.Encoding || s.Delimiter != "" && fr.Source.Delimiter != s.Delimiter || s.Decimal != "" && fr.Source.Decimal != s.Decimal {
			t.Errorf("%s: source %+v, want %+v", c.name, fr.Source, s)
		}
		if fr.Source.File != "t.csv" || fr.Source.Sheet != "" {
			t.Errorf("%s: source %+v", c.name, fr.Source)
		}
		if w := strings.Join(fr.Warnings, "\n"); c.warning == "" && w != "" || !strings.Contains(w, c.warning) {
			t.Errorf("%s: warnings %q, want %q", c.name, fr.Warnings, c.warning)
		}
	}
}

func TestReadCSVFrameWarnings(t *testing.T) {
	fr, err := readText(t, "r.csv", []byte("a,b,c\n1,2,3\n4,5\n6\n7,8,9,10\n"), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"2 rows have fewer than the header's 3 fields (the first is row 2); the cells they lack are missing",
		"1 row has more than the header's 3 fields (the first is row 4); the extra cells are left out",
	}
	if !reflect.DeepEqual(fr.Warnings, want) {
		t.Fatalf("warnings %q", fr.Warnings)
	}
}

func TestReadCSVFrameErrors(t *testing.T) {
	cases := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty.csv", nil, "the file is empty"},
		{"bom.csv", []byte("\ufeff"), "the file is empty"},
		{"blank.csv", []byte("\n\r\n\n"), "the file is empty"},
		{"zip.csv", []byte("PK\x03\x04\x14\x00\x00\x00garbage\x00\x01\x02"), "zip.csv is not a text table: not text: it holds NUL bytes"},
		{"png.csv", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00"), "png.csv is not a text table: not text: it holds NUL bytes"},
		{"data.json", []byte("{}"), "data.json is not a table file Plotline reads: it reads .csv, .tsv, .txt, .xlsx and .xlsm"},
		{"old.xls", []byte("x"), "old.xls is an old Excel workbook (.xls), which Plotline does not read; save it as .xlsx"},
	}
	for _, c := range cases {
		_, err := readText(t, c.name, c.in, ReadOptions{})
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "missing.csv"), ReadOptions{}); err == nil {
		t.Error("a missing file read fine")
	}
}

// Random bytes read as some table or fail plainly; they never panic.
func TestReadCSVFrameGarbage(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 300 {
		b := make([]byte, rng.IntN(3000))
		for i := range b {
			b[i] = byte(rng.IntN(256))
			if b[i] == 0 {
				b[i] = '\n'
			}
		}
		fr, err := readText(t, "g.csv", b, ReadOptions{})
		if err == nil {
			ProfileFrame(fr).Text()
			_ = fr.String()
		}
	}
}

// A 2-field header over rows of 10,000 fields keeps 2 columns.
func TestReadCSVFrameWideRows(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("a,b\n")
	for r := range 50 {
		for c := range 10000 {
			if c > 0 {
				b.WriteByte(',')
			}
			fmt.Fprint(&b, r*c)
		}
		b.WriteByte('\n')
	}
	fr, err := readText(t, "wide.csv", b.Bytes(), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if fr.Len() != 50 || len(fr.Columns) != 2 || fr.Columns[1].Text(3) != "3" {
		t.Fatalf("%d rows, %v", fr.Len(), fr.Names())
	}
	if len(fr.Warnings) != 1 || !strings.HasPrefix(fr.Warnings[0], "50 rows have more than the header's 2 fields") {
		t.Fatalf("warnings %q", fr.Warnings)
	}
}

func TestReadCSVFrameMaxBytes(t *testing.T) {
	in := []byte("n,s\n1,a\n2,b\n3,c\n4,d\n")
	fr, err := readText(t, "m.csv", in, ReadOptions{MaxBytes: 14})
	if err != nil {
		t.Fatal(err)
	}
	if got := cells(fr.Columns[0]); !reflect.DeepEqual(got, []string{"1", "2"}) {
		t.Fatalf("cut read: %q", got)
	}
	if len(fr.Warnings) != 1 || fr.Warnings[0] != "only the first 14 B of 20 B were read" {
		t.Fatalf("warnings %q", fr.Warnings)
	}
	if _, err := readText(t, "m.csv", in, ReadOptions{MaxBytes: 3}); err == nil || err.Error() != "the first row is longer than the 3 B read" {
		t.Fatalf("a cut header: %v", err)
	}
}

// equalFrames says how two frames differ, or "".
func equalFrames(a, b *Frame) string {
	if !reflect.DeepEqual(a.Names(), b.Names()) {
		return fmt.Sprintf("names %q and %q", a.Names(), b.Names())
	}
	if a.Len() != b.Len() {
		return fmt.Sprintf("%d and %d rows", a.Len(), b.Len())
	}
	for j, ca := range a.Columns {
		cb := b.Columns[j]
		if ca.Type != cb.Type {
			return fmt.Sprintf("column %q: %s and %s", ca.Name, ca.Type, cb.Type)
		}
		for i := range ca.Len() {
			if ca.Text(i) != cb.Text(i) || ca.Missing(i) != cb.Missing(i) {
				return fmt.Sprintf("column %q row %d: %q and %q", ca.Name, i, ca.Text(i), cb.Text(i))
			}
		}
	}
	if !reflect.DeepEqual(a.Warnings, b.Warnings) {
		return fmt.Sprintf("warnings %q and %q", a.Warnings, b.Warnings)
	}
	return ""
}

// withBlocks runs fn with reading in blocks of size bytes on workers
// goroutines.
func withBlocks(size, workers int, fn func()) {
	oldSize, oldWorkers := frameBlockSize, frameWorkers
	frameBlockSize, frameWorkers = size, workers
	defer func() { frameBlockSize, frameWorkers = oldSize, oldWorkers }()
	fn()
}

// Reading in tiny blocks, so that quoted newlines, quotes and type changes
// fall across blocks, gives what reading in one block gives.
func TestReadCSVFrameChunks(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	texts := []string{"x", "\"q,1\"", "\"a\nb\"", "\"say \"\"hi\"\"\"", "z\"y", "", "NA", "\"\"", "é"}
	gen := func(rows int, late bool) []byte {
		var b bytes.Buffer
		b.WriteString("id,num,text,when,mixed,flag\r\n")
		for r := range rows {
			mixed := fmt.Sprint(r)
			if late && r == rows-3 {
				mixed = "late text"
			}
			when := fmt.Sprintf("%02d/%02d/2024", 1+r%12, 1+r/12%12) // either order reads these
			if late && r == rows-2 {
				when = "31/12/2024" // day first after all
			}
			fmt.Fprintf(&b, "%d,%d.%d,%s,%s,%s,%v", r, rng.IntN(1000), rng.IntN(100), texts[rng.IntN(len(texts))], when, mixed, r%3 == 0)
			switch rng.IntN(10) {
			case 0:
				b.WriteString(",extra")
			case 1:
				b.WriteString("\n\n")
				continue
			}
			b.WriteString("\n")
		}
		return b.Bytes()
	}
	for _, late := range []bool{false, true} {
		for _, rows := range []int{1, 7, 300} {
			in := gen(rows, late)
			var whole, parts *Frame
			var err error
			withBlocks(1<<20, 1, func() { whole, err = readText(t, "c.csv", in, ReadOptions{}) })
			if err != nil {
				t.Fatal(err)
			}
			for _, size := range []int{1, 16, 64, 1000} {
				withBlocks(size, 3, func() { parts, err = readText(t, "c.csv", in, ReadOptions{}) })
				if err != nil {
					t.Fatal(err)
				}
				if d := equalFrames(whole, parts); d != "" {
					t.Fatalf("late %v, %d rows, blocks of %d: %s", late, rows, size, d)
				}
			}
			if late && rows == 300 {
				// The same text in other encodings, read in tiny blocks, reads
				// again through the decoder.
				latin1, _ := charmap.ISO8859_1.NewEncoder().Bytes(in)
				for _, enc := range [][]byte{utf16Text(string(in), unicode.LittleEndian), utf16Text(string(in), unicode.BigEndian), latin1} {
					withBlocks(64, 3, func() { parts, err = readText(t, "c.csv", enc, ReadOptions{}) })
					if err != nil {
						t.Fatal(err)
					}
					if d := equalFrames(whole, parts); d != "" {
						t.Fatalf("%s: %s", parts.Source.Encoding, d)
					}
				}
				if c, _ := whole.Column("mixed"); c.Type != TypeText || c.Text(0) != "0" || c.Text(rows-3) != "late text" {
					t.Fatalf("mixed: %s %q %q", c.Type, c.Text(0), c.Text(rows-3))
				}
				if c, _ := whole.Column("when"); c.Type != TypeDate || c.Text(1) != "2024-01-02" || c.Text(rows-2) != "2024-12-31" {
					t.Fatalf("when: %s %q", c.Type, c.Text(1))
				}
			}
		}
	}
}

// The parser splits rows and fields as encoding/csv does with LazyQuotes,
// on random texts of quotes, separators and line ends, whatever the
// blocks.
func TestReadCSVFrameMatchesEncodingCSV(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	alphabet := []byte("ab ,,\"\"\n\r")
	for n := range 2000 {
		b := make([]byte, rng.IntN(60))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		in := "h1,h2,h3\n" + string(b)
		cr := csv.NewReader(strings.NewReader(in))
		cr.LazyQuotes, cr.FieldsPerRecord = true, -1
		want, err := cr.ReadAll()
		if err != nil {
			t.Fatalf("encoding/csv on %q: %v", in, err)
		}
		size := []int{1, 7, 1 << 20}[n%3]
		var fr *Frame
		withBlocks(size, 2, func() { fr, err = readText(t, "e.csv", []byte(in), ReadOptions{}) })
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		rows := want[1:]
		if fr.Len() != len(rows) {
			t.Fatalf("%q: %d rows, encoding/csv %d", in, fr.Len(), len(rows))
		}
		for i, r := range rows {
			for j, c := range fr.Columns {
				cell := ""
				if j < len(r) && !missingMarker(trimSpace([]byte(r[j]))) {
					cell = r[j]
				}
				if got := c.Text(i); got != cell {
					t.Fatalf("%q (blocks of %d): row %d field %d = %q, encoding/csv %q", in, size, i, j, got, cell)
				}
			}
		}
	}
}

func TestSafeSplit(t *testing.T) {
	cases := []struct {
		in   string
		want int
	}{
		{"a,b\n1,2\n3", 8},
		{"a,\"b\nc\"\n1", 8},
		{"a,\"b\nc", 0},
		{"a,\"b\"\"\nc\"\nx", 10},
		{"ab\"c\nd", 5},
		{"\"x\"y\nz\"\n1", 8},
		{"\"x\"\r\n", 5},
		{"\"x\"\r", 0},
		{"\"x\"", 0},
		{"no newline", 0},
	}
	for _, c := range cases {
		if got := safeSplit([]byte(c.in), ','); got != c.want {
			t.Errorf("safeSplit(%q) = %d, want %d", c.in, got, c.want)
		}
	}
}

func TestParseNumber(t *testing.T) {
	cases := []struct {
		in   string
		dec  byte
		k    kind
		want float64
	}{
		{"0", '.', kInt, 0},
		{"-12", '.', kInt, -12},
		{"+7", '.', kInt, 7},
		{"1.5", '.', kFloat, 1.5},
		{".5", '.', kFloat, 0.5},
		{"5.", '.', kFloat, 5},
		{"1,5", ',', kFloat, 1.5},
		{"1e-3", '.', kFloat, 0.001},
		{"2.5E+2", '.', kFloat, 250},
		{"0.1", '.', kFloat, 0.1},
		{"123456789012.345678", '.', kFloat, 123456789012.345678},
		{"1'000", '.', kInt, 1000},
		{"1.5", ',', kNone, 0},
		{"1,5", '.', kNone, 0},
		{"1,2345", '.', kNone, 0},
		{"1,234 567", '.', kNone, 0},
		{"1234,567", '.', kNone, 0},
		{"e5", '.', kNone, 0},
		{"1e", '.', kNone, 0},
		{"-", '.', kNone, 0},
		{".", '.', kNone, 0},
		{"0x1F", '.', kNone, 0},
		{"12%", '.', kNone, 0},
		{"1e999", '.', kNone, 0},
	}
	for _, c := range cases {
		k, iv, fv := parseNumber([]byte(c.in), c.dec)
		if k == kInt {
			fv = float64(iv)
		}
		if k != c.k || fv != c.want {
			t.Errorf("parseNumber(%q, %q) = %d %v, want %d %v", c.in, c.dec, k, fv, c.k, c.want)
		}
	}
	// The fast path and strconv agree on numbers of many digits.
	rng := rand.New(rand.NewPCG(9, 10))
	for range 20000 {
		v := rng.NormFloat64() * float64(int64(1)<<rng.IntN(60))
		s := fmt.Sprintf("%.*f", rng.IntN(8), v)
		_, _, fv := parseNumber([]byte(s), '.')
		if k, iv, _ := parseNumber([]byte(s), '.'); k == kInt {
			fv = float64(iv)
		}
		var want float64
		fmt.Sscan(s, &want)
		if fv != want {
			t.Fatalf("parseNumber(%q) = %v, want %v", s, fv, want)
		}
	}
}

func TestParseNumberAllocates(t *testing.T) {
	b := []byte("123456789.123456789123e-5")
	if n := testing.AllocsPerRun(100, func() { parseNumber(b, '.') }); n != 0 {
		t.Fatalf("parseNumber allocates %v times", n)
	}
}

func TestReadOnlyColumnsNamed(t *testing.T) {
	text := "id,region,revenue,note\n1,North,10.5,a\n2,South,7,\"b,\nc\"\n3,North,x,d\n"
	for _, block := range []int{7, 1 << 20} {
		old := frameBlockSize
		frameBlockSize = block
		f, err := ReadCSVFrame(strings.NewReader(text), int64(len(text)), "t.csv", ReadOptions{Columns: []string{"revenue", "region"}})
		frameBlockSize = old
		if err != nil {
			t.Fatal(err)
		}
		if got := f.Names(); !slices.Equal(got, []string{"region", "revenue"}) {
			t.Fatalf("block %d: columns %v", block, got)
		}
		rev := f.Columns[1]
		if f.Len() != 3 || rev.Type != TypeText || rev.Text(2) != "x" || f.Columns[0].Text(1) != "South" {
			t.Errorf("block %d: %v rows, revenue %s %q", block, f.Len(), rev.Type, rev.Text(2))
		}
	}
	_, err := ReadCSVFrame(strings.NewReader(text), int64(len(text)), "t.csv", ReadOptions{Columns: []string{"profit"}})
	if err == nil || !strings.Contains(err.Error(), `no column "profit"`) {
		t.Errorf("a missing column: %v", err)
	}
}

// A column with missing cells in its first chunk only keeps a bit for
// every row: the later chunks, which have none, still count.
func TestMissingOnlyInTheFirstChunk(t *testing.T) {
	var b strings.Builder
	b.WriteString("a,b\n,1\n")
	for i := range 500 {
		fmt.Fprintf(&b, "%d,%d\n", i, i)
	}
	old := frameBlockSize
	frameBlockSize = 64
	defer func() { frameBlockSize = old }()
	text := b.String()
	f, err := ReadCSVFrame(strings.NewReader(text), int64(len(text)), "t.csv", ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a := f.Columns[0]
	if f.Len() != 501 || !a.Missing(0) || a.Missing(500) || a.missingCount() != 1 {
		t.Errorf("rows %d, missing %d", f.Len(), a.missingCount())
	}
}
