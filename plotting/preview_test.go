package plotting

import (
	"archive/zip"
	"encoding/csv"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

func TestReadCSV(t *testing.T) {
	cases := []struct {
		name, in string
		cols     []string
		rows     [][]string
	}{
		{"comma", "a,b\n1,2\n3,4\n", []string{"a", "b"}, [][]string{{"1", "2"}, {"3", "4"}}},
		{"semicolon with BOM", "\ufeffa;b\n1,5;2\n", []string{"a", "b"}, [][]string{{"1,5", "2"}}},
		{"tab", "a\tb\tc\n1\t2\t3\n", []string{"a", "b", "c"}, [][]string{{"1", "2", "3"}}},
		{"quoted and ragged", "name,note\n\"Smith, J\",\"said \"\"hi\"\"\"\nx\n", []string{"name", "note"}, [][]string{{"Smith, J", `said "hi"`}, {"x"}}},
	}
	for _, c := range cases {
		tbl, err := ReadCSV(strings.NewReader(c.in), 5)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !reflect.DeepEqual(tbl.Columns, c.cols) || !reflect.DeepEqual(tbl.Rows, c.rows) {
			t.Fatalf("%s: got %q %q", c.name, tbl.Columns, tbl.Rows)
		}
	}
	tbl, _ := ReadCSV(strings.NewReader("n\n1\n2\n3\n4\n"), 2)
	if len(tbl.Rows) != 2 {
		t.Fatalf("row cap: %d rows", len(tbl.Rows))
	}
	if tbl, err := ReadCSV(strings.NewReader("caf\xe9,x\n"), 2); err != nil || tbl.Columns[0] != "café" || tbl.Encoding != EncodingLatin1 {
		t.Fatalf("Latin-1 bytes: %+v, %v", tbl, err)
	}
}

func TestTableStringClips(t *testing.T) {
	long := strings.Repeat("x", 50)
	s := (&Table{Columns: []string{"a", long}, Rows: [][]string{{"1", "2"}}}).String()
	if s != "columns (2): a, "+strings.Repeat("x", 40)+"…\n  1 | 2\n" {
		t.Fatalf("preview = %q", s)
	}
}

func TestReadXLSX(t *testing.T) {
	p := filepath.Join(t.TempDir(), "book.xlsx")
	f := excelize.NewFile()
	f.SetSheetRow("Sheet1", "A1", &[]any{"month", "revenue"})
	f.SetSheetRow("Sheet1", "A2", &[]any{"Jan", 10})
	f.NewSheet("Costs")
	f.SetSheetRow("Costs", "A1", &[]any{"item", "cost"})
	if err := f.SaveAs(p); err != nil {
		t.Fatal(err)
	}
	sheets, tables, err := ReadXLSX(p, 5)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(sheets, []string{"Sheet1", "Costs"}) || len(tables) != 2 {
		t.Fatalf("sheets %v, %d tables", sheets, len(tables))
	}
	if !reflect.DeepEqual(tables[0].Columns, []string{"month", "revenue"}) || !reflect.DeepEqual(tables[0].Rows, [][]string{{"Jan", "10"}}) {
		t.Fatalf("Sheet1 = %+v", tables[0])
	}
	pv, err := PreviewFile(p, 5)
	if err != nil || !strings.HasPrefix(pv, "sheets: Sheet1, Costs\n") || !strings.Contains(pv, `sheet "Costs" columns (2): item, cost`) {
		t.Fatalf("preview %q %v", pv, err)
	}
	if _, _, err := ReadXLSX(filepath.Join(t.TempDir(), "missing.xlsx"), 5); err == nil {
		t.Fatal("a missing workbook read fine")
	}
}

func TestFormatSizeAndKind(t *testing.T) {
	for n, want := range map[int64]string{999: "999 B", 2500: "2.5 KB", 13_000_000: "13.0 MB", 2_000_000_000: "2.0 GB"} {
		if got := FormatSize(n); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", n, got, want)
		}
	}
	if KindOf("Sales.XLSX") != "Excel workbook" || KindOf("x.bin") != "file" {
		t.Error("KindOf")
	}
}

// TestReadCSVMatchesEncodingCSV checks the capped scanner against
// encoding/csv (LazyQuotes, ragged records) on random small texts.
func TestReadCSVMatchesEncodingCSV(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("ab ,,\"\"\n\r")
	for n := range 20000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		in := "h" + string(b) // a first byte that is data, so that the separator guess is ','
		cr := csv.NewReader(strings.NewReader(in))
		cr.LazyQuotes, cr.FieldsPerRecord = true, -1
		want, err := cr.ReadAll()
		if err != nil {
			t.Fatalf("encoding/csv on %q: %v", in, err)
		}
		got, err := ReadCSV(strings.NewReader(in), 100)
		if err != nil {
			t.Fatalf("ReadCSV(%q): %v", in, err)
		}
		all := append([][]string{got.Columns}, got.Rows...)
		if got.Columns == nil {
			all = nil
		}
		if !reflect.DeepEqual(all, want) && !(len(all) == 0 && len(want) == 0) {
			t.Fatalf("case %d: ReadCSV(%q) = %q, encoding/csv = %q", n, in, all, want)
		}
	}
}

func TestReadCSVCaps(t *testing.T) {
	wide := make([]string, 60)
	for i := range wide {
		wide[i] = fmt.Sprint("c", i)
	}
	cases := []struct {
		name, in  string
		rows      int
		cols      []string
		moreCols  int
		data      [][]string
		moreCells []int
	}{
		{"long field clipped at a rune", "a\n" + strings.Repeat("é", 150) + "\n", 5,
			[]string{"a"}, 0, [][]string{{strings.Repeat("é", 100) + "…"}}, nil},
		{"long quoted field", "a,b\n\"" + strings.Repeat("x", 500) + "\",2\n", 5,
			[]string{"a", "b"}, 0, [][]string{{strings.Repeat("x", 200) + "…", "2"}}, nil},
		{"60 columns", strings.Join(wide, ",") + "\n1\n" + strings.Join(wide, ",") + "\n", 5,
			wide[:50], 10, [][]string{{"1"}, wide[:50]}, []int{0, 10}},
		{"row cap at 200", "n\n" + strings.Repeat("1\n", 300), 1000,
			[]string{"n"}, 0, slices.Repeat([][]string{{"1"}}, 200), nil},
		{"no rows asked", "a,b\n1,2\n", -3, []string{"a", "b"}, 0, nil, nil},
	}
	for _, c := range cases {
		tbl, err := ReadCSV(strings.NewReader(c.in), c.rows)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !reflect.DeepEqual(tbl.Columns, c.cols) || tbl.MoreColumns != c.moreCols || !reflect.DeepEqual(tbl.Rows, c.data) || !reflect.DeepEqual(tbl.MoreCells, c.moreCells) || tbl.Stopped != "" {
			t.Fatalf("%s: got %q +%d, %q %v %q", c.name, tbl.Columns, tbl.MoreColumns, tbl.Rows, tbl.MoreCells, tbl.Stopped)
		}
	}
	s := (&Table{Columns: wide[:50], MoreColumns: 10, Rows: [][]string{{"1"}, wide[:50]}, MoreCells: []int{0, 10}}).String()
	want := "columns (60): " + strings.Join(wide[:30], ", ") + ", … 30 more\n  1\n  " + strings.Join(wide[:30], " | ") + " | … 30 more\n"
	if s != want {
		t.Fatalf("String() = %q, want %q", s, want)
	}
}

// directXLSX reads a workbook as Plotline did before previews were capped:
// excelize on the whole file.
func directXLSX(t *testing.T, p string, rows int) ([]string, [][][]string) {
	f, err := excelize.OpenFile(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var tables [][][]string
	for i, s := range f.GetSheetList() {
		if i == 5 {
			break
		}
		it, err := f.Rows(s)
		if err != nil {
			t.Fatal(err)
		}
		var tbl [][]string
		for n := 0; n <= rows && it.Next(); n++ {
			rec, err := it.Columns()
			if err != nil {
				t.Fatal(err)
			}
			tbl = append(tbl, rec)
		}
		it.Close()
		tables = append(tables, tbl)
	}
	return f.GetSheetList(), tables
}

// TestReadXLSXMatchesExcelize checks that the capped reader gives the
// values excelize gives on the whole file: shared and inline strings, rich
// text, number formats, dates, gaps, sparse and wide rows.
func TestReadXLSXMatchesExcelize(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "book.xlsx")
	f := excelize.NewFile()
	day := time.Date(2024, 3, 9, 0, 0, 0, 0, time.UTC)
	f.SetSheetRow("Sheet1", "A1", &[]any{"month", "revenue", "share", "day", "ok", "weight", "note"})
	f.SetSheetRow("Sheet1", "A2", &[]any{"Jan", 10, 0.125, day, true, 3.25, "a & b <c>"})
	f.SetSheetRow("Sheet1", "A3", &[]any{"Feb", 0.1 + 0.2, 1.5, day.AddDate(0, 1, 0), false, 12, strings.Repeat("long ", 100)})
	f.SetSheetRow("Sheet1", "A6", &[]any{"gap", 1e20, -7})
	pct, _ := f.NewStyle(&excelize.Style{NumFmt: 10})
	kg := `0.0 "kg"`
	kgs, _ := f.NewStyle(&excelize.Style{CustomNumFmt: &kg})
	f.SetCellStyle("Sheet1", "C2", "C3", pct)
	f.SetCellStyle("Sheet1", "F2", "F3", kgs)
	f.SetCellFormula("Sheet1", "H2", "B2*2")
	f.SetCellRichText("Sheet1", "G6", []excelize.RichTextRun{{Text: "bold"}, {Text: " plain", Font: &excelize.Font{Bold: true}}})
	f.NewSheet("Wide")
	for c := 1; c <= 60; c++ {
		name, _ := excelize.ColumnNumberToName(c)
		f.SetCellValue("Wide", name+"1", fmt.Sprint("h", c))
		f.SetCellValue("Wide", name+"2", c)
	}
	f.SetCellValue("Wide", "BZ3", "far")
	f.SetCellValue("Wide", "B3", "near")
	if err := f.SaveAs(p); err != nil {
		t.Fatal(err)
	}
	// A hand-written sheet: prefixed names, inline strings, entities,
	// CDATA, phonetic runs, escapes, errors and odd cells excelize writes no
	// more but other tools do.
	hand := filepath.Join(dir, "hand.xlsx")
	writeXLSX(t, hand, []string{"Odd"}, map[string]string{
		"xl/sharedStrings.xml": `<x:sst xmlns:x="` + nsMain + `"><x:si><x:t>zero</x:t></x:si><x:si/><x:si><x:t xml:space="preserve"> two&#10;lines </x:t><x:rPh><x:t>PH</x:t></x:rPh></x:si><x:si><x:r><x:t>ri</x:t></x:r><x:r><x:t>ch_x000D_</x:t></x:r></x:si></x:sst>`,
		"xl/worksheets/sheet1.xml": `<?xml version="1.0"?><x:worksheet xmlns:x="` + nsMain + `"><x:dimension ref="A1:E4"/><x:sheetData>` +
			`<x:row r="1"><x:c r="A1" t="s"><x:v>0</x:v></x:c><x:c r="B1" t="s"><x:v> 2 </x:v></x:c><x:c r="D1" t="s"><x:v>3</x:v></x:c><!-- a comment <x:c> --><x:c t="s"><x:v>1</x:v></x:c></x:row>` +
			`<x:row><x:c t="inlineStr"><x:is><x:t><![CDATA[<raw> & ]]]></x:t></x:is></x:c><x:c t="e"><x:v>#DIV/0!</x:v></x:c><x:c t="b"><x:v>1</x:v></x:c><x:c t="str"><x:f>A1</x:f><x:v>q&quot;uote</x:v></x:c></x:row>` +
			`<x:row r="4"><x:c r="C4"><x:v>1.50</x:v></x:c><x:c r="E4" t="n"><x:v>2E3</x:v></x:c></x:row>` +
			`</x:sheetData></x:worksheet>`,
	})
	for _, file := range []string{p, hand} {
		for _, rows := range []int{1, 5} {
			wantSheets, want := directXLSX(t, file, rows)
			sheets, tables, err := ReadXLSX(file, rows)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(sheets, wantSheets) || len(tables) != len(want) {
				t.Fatalf("%s: sheets %q, %d tables; want %q, %d", file, sheets, len(tables), wantSheets, len(want))
			}
			for i, tbl := range tables {
				var got [][]string
				if tbl.Columns != nil || len(tbl.Rows) > 0 {
					got = append([][]string{tbl.Columns}, tbl.Rows...)
				}
				var capped [][]string
				for j, rec := range want[i] {
					more, gotMore := max(len(rec)-maxPreviewColumns, 0), tbl.MoreColumns
					if j > 0 {
						gotMore = 0
						if j-1 < len(tbl.MoreCells) {
							gotMore = tbl.MoreCells[j-1]
						}
					}
					if gotMore != more {
						t.Errorf("%s sheet %d row %d: %d cells past the cap, want %d", file, i, j, gotMore, more)
					}
					rec = rec[:len(rec)-more]
					for k := range rec {
						rec[k] = clipField(rec[k], maxFieldBytes)
					}
					capped = append(capped, rec)
				}
				if !reflect.DeepEqual(got, capped) {
					t.Errorf("%s sheet %q, %d rows:\n got  %q\n want %q", file, sheets[i], rows, got, capped)
				}
			}
		}
	}
}

// writeXLSX writes a minimal workbook with the given sheets (sheetN.xml
// parts, which extra must hold) and extra parts, whose writers stream big
// ones.
func writeXLSX(t testing.TB, p string, sheets []string, extra map[string]string, big ...bigPart) {
	t.Helper()
	out, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	zw := zip.NewWriter(out)
	put := func(name string, fill func(io.Writer) error) {
		w, err := zw.Create(name)
		if err == nil {
			err = fill(w)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	text := func(s string) func(io.Writer) error {
		return func(w io.Writer) error { _, err := io.WriteString(w, s); return err }
	}
	var wb, rels strings.Builder
	wb.WriteString(`<workbook xmlns="` + nsMain + `" xmlns:r="` + nsRel + `"><sheets>`)
	rels.WriteString(`<Relationships xmlns="` + nsPkg + `">`)
	for i, s := range sheets {
		fmt.Fprintf(&wb, `<sheet name="%s" sheetId="%d" r:id="rId%[2]d"/>`, s, i+1)
		fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="%s/worksheet" Target="worksheets/sheet%[1]d.xml"/>`, i+1, nsRel)
	}
	wb.WriteString(`</sheets></workbook>`)
	rels.WriteString(`</Relationships>`)
	put("[Content_Types].xml", text(`<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>`))
	put("_rels/.rels", text(`<Relationships xmlns="`+nsPkg+`"><Relationship Id="rId1" Type="`+nsRel+`/officeDocument" Target="xl/workbook.xml"/></Relationships>`))
	if _, ok := extra["xl/workbook.xml"]; !ok {
		put("xl/workbook.xml", text(wb.String()))
		put("xl/_rels/workbook.xml.rels", text(rels.String()))
	}
	for _, name := range slices.Sorted(maps.Keys(extra)) {
		put(name, text(extra[name]))
	}
	for _, b := range big {
		put(b.name, b.write)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}

// bigPart is a workbook part written as a stream.
type bigPart struct {
	name  string
	write func(io.Writer) error
}

// repeat streams head, then body over and over up to size bytes, then tail.
func repeat(head, body, tail string, size int) func(io.Writer) error {
	return func(w io.Writer) error {
		block := []byte(strings.Repeat(body, max(1, 64<<10/len(body))))
		if _, err := io.WriteString(w, head); err != nil {
			return err
		}
		for n := 0; n < size; n += len(block) {
			if _, err := w.Write(block); err != nil {
				return err
			}
		}
		_, err := io.WriteString(w, tail)
		return err
	}
}
