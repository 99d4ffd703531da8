package plotting

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

// encode writes s in enc, failing the test on a rune enc cannot hold.
func encode(t *testing.T, enc encoding.Encoding, s string) string {
	t.Helper()
	out, err := enc.NewEncoder().String(s)
	if err != nil {
		t.Fatalf("encoding %q: %v", s, err)
	}
	return out
}

func TestReadCSVEncodings(t *testing.T) {
	const text = "name;city;price\nZoë;Köln;3,50\nJosé;Málaga;12\n"
	utf16 := func(e unicode.Endianness, bom unicode.BOMPolicy) encoding.Encoding { return unicode.UTF16(e, bom) }
	cases := []struct {
		name     string
		in       string
		encoding string
		options  string
		cols     []string
		rows     [][]string
	}{
		{"UTF-8", text, EncodingUTF8, "sep=';', decimal=','", nil, nil},
		{"UTF-8 with BOM", "\ufeff" + text, EncodingUTF8BOM, "encoding='utf-8-sig', sep=';', decimal=','", nil, nil},
		{"UTF-16 LE with BOM", encode(t, utf16(unicode.LittleEndian, unicode.UseBOM), text), EncodingUTF16LE, "encoding='utf-16', sep=';', decimal=','", nil, nil},
		{"UTF-16 BE with BOM", encode(t, utf16(unicode.BigEndian, unicode.UseBOM), text), EncodingUTF16BE, "encoding='utf-16', sep=';', decimal=','", nil, nil},
		{"UTF-16 LE without BOM", encode(t, utf16(unicode.LittleEndian, unicode.IgnoreBOM), text), EncodingUTF16LE, "encoding='utf-16-le', sep=';', decimal=','", nil, nil},
		{"UTF-16 BE without BOM", encode(t, utf16(unicode.BigEndian, unicode.IgnoreBOM), text), EncodingUTF16BE, "encoding='utf-16-be', sep=';', decimal=','", nil, nil},
		{"Latin-1 with é", encode(t, charmap.ISO8859_1, text), EncodingLatin1, "encoding='latin-1', sep=';', decimal=','", nil, nil},
		{"Windows-1252 with €", encode(t, charmap.Windows1252, "item,price\nCafé,€3\n“Tea”,€2\n"), EncodingCP1252, "encoding='cp1252'",
			[]string{"item", "price"}, [][]string{{"Café", "€3"}, {"“Tea”", "€2"}}},
		// 0x81 is not Windows-1252: Python's cp1252 codec refuses it.
		{"Latin-1 with a C1 control", "a,b\n\x81,\xe9\n", EncodingLatin1, "encoding='latin-1'",
			[]string{"a", "b"}, [][]string{{"\u0081", "é"}}},
		{"UTF-16 with a surrogate pair", encode(t, utf16(unicode.LittleEndian, unicode.UseBOM), "chart,n\n📈,1\n"), EncodingUTF16LE, "encoding='utf-16'",
			[]string{"chart", "n"}, [][]string{{"📈", "1"}}},
		{"UTF-16 cut mid-character", encode(t, utf16(unicode.BigEndian, unicode.UseBOM), "a,b\n1,2")[:15], EncodingUTF16BE, "encoding='utf-16'",
			[]string{"a", "b"}, [][]string{{"1", "\ufffd"}}},
	}
	for _, c := range cases {
		tbl, err := ReadCSV(strings.NewReader(c.in), 300)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		cols, rows := c.cols, c.rows
		if cols == nil {
			cols, rows = []string{"name", "city", "price"}, [][]string{{"Zoë", "Köln", "3,50"}, {"José", "Málaga", "12"}}
		}
		if tbl.Encoding != c.encoding || tbl.ReadOptions() != c.options {
			t.Errorf("%s: encoding %q, options %q; want %q, %q", c.name, tbl.Encoding, tbl.ReadOptions(), c.encoding, c.options)
		}
		if !reflect.DeepEqual(tbl.Columns, cols) || !reflect.DeepEqual(tbl.Rows, rows) {
			t.Errorf("%s: got %q %q, want %q %q", c.name, tbl.Columns, tbl.Rows, cols, rows)
		}
		if len(tbl.Warnings) > 0 {
			t.Errorf("%s: warnings %q", c.name, tbl.Warnings)
		}
	}

	// Bytes that are not UTF-8 past the first 64 KiB, which the encoding
	// is told from, show as U+FFFD, not as invalid strings.
	long := strings.Repeat("x", 70<<10)
	tbl, err := ReadCSV(strings.NewReader("a\n"+long+"\ncaf\xe9\n"), 200)
	if want := [][]string{{long[:maxFieldBytes] + "…"}, {"caf\ufffd"}}; err != nil || tbl.Encoding != EncodingUTF8 || !reflect.DeepEqual(tbl.Rows, want) {
		t.Errorf("invalid UTF-8 past the head: %+v, %v", tbl, err)
	}

	// Binary data is refused, not read as Windows-1252.
	if _, err := ReadCSV(strings.NewReader("PK\x03\x04\x00\x00\xff\xfe\x00\x00\x80"), 5); err == nil || !strings.Contains(err.Error(), "not text") {
		t.Errorf("binary data: %v", err)
	}
}

func TestReadCSVWarnings(t *testing.T) {
	cases := []struct {
		name     string
		in       string
		rows     [][]string
		warnings []string
		more     int
	}{
		{"ragged rows", "a,b,c,d\n1,2,3,4\n1,2,3,4,5\n1,2\n",
			[][]string{{"1", "2", "3", "4"}, {"1", "2", "3", "4", "5"}, {"1", "2"}},
			[]string{"Line 3 has 5 fields, the header has 4", "Line 4 has 2 fields, the header has 4"}, 0},
		{"lines counted across CRLF, blank lines and quoted newlines", "a,b\r\n\r\n\"x\r\ny\",1\r\n2\r\n",
			[][]string{{"x\ny", "1"}, {"2"}},
			[]string{"Line 5 has 1 field, the header has 2"}, 0},
		{"a quote never closed", "a,b\n1,2\n3,\"open\n4,5\n",
			[][]string{{"1", "2"}, {"3", "open\n4,5\n"}},
			[]string{"Line 3: a quote never closes"}, 0},
		{"a stray quote in a quoted field", "a,b\n\"say \"hi\" now\",2\n",
			[][]string{{`say "hi" now`, "2"}},
			[]string{"Line 2: a stray quote in a quoted field"}, 0},
		{"a stray quote on a later line of its field", "a,b\n\"one\ntwo \"x\",2\n",
			[][]string{{"one\ntwo \"x", "2"}},
			[]string{"Line 3: a stray quote in a quoted field"}, 0},
		{"warnings capped", "a,b\n" + strings.Repeat("1\n", 12),
			[][]string{{"1"}, {"1"}, {"1"}, {"1"}, {"1"}, {"1"}, {"1"}, {"1"}, {"1"}, {"1"}, {"1"}, {"1"}},
			[]string{"Line 2 has 1 field, the header has 2", "Line 3 has 1 field, the header has 2", "Line 4 has 1 field, the header has 2",
				"Line 5 has 1 field, the header has 2", "Line 6 has 1 field, the header has 2"}, 7},
		{"a well-formed text", "a,b\n\"x, \"\"y\"\"\",2\n", [][]string{{`x, "y"`, "2"}}, nil, 0},
	}
	for _, c := range cases {
		tbl, err := ReadCSV(strings.NewReader(c.in), 50)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !reflect.DeepEqual(tbl.Rows, c.rows) || !reflect.DeepEqual(tbl.Warnings, c.warnings) || tbl.MoreWarnings != c.more {
			t.Errorf("%s: rows %q, warnings %q +%d\nwant %q, %q +%d", c.name, tbl.Rows, tbl.Warnings, tbl.MoreWarnings, c.rows, c.warnings, c.more)
		}
	}
}

func TestReadCSVDecimalComma(t *testing.T) {
	cases := []struct {
		in   string
		want bool
	}{
		{"a;b\n1,5;2\n3;4,25\n", true},
		{"a;b\n-1.234,5;x\n", true},
		{"a\tb\n0,75\t\n", true},
		{"a;b\n1,234;2\n", false},      // a thousands comma as much as a decimal one
		{"a;b\n1,5;2\n1.5;3\n", false}, // decimal points too
		{"a;b\n1,5 €;2\n", false},      // not a number
		{"a,b\n\"1,5\",2\n", false},    // pandas cannot have decimal=',' with sep=','
		{"a;b\nx;y\n", false},
	}
	for _, c := range cases {
		tbl, err := ReadCSV(strings.NewReader(c.in), 50)
		if err != nil {
			t.Fatal(err)
		}
		if tbl.DecimalComma != c.want || strings.Contains(tbl.ReadOptions(), "decimal=','") != c.want {
			t.Errorf("%q: decimal comma %v, options %q", c.in, tbl.DecimalComma, tbl.ReadOptions())
		}
	}
}

// The model's preview of a file says how to read it and what is wrong.
func TestPreviewFileSaysEncodingAndWarnings(t *testing.T) {
	p := filepath.Join(t.TempDir(), "sales.csv")
	body := encode(t, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM), "month;revenue\nJan;1,5\nFeb;2;x\n")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := PreviewFile(p, 5)
	want := "read_csv: encoding='utf-16', sep=';', decimal=','\ncolumns (2): month (text), revenue (float)\n  Jan | 1,5\n  Feb | 2 | x\n" +
		"  warning: Line 3 has 3 fields, the header has 2\n"
	if err != nil || got != want {
		t.Fatalf("preview = %q, %v\nwant %q", got, err, want)
	}
}
