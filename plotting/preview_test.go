package plotting

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"

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
	if _, err := ReadCSV(strings.NewReader("caf\xe9,x\n"), 2); err == nil {
		t.Fatal("Latin-1 bytes were read as UTF-8")
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
