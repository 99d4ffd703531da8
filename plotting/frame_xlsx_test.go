package plotting

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
)

// salesBook writes a workbook of two sheets: Sales (dates with a date
// style, text, numbers, booleans, datetimes, a text cell holding a number,
// a column of numbers and text) and Notes.
func salesBook(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "book.xlsx")
	f := excelize.NewFile()
	f.SetSheetName("Sheet1", "Sales")
	day := time.Date(2024, 1, 31, 0, 0, 0, 0, time.UTC)
	f.SetSheetRow("Sales", "A1", &[]any{"date", "region", "amount", "ok", "when", "code", "mixed"})
	f.SetSheetRow("Sales", "A2", &[]any{day, "North", 10, true, day.Add(90 * time.Minute), "12", 1})
	f.SetSheetRow("Sales", "A3", &[]any{day.AddDate(0, 1, 0), "South", 2.5, false, day.Add(25 * time.Hour), "13", "x"})
	f.SetSheetRow("Sales", "A5", &[]any{day.AddDate(0, 2, 0), "North", nil, true, nil, nil, 3}) // row 4 blank: skipped
	dateStyle, _ := f.NewStyle(&excelize.Style{NumFmt: 14})
	datetimeStyle, _ := f.NewStyle(&excelize.Style{NumFmt: 22})
	f.SetCellStyle("Sales", "A2", "A5", dateStyle)
	f.SetCellStyle("Sales", "E2", "E5", datetimeStyle)
	f.NewSheet("Notes")
	f.SetSheetRow("Notes", "A1", &[]any{"id", "note"})
	f.SetSheetRow("Notes", "A2", &[]any{1, "first & <only>"})
	f.NewSheet("Numbers")
	f.SetSheetRow("Numbers", "A1", &[]any{1, 2.5})
	f.SetSheetRow("Numbers", "A2", &[]any{3, 4})
	f.NewSheet("Empty")
	if err := f.SaveAs(p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadXLSXFrame(t *testing.T) {
	p := salesBook(t)
	fr, err := ReadFile(p, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []col{
		{"date", TypeDate, []string{"2024-01-31", "2024-03-02", "2024-03-31"}},
		{"region", TypeText, []string{"North", "South", "North"}},
		{"amount", TypeFloat, []string{"10", "2.5", ""}},
		{"ok", TypeBool, []string{"true", "false", "true"}},
		{"when", TypeDatetime, []string{"2024-01-31 01:30:00", "2024-02-01 01:00:00", ""}},
		{"code", TypeInt, []string{"12", "13", ""}},
		{"mixed", TypeText, []string{"1", "x", "3"}},
	}
	var got []col
	for _, c := range fr.Columns {
		got = append(got, col{c.Name, c.Type, cells(c)})
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Sales:\n got  %+v\n want %+v", got, want)
	}
	if fr.Source != (Source{File: "book.xlsx", Sheet: "Sales", Decimal: "."}) || len(fr.Warnings) != 0 {
		t.Fatalf("source %+v, warnings %q", fr.Source, fr.Warnings)
	}
	if tm, ok := fr.Columns[0].Time(1); !ok || !tm.Equal(time.Date(2024, 3, 2, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("Time = %v %v", tm, ok)
	}

	notes, err := ReadFile(p, ReadOptions{Sheet: "Notes"})
	if err != nil || notes.Source.Sheet != "Notes" || notes.Columns[1].Text(0) != "first & <only>" || notes.Columns[0].Type != TypeInt {
		t.Fatalf("Notes: %v %+v", err, notes)
	}
	nums, err := ReadFile(p, ReadOptions{Sheet: "Numbers"})
	if err != nil || !reflect.DeepEqual(nums.Names(), []string{"column_1", "column_2"}) || nums.Len() != 2 || nums.Columns[1].Type != TypeFloat {
		t.Fatalf("Numbers: %v %v", err, nums)
	}
	if _, err := ReadFile(p, ReadOptions{Sheet: "Nope"}); err == nil || err.Error() != `no sheet "Nope" in book.xlsx; the sheets are Sales, Notes, Numbers, Empty` {
		t.Fatalf("missing sheet: %v", err)
	}
	if _, err := ReadFile(p, ReadOptions{Sheet: "Empty"}); err == nil || err.Error() != `sheet "Empty" of book.xlsx is empty: the sheet is empty` {
		t.Fatalf("empty sheet: %v", err)
	}
	sheets, err := Sheets(p)
	if err != nil || !reflect.DeepEqual(sheets, []string{"Sales", "Notes", "Numbers", "Empty"}) {
		t.Fatalf("Sheets = %q, %v", sheets, err)
	}
}

// writeZip writes a zip of the parts given, name then body.
func writeZip(t *testing.T, p string, parts ...string) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for i := 0; i < len(parts); i += 2 {
		w, err := zw.Create(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(parts[i+1]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

const (
	bookRels = `<Relationships xmlns="` + nsPkg + `"><Relationship Id="rId1" Type="` + nsRel + `/officeDocument" Target="xl/workbook.xml"/></Relationships>`
	bookXML  = `<workbook xmlns="` + nsMain + `" xmlns:r="` + nsRel + `"><workbookPr date1904="1"/><sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>`
	bookXRel = `<Relationships xmlns="` + nsPkg + `"><Relationship Id="rId1" Type="` + nsRel + `/worksheet" Target="worksheets/sheet1.xml"/>` +
		`<Relationship Id="rId2" Type="` + nsRel + `/sharedStrings" Target="sharedStrings.xml"/><Relationship Id="rId3" Type="` + nsRel + `/styles" Target="styles.xml"/></Relationships>`
)

// A hand-written workbook: inline strings, rich text with phonetic runs,
// error cells, ISO date cells, a 1904 date system, a custom date format,
// a time format, cells past the header and out of order.
func TestReadXLSXFrameCells(t *testing.T) {
	p := filepath.Join(t.TempDir(), "hand.xlsx")
	sheet := `<worksheet xmlns="` + nsMain + `"><sheetData>` +
		`<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="inlineStr"><is><t>score</t></is></c><c r="C1" t="s"><v>1</v></c><c r="D1" t="str"><v>clock</v></c><c r="E1" t="s"><v>2</v></c></row>` +
		`<row r="2"><c r="A2" s="1"><v>0</v></c><c r="B2" t="e"><v>#DIV/0!</v></c><c r="C2" t="d"><v>2024-03-01</v></c><c r="D2" s="2"><v>0.5</v></c><c r="E2"><v>7</v></c><c r="G2"><v>9</v></c></row>` +
		`<row r="3"><c r="A3" s="1"><v>366</v></c><c r="B3"><v>1.25</v></c><c r="C3" t="d"><v>2024-03-02T10:00:00Z</v></c><c r="D3" s="2"><v>0.75</v></c></row>` +
		`</sheetData></worksheet>`
	sst := `<sst xmlns="` + nsMain + `"><si><t>day</t></si><si><r><t>wh</t></r><r><t>en</t></r><rPh><t>ignored</t></rPh></si><si><t>rest</t></si></sst>`
	styles := `<styleSheet xmlns="` + nsMain + `"><numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy\-mm\-dd;@"/></numFmts>` +
		`<cellXfs count="3"><xf numFmtId="0"/><xf numFmtId="164"/><xf numFmtId="21"/></cellXfs></styleSheet>`
	writeZip(t, p, "_rels/.rels", bookRels, "xl/workbook.xml", bookXML, "xl/_rels/workbook.xml.rels", bookXRel,
		"xl/worksheets/sheet1.xml", sheet, "xl/sharedStrings.xml", sst, "xl/styles.xml", styles)
	fr, err := ReadFile(p, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := []col{
		{"day", TypeDate, []string{"1904-01-01", "1905-01-01"}},
		{"score", TypeFloat, []string{"", "1.25"}},
		{"when", TypeDatetime, []string{"2024-03-01 00:00:00", "2024-03-02 10:00:00"}},
		{"clock", TypeText, []string{"12:00:00", "18:00:00"}},
		{"rest", TypeInt, []string{"7", ""}},
	}
	var got []col
	for _, c := range fr.Columns {
		got = append(got, col{c.Name, c.Type, cells(c)})
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("\n got  %+v\n want %+v", got, want)
	}
	if len(fr.Warnings) != 1 || fr.Warnings[0] != "1 row has cells past the header's 5 columns (the first is row 1); they are left out" {
		t.Fatalf("warnings %q", fr.Warnings)
	}
}

func TestReadXLSXFrameBad(t *testing.T) {
	dir := t.TempDir()
	at := func(name string) string { return filepath.Join(dir, name) }
	os.WriteFile(at("empty.xlsx"), nil, 0o600)
	os.WriteFile(at("text.xlsx"), []byte("a,b\n1,2\n"), 0o600)
	writeZip(t, at("notbook.xlsx"), "hello.txt", "hi")
	// A sheet that says it unpacks to a terabyte.
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, part := range [][2]string{{"_rels/.rels", bookRels}, {"xl/workbook.xml", bookXML}, {"xl/_rels/workbook.xml.rels", bookXRel}} {
		w, _ := zw.Create(part[0])
		w.Write([]byte(part[1]))
	}
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "xl/worksheets/sheet1.xml", Method: zip.Deflate, CompressedSize64: 4, UncompressedSize64: 1 << 40})
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte{1, 2, 3, 4})
	zw.Close()
	os.WriteFile(at("bomb.xlsx"), buf.Bytes(), 0o600)
	cases := []struct{ name, want string }{
		{"empty.xlsx", "the file is empty"},
		{"text.xlsx", "text.xlsx is not an Excel workbook: zip: not a valid zip file"},
		{"notbook.xlsx", "notbook.xlsx is not an Excel workbook: it has no sheets"},
		{"bomb.xlsx", "bomb.xlsx looks like a zip bomb: sheet \"Data\" unpacks from 4 B to 1099.5 GB"},
	}
	for _, c := range cases {
		_, err := ReadFile(at(c.name), ReadOptions{})
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	if _, err := Sheets(at("notbook.xlsx")); err == nil || !strings.Contains(err.Error(), "has no sheets") {
		t.Errorf("Sheets on a zip: %v", err)
	}
}

func TestFmtClass(t *testing.T) {
	cases := []struct {
		id   int
		code string
		want uint8
	}{
		{0, "", fmtNumber}, {2, "", fmtNumber}, {14, "", fmtDate}, {22, "", fmtDatetime}, {21, "", fmtTime},
		{164, "yyyy-mm-dd", fmtDate}, {164, `dd/mm/yyyy\ hh:mm`, fmtDatetime}, {164, "h:mm AM/PM", fmtTime},
		{164, `0.0 "kg"`, fmtNumber}, {164, `#,##0.00 "days"`, fmtNumber}, {164, "[h]:mm", fmtNumber},
		{164, "[$-409]mmmm d, yyyy", fmtDate}, {164, "[Red]0.00", fmtNumber}, {164, "0%", fmtNumber},
	}
	for _, c := range cases {
		if got := fmtClass(c.id, c.code); got != c.want {
			t.Errorf("fmtClass(%d, %q) = %d, want %d", c.id, c.code, got, c.want)
		}
	}
}
