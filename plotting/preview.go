// Package plotting reads tables (CSV and XLSX) natively, without Python:
// the previews the engine shows the model and the window shows the
// analyst. Native charts with gonum/plot will join it.
//
// XLSX files are read with github.com/xuri/excelize/v2, the maintained,
// pure-Go reader and writer of Office Open XML spreadsheets.
package plotting

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// FormatSize writes a byte count for people: 512 B, 2.5 KB, 13 MB.
func FormatSize(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1000*1000:
		return fmt.Sprintf("%.1f KB", float64(n)/1e3)
	case n < 1000*1000*1000:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.1f GB", float64(n)/1e9)
}

// KindOf names a file's type from its extension.
func KindOf(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".csv":
		return "CSV table"
	case ".tsv":
		return "TSV table"
	case ".xlsx", ".xlsm":
		return "Excel workbook"
	case ".xls":
		return "old Excel workbook"
	case ".json":
		return "JSON"
	case ".parquet":
		return "Parquet table"
	case ".png", ".jpg", ".jpeg", ".gif":
		return "image"
	case ".txt", ".md":
		return "text"
	case ".pdf":
		return "PDF"
	case ".zip", ".tar":
		return "archive"
	case ".py":
		return "Python source"
	}
	return "file"
}

// PreviewFile describes a table file: its columns and first rows. Other
// files give "".
func PreviewFile(p string, rows int) (string, error) {
	switch strings.ToLower(path.Ext(p)) {
	case ".csv", ".tsv", ".txt":
		f, err := os.Open(p)
		if err != nil {
			return "", err
		}
		defer f.Close()
		return PreviewCSV(f, rows)
	case ".xlsx", ".xlsm":
		return PreviewXLSX(p, rows)
	}
	return "", nil
}

// Table is the head of a table.
type Table struct {
	Columns []string
	Rows    [][]string
}

// ReadCSV reads the header and up to rows rows of a CSV (or TSV, or
// semicolon-separated) text, guessing the separator from the first line.
func ReadCSV(r io.Reader, rows int) (*Table, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, _ := br.Peek(64 << 10)
	if !utf8.Valid(bytes.TrimRight(head[:lastRuneStart(head)], "\x00")) {
		return nil, fmt.Errorf("not UTF-8 text")
	}
	first := head
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		first = head[:i]
	}
	sep := ','
	best := bytes.Count(first, []byte(","))
	for _, c := range []rune{';', '\t', '|'} {
		if n := bytes.Count(first, []byte(string(c))); n > best {
			sep, best = c, n
		}
	}
	cr := csv.NewReader(br)
	cr.Comma = sep
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	t := &Table{}
	for i := 0; i <= rows; i++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if i == 0 {
			t.Columns = append([]string{}, rec...)
			t.Columns[0] = strings.TrimPrefix(t.Columns[0], "\ufeff")
			continue
		}
		t.Rows = append(t.Rows, append([]string{}, rec...))
	}
	return t, nil
}

func lastRuneStart(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if utf8.FullRune(b[i:]) {
				return len(b)
			}
			return i
		}
	}
	return len(b)
}

// PreviewCSV describes a CSV text's columns and first rows.
func PreviewCSV(r io.Reader, rows int) (string, error) {
	t, err := ReadCSV(r, rows)
	if err != nil {
		return "", err
	}
	return t.String(), nil
}

// String writes the table as "columns: …" and one line per row.
func (t *Table) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "columns (%d): %s\n", len(t.Columns), strings.Join(clip(t.Columns), ", "))
	for _, r := range t.Rows {
		fmt.Fprintf(&b, "  %s\n", strings.Join(clip(r), " | "))
	}
	return b.String()
}

// clip shortens long cells and long rows for a preview.
func clip(cells []string) []string {
	out := make([]string, 0, min(len(cells), 30))
	for i, c := range cells {
		if i == 30 {
			out = append(out, fmt.Sprintf("… %d more", len(cells)-30))
			break
		}
		if utf8.RuneCountInString(c) > 40 {
			c = string([]rune(c)[:40]) + "…"
		}
		out = append(out, c)
	}
	return out
}

// ReadXLSX reads the sheet names of a workbook and the head of each sheet
// (at most 5 sheets).
func ReadXLSX(p string, rows int) ([]string, []*Table, error) {
	f, err := excelize.OpenFile(p)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	sheets := f.GetSheetList()
	var tables []*Table
	for i, s := range sheets {
		if i == 5 {
			break
		}
		it, err := f.Rows(s)
		if err != nil {
			return nil, nil, err
		}
		t := &Table{}
		for n := 0; n <= rows && it.Next(); n++ {
			rec, err := it.Columns()
			if err != nil {
				break
			}
			if n == 0 {
				t.Columns = rec
			} else {
				t.Rows = append(t.Rows, rec)
			}
		}
		it.Close()
		tables = append(tables, t)
	}
	return sheets, tables, nil
}

// PreviewXLSX describes a workbook: its sheets, and each one's columns and
// first rows.
func PreviewXLSX(p string, rows int) (string, error) {
	sheets, tables, err := ReadXLSX(p, rows)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "sheets: %s\n", strings.Join(sheets, ", "))
	for i, t := range tables {
		fmt.Fprintf(&b, "sheet %q ", sheets[i])
		b.WriteString(t.String())
	}
	return b.String(), nil
}
