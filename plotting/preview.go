// Package plotting reads tables (CSV and XLSX) natively, without Python:
// the previews the engine shows the model and the window shows the
// analyst. Native charts with gonum/plot will join it.
//
// The files previewed are written by code the model runs, so a preview
// reads a capped prefix of each: whatever a file holds, a preview's time
// and memory stay small, it writes no temporary file, and a file too big to
// preview says so instead.
//
// XLSX values are formatted with github.com/xuri/excelize/v2, the
// maintained, pure-Go reader and writer of Office Open XML spreadsheets.
package plotting

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/transform"
)

// Caps on what a preview keeps and reads.
const (
	maxPreviewRows    = 200 // rows kept, whatever a caller asks
	maxPreviewColumns = 50  // cells kept a row
	maxFieldBytes     = 200 // bytes kept a cell
	maxPreviewSheets  = 5   // sheets of a workbook previewed
	maxSheetNames     = 1000
	maxNumFmts        = 1000 // number formats kept

	maxCSVBytes      = 1 << 20  // bytes of a text table read
	maxWorkbookBytes = 50 << 20 // workbook files larger are not opened
	maxZipDirectory  = 1 << 20  // bytes of a workbook's zip directory read
	maxListXML       = 4 << 20  // bytes of the sheet list and its relationships
	maxSheetXML      = 4 << 20  // bytes of a sheet's XML read, unpacked
	maxScanXML       = 16 << 20 // bytes of shared strings and styles read, unpacked
	maxPackage       = 32 << 20 // the workbook excelize formats (see readWorkbook)
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

// SkippedError says a file is too big to preview within a preview's caps.
// PreviewOpen and PreviewFile give its text as the preview.
type SkippedError struct{ Reason string }

func (e *SkippedError) Error() string { return "preview skipped: " + e.Reason }

// PreviewFile describes the table file at p: its columns and first rows.
// Other files give "". It opens p without following a symbolic link or
// blocking on a FIFO, and refuses anything but a regular file.
func PreviewFile(p string, rows int) (string, error) {
	if !IsTable(p) {
		return "", nil
	}
	f, err := openRegular(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return PreviewOpen(f, p, rows)
}

// PreviewOpen describes the open regular file f, a table file if its name
// says so: its columns and first rows. Other files give "". It reads f only
// through ReadAt, from offset 0 up to the size fstat gives, and neither
// moves nor closes f. A file too big to preview gives "preview skipped: …".
func PreviewOpen(f *os.File, name string, rows int) (string, error) {
	if !IsTable(name) {
		return "", nil
	}
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", name)
	}
	var s string
	if IsWorkbook(name) {
		s, err = previewWorkbook(f, fi.Size(), rows)
	} else {
		var t *Table
		if t, err = ReadCSV(io.NewSectionReader(f, 0, fi.Size()), rows); err == nil {
			if t.MoreColumns == 0 && len(t.Rows) > 0 {
				// A table of some rows and at most 50 columns: what a
				// hostile file can make the type reader hold stays small.
				t.Types = sampleTypes(f, fi.Size(), name, len(t.Columns))
			}
			s = t.String()
		}
	}
	if se := (*SkippedError)(nil); errors.As(err, &se) {
		return se.Error() + "\n", nil
	}
	return s, err
}

// IsTable says whether a file named name is a table Plotline reads: a
// text table (.csv, .tsv, .txt) or a workbook (.xlsx, .xlsm).
func IsTable(name string) bool {
	switch strings.ToLower(path.Ext(name)) {
	case ".csv", ".tsv", ".txt", ".xlsx", ".xlsm":
		return true
	}
	return false
}

// IsWorkbook says whether a file named name is an Excel workbook Plotline
// reads (.xlsx, .xlsm).
func IsWorkbook(name string) bool {
	ext := strings.ToLower(path.Ext(name))
	return ext == ".xlsx" || ext == ".xlsm"
}

// typeSampleBytes is how much of a text table a preview reads to tell its
// columns' types.
const typeSampleBytes = 1 << 20

// sampleTypes names the types of a text table's columns, as the Frame
// reader infers them from the first MiB: or nil when it reads otherwise
// than the preview (another count of columns) or not at all.
func sampleTypes(r io.ReaderAt, size int64, name string, columns int) []string {
	fr, err := ReadCSVFrame(r, size, name, ReadOptions{MaxBytes: typeSampleBytes})
	if err != nil || len(fr.Columns) != columns {
		return nil
	}
	types := make([]string, columns)
	for i, c := range fr.Columns {
		types[i] = c.Type.String()
	}
	return types
}

// checkRegular returns f if it is a regular file, and closes it if not.
func checkRegular(f *os.File) (*os.File, error) {
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = fmt.Errorf("%s is not a regular file", f.Name())
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// Table is the head of a table, as a preview keeps it: at most 50 cells a
// row, each at most 200 bytes (a longer one ends in "…").
type Table struct {
	Columns []string
	Rows    [][]string
	// MoreColumns counts the header's cells past Columns.
	MoreColumns int
	// MoreCells counts each row's cells past those kept, or is nil when no
	// row lost any.
	MoreCells []int
	// Stopped says why the preview ended before the table or its row cap,
	// or is "".
	Stopped string

	// Encoding names the encoding a text table was read in (EncodingUTF8,
	// EncodingUTF16LE, …); it is "" for a workbook's sheet.
	Encoding string
	// Separator is the field separator a text table was read with (',',
	// ';', '\t' or '|'), or 0 for a workbook's sheet.
	Separator byte
	// DecimalComma says the numbers the preview holds are written with a
	// decimal comma (1,5 or 1.234,5).
	DecimalComma bool
	// Warnings says what the preview found wrong with the text (rows of the
	// wrong length, quotes that do not balance), a line each, at most 5;
	// MoreWarnings counts those left out.
	Warnings     []string
	MoreWarnings int
	// Types names each column's type (int, float, bool, date, datetime,
	// text) as the Frame reader infers it from the table's head, or is nil.
	Types []string

	python string // the codec pandas reads the text with, or "" for its default
}

const maxWarnings = 5

func (t *Table) warn(format string, args ...any) {
	if len(t.Warnings) == maxWarnings {
		t.MoreWarnings++
		return
	}
	t.Warnings = append(t.Warnings, fmt.Sprintf(format, args...))
}

func (t *Table) addRow(cells []string, more int) {
	if more > 0 && t.MoreCells == nil {
		t.MoreCells = make([]int, len(t.Rows), len(t.Rows)+1)
	}
	t.Rows = append(t.Rows, cells)
	if t.MoreCells != nil {
		t.MoreCells = append(t.MoreCells, more)
	}
}

func (t *Table) stop(why string) {
	if t.Stopped != "" {
		why = t.Stopped + "; " + why
	}
	t.Stopped = why
}

// String writes the table as "columns: …" and one line per row. A text
// table pandas would not read right with its defaults starts with the
// options it needs ("read_csv: encoding='utf-16', sep=';'"), and what the
// preview found wrong ends it.
func (t *Table) String() string {
	var b strings.Builder
	if opts := t.ReadOptions(); opts != "" {
		fmt.Fprintf(&b, "read_csv: %s\n", opts)
	}
	names := t.Columns
	if len(t.Types) == len(names) {
		names = make([]string, len(t.Columns))
		for i, c := range t.Columns {
			names[i] = c + " (" + t.Types[i] + ")"
		}
	}
	fmt.Fprintf(&b, "columns (%d): %s\n", len(t.Columns)+t.MoreColumns, strings.Join(clip(names, t.MoreColumns), ", "))
	for i, r := range t.Rows {
		more := 0
		if i < len(t.MoreCells) {
			more = t.MoreCells[i]
		}
		fmt.Fprintf(&b, "  %s\n", strings.Join(clip(r, more), " | "))
	}
	if t.Stopped != "" {
		fmt.Fprintf(&b, "  … %s\n", t.Stopped)
	}
	for _, w := range t.Warnings {
		fmt.Fprintf(&b, "  warning: %s\n", w)
	}
	if t.MoreWarnings > 0 {
		fmt.Fprintf(&b, "  warning: … and %d more\n", t.MoreWarnings)
	}
	return b.String()
}

// ReadOptions gives the arguments pandas.read_csv needs, past the file, to
// read a text table as the preview read it ("encoding='cp1252', sep=';',
// decimal=','"), or "" when its defaults do.
func (t *Table) ReadOptions() string {
	var opts []string
	if t.python != "" {
		opts = append(opts, "encoding='"+t.python+"'")
	}
	switch t.Separator {
	case 0, ',':
	case '\t':
		opts = append(opts, `sep='\t'`)
	default:
		opts = append(opts, "sep='"+string(t.Separator)+"'")
	}
	if t.DecimalComma {
		opts = append(opts, "decimal=','")
	}
	return strings.Join(opts, ", ")
}

// clip shortens long cells and long rows for a preview; more counts cells
// past the ones given.
func clip(cells []string, more int) []string {
	out := make([]string, 0, min(len(cells), 31))
	for i, c := range cells {
		if i == 30 {
			break
		}
		if utf8.RuneCountInString(c) > 40 {
			c = string([]rune(c)[:40]) + "…"
		}
		out = append(out, c)
	}
	if n := len(cells) + more; n > 30 {
		out = append(out, fmt.Sprintf("… %d more", n-30))
	}
	return out
}

// clipField keeps at most n bytes of s, cut at a rune's start, and marks a
// cut with "…".
func clipField(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func rowCap(rows int) int { return min(max(rows, 0), maxPreviewRows) }

// errCut is what the readers below give at a preview's byte cap when the
// input goes on.
var errCut = errors.New("preview read cap reached")

// capReader reads at most n bytes from r, then gives errCut if r has more
// and io.EOF if not.
type capReader struct {
	r   io.Reader
	n   int64
	cut bool
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.cut {
		return 0, errCut // for good: bufio hands an error on once, then reads again
	}
	if c.n <= 0 {
		var one [1]byte
		if n, _ := io.ReadFull(c.r, one[:]); n > 0 {
			c.cut = true
			return 0, errCut
		}
		return 0, io.EOF
	}
	if int64(len(p)) > c.n {
		p = p[:c.n]
	}
	n, err := c.r.Read(p)
	c.n -= int64(n)
	return n, err
}

// ReadCSV reads the header and up to rows rows (at most 200) of a CSV (or
// TSV, or semicolon-separated) text, guessing the separator from the first
// line. It reads the text in its encoding (UTF-8 with or without a byte
// order mark, UTF-16, or else Windows-1252 or Latin-1), which Encoding
// names. It reads at most 1 MiB of r; a table that goes on says so in
// Stopped. Rows of the wrong length and quotes that do not balance are
// read as well as they can be, and said in Warnings.
func ReadCSV(r io.Reader, rows int) (*Table, error) {
	rows = rowCap(rows)
	raw := bufio.NewReaderSize(&capReader{r: r, n: maxCSVBytes}, 64<<10)
	head, err := raw.Peek(64 << 10)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull && !errors.Is(err, errCut) {
		return nil, err
	}
	enc, err := detectEncoding(head)
	if err != nil {
		return nil, err
	}
	raw.Discard(enc.bom)
	br := raw
	if enc.dec != nil {
		// The cap counts the bytes of the file: 1 MiB of UTF-16 is at most
		// 1.5 MiB of UTF-8.
		br = bufio.NewReaderSize(transform.NewReader(raw, enc.dec.NewDecoder()), 64<<10)
	}
	head, _ = br.Peek(64 << 10) // an error shows again on the first read
	first := head
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		first = head[:i]
	}
	sep := byte(',')
	best := bytes.Count(first, []byte(","))
	for _, c := range []byte{';', '\t', '|'} {
		if n := bytes.Count(first, []byte{c}); n > best {
			sep, best = c, n
		}
	}
	s := &csvScanner{r: br, comma: sep, valid: enc.dec != nil}
	t := &Table{Encoding: enc.name, Separator: sep, python: enc.python}
	width := 0 // the header's fields
	for i := 0; i <= rows; i++ {
		rec, more, err := s.record()
		if err == io.EOF {
			break
		}
		cut := errors.Is(err, errCut)
		if err != nil && !cut {
			return nil, err
		}
		if cut {
			t.stop("preview stops after the first " + FormatSize(maxCSVBytes))
			if i > 0 || len(rec) == 0 {
				break // a row cut short is left out; a header cut short is all there is
			}
		}
		if i == 0 {
			t.Columns, t.MoreColumns = rec, more
			t.Columns[0] = strings.TrimPrefix(t.Columns[0], "\ufeff")
			width = len(rec) + more
		} else {
			t.addRow(rec, more)
			if n := len(rec) + more; n != width {
				t.warn("Line %d has %d %s, the header has %d", s.start, n, plural(n, "field"), width)
			}
		}
		switch {
		case s.unclosed:
			t.warn("Line %d: a quote never closes", s.start)
		case s.stray > 0:
			t.warn("Line %d: a stray quote in a quoted field", s.stray)
		}
		if cut {
			break
		}
	}
	t.DecimalComma = sep != ',' && decimalComma(t)
	return t, nil
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// decimalComma tells whether a column of the preview holds numbers with a
// decimal comma (1,5 or 1.234,56), and none with a decimal point.
func decimalComma(t *Table) bool {
	for col := range t.Columns {
		comma, ok := false, true
		for _, r := range t.Rows {
			if col >= len(r) {
				continue
			}
			c, p, num := numberStyle(r[col])
			if !num || p {
				ok = false
				break
			}
			comma = comma || c
		}
		if ok && comma {
			return true
		}
	}
	return false
}

// numberStyle reads s as a number: whether it has a decimal comma, whether
// it has a decimal point, and whether it is a number at all. A blank is a
// number with neither; "1,234" and "1.234", which could be either one, are
// numbers with neither.
func numberStyle(s string) (comma, point, num bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return false, false, true
	}
	s = strings.TrimLeft(s, "+-")
	s = spaceGroups.Replace(s) // 1 234,5 is 1234,5
	digits := func(s string) bool {
		if s == "" {
			return false
		}
		for i := 0; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				return false
			}
		}
		return true
	}
	// grouped is "1.234.567": digits in groups of three after the first.
	grouped := func(s string) bool {
		parts := strings.Split(s, ".")
		for i, p := range parts {
			if !digits(p) || i > 0 && len(p) != 3 || i == 0 && len(p) > 3 {
				return false
			}
		}
		return len(parts) > 1
	}
	whole, frac, hasComma := strings.Cut(s, ",")
	if hasComma {
		if !digits(frac) || !digits(whole) && !grouped(whole) {
			return false, false, false
		}
		return len(frac) != 3 || grouped(whole), false, true
	}
	if digits(s) || grouped(s) {
		return false, false, true
	}
	whole, frac, _ = strings.Cut(s, ".")
	if digits(whole) && digits(frac) {
		return false, true, true
	}
	return false, false, false
}

// spaceGroups drops the spaces that group digits: space, no-break, thin
// and narrow no-break.
var spaceGroups = strings.NewReplacer(" ", "", "\u00a0", "", "\u2009", "", "\u202f", "")

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

// csvScanner reads records as encoding/csv does with LazyQuotes and
// FieldsPerRecord -1, but keeps only a preview's share of each: a line of a
// million fields costs no more than one of fifty.
type csvScanner struct {
	r     *bufio.Reader
	comma byte
	field []byte
	valid bool // the text is valid UTF-8 (a decoder wrote it)
	line  int  // lines read
	// Of the last record: the line it starts on, whether its last quoted
	// field runs to the end of the text, and the line of the first quote
	// inside a quoted field that does not end it (0 if none).
	start    int
	unclosed bool
	stray    int
}

// next gives the next byte with "\r\n" read as "\n" and a "\r" ending the
// input dropped, as encoding/csv reads lines.
func (s *csvScanner) next() (byte, error) {
	c, err := s.r.ReadByte()
	if err != nil || c != '\r' {
		if c == '\n' && err == nil {
			s.line++
		}
		return c, err
	}
	d, err := s.r.ReadByte()
	switch {
	case err == io.EOF:
		return 0, io.EOF
	case err != nil:
		return '\r', nil // the cap or a read error shows on the next byte
	case d == '\n':
		s.line++
		return '\n', nil
	}
	s.r.UnreadByte()
	return '\r', nil
}

func (s *csvScanner) add(c byte) {
	if len(s.field) <= maxFieldBytes {
		s.field = append(s.field, c)
	}
}

// record reads the next record: its first 50 fields and the count of the
// rest. It gives io.EOF at the end of the input, and errCut with the part
// read when the cap cuts the record short.
func (s *csvScanner) record() (rec []string, more int, err error) {
	c, err := s.next()
	for err == nil && c == '\n' {
		c, err = s.next() // empty lines are skipped
	}
	if err != nil {
		return nil, 0, err
	}
	s.start, s.unclosed, s.stray = s.line+1, false, 0
	n := 0
	for {
		s.field = s.field[:0]
		end := false
		switch {
		case err != nil:
			end = true // the input ends after a separator: an empty last field
		case c == '"':
			for {
				if c, err = s.next(); err != nil {
					s.unclosed = err == io.EOF
					end = true
					break
				}
				if c != '"' {
					s.add(c)
					continue
				}
				if c, err = s.next(); err != nil {
					end = true
					break
				}
				if c == '"' {
					s.add('"')
					continue
				}
				if c == s.comma {
					break
				}
				if c == '\n' {
					end = true
					break
				}
				s.add('"') // a bare quote in a quoted field is kept, as LazyQuotes does
				s.add(c)
				if s.stray == 0 {
					s.stray = s.line + 1
				}
			}
		default:
			for c != s.comma {
				if c == '\n' {
					end = true
					break
				}
				s.add(c)
				if c, err = s.next(); err != nil {
					end = true
					break
				}
			}
		}
		if n < maxPreviewColumns {
			f := clipField(string(s.field), maxFieldBytes)
			if !s.valid && !utf8.ValidString(f) {
				f = strings.ToValidUTF8(f, "\uFFFD") // past the bytes the encoding was told from
			}
			rec = append(rec, f)
		}
		n++
		if end {
			break
		}
		c, err = s.next()
	}
	if err == io.EOF {
		err = nil
	}
	if err != nil && !errors.Is(err, errCut) {
		return nil, 0, err
	}
	return rec, n - len(rec), err
}

// PreviewCSV describes a CSV text's columns and first rows.
func PreviewCSV(r io.Reader, rows int) (string, error) {
	t, err := ReadCSV(r, rows)
	if err != nil {
		return "", err
	}
	return t.String(), nil
}

// ReadXLSX reads the sheet names of the workbook at p (at most 1000) and
// the head of each of its first 5 sheets. It opens p as PreviewFile does.
func ReadXLSX(p string, rows int) ([]string, []*Table, error) {
	f, err := openRegular(p)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	return ReadXLSXFrom(f, fi.Size(), rows)
}

// ReadXLSXFrom is ReadXLSX for the size bytes of a workbook read from r. A
// workbook over 50 MiB, or whose sheet list is too big, gives a
// *SkippedError.
func ReadXLSXFrom(r io.ReaderAt, size int64, rows int) ([]string, []*Table, error) {
	wb, err := readWorkbook(r, size, rows)
	if err != nil {
		return nil, nil, err
	}
	return wb.sheets, wb.tables, nil
}

// PreviewXLSX describes the workbook at p: its sheets, and each one's
// columns and first rows.
func PreviewXLSX(p string, rows int) (string, error) {
	f, err := openRegular(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	return previewWorkbook(f, fi.Size(), rows)
}

func previewWorkbook(r io.ReaderAt, size int64, rows int) (string, error) {
	wb, err := readWorkbook(r, size, rows)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "sheets: %s\n", strings.Join(clip(wb.sheets, wb.moreSheets), ", "))
	for i, t := range wb.tables {
		fmt.Fprintf(&b, "sheet %q ", clip(wb.sheets[i:i+1], 0)[0])
		b.WriteString(t.String())
	}
	return b.String(), nil
}

// A workbook is read in two steps. First a scanner that builds no tokens
// skims the parts a preview needs (the sheet list, the first sheets' first
// rows, the shared strings and number formats those rows use) up to a cap
// each. Excelize then formats the values from a small workbook written
// from what was kept. Excelize is never handed the file itself: it reads
// the whole shared strings table and styles into memory, at some 100 bytes
// for each byte, and unpacks big sheets to temporary files.

type workbook struct {
	sheets     []string
	moreSheets int
	tables     []*Table
}

const (
	nsMain = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
	nsRel  = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
	nsPkg  = "http://schemas.openxmlformats.org/package/2006/relationships"
)

func readWorkbook(r io.ReaderAt, size int64, rows int) (wb *workbook, err error) {
	if size > maxWorkbookBytes {
		return nil, &SkippedError{FormatSize(size)}
	}
	rows = rowCap(rows)
	br := &budgetReaderAt{r: r, left: maxZipDirectory + 128<<10}
	zr, err := zip.NewReader(br, size)
	if errors.Is(err, errCut) {
		return nil, &SkippedError{"its zip directory is over " + FormatSize(maxZipDirectory)}
	}
	if err != nil {
		return nil, fmt.Errorf("not a valid workbook: %v", err)
	}
	br.left = size + 1 // the directory is read; the parts have caps of their own
	pk := &pkg{files: zr.File}

	wbPath := "xl/workbook.xml"
	if err := pk.scan("_rels/.rels", 64<<10, func(s *xmlScanner) bool {
		if s.is("Relationship") && strings.HasSuffix(s.attrString("Type"), "/officeDocument") {
			wbPath = partPath("", s.attrString("Target"))
			return false
		}
		return true
	}); err != nil {
		return nil, err
	}

	type sheetRef struct{ name, id string }
	var refs []sheetRef
	date1904 := false
	wb = &workbook{}
	if err := pk.scan(wbPath, maxListXML, func(s *xmlScanner) bool {
		switch {
		case s.is("workbookPr"):
			v := s.attrString("date1904")
			date1904 = v == "1" || v == "true"
		case s.is("sheet") && s.kind != tagEnd:
			if len(wb.sheets) == maxSheetNames {
				wb.moreSheets++
				break
			}
			name := clipField(s.attrString("name"), maxFieldBytes)
			wb.sheets = append(wb.sheets, name)
			if len(refs) < maxPreviewSheets {
				refs = append(refs, sheetRef{name, s.attrString("id")})
			}
		}
		return true
	}); err != nil {
		return nil, err
	}

	relsPath := path.Join(path.Dir(wbPath), "_rels", path.Base(wbPath)+".rels")
	targets := map[string]string{}
	for _, ref := range refs {
		targets[ref.id] = ""
	}
	if err := pk.scan(relsPath, maxListXML, func(s *xmlScanner) bool {
		if s.is("Relationship") && s.kind != tagEnd {
			id := s.attrString("Id")
			if t, ok := targets[id]; ok && t == "" && s.attrString("TargetMode") != "External" {
				targets[id] = partPath(path.Dir(wbPath), s.attrString("Target"))
			}
		}
		return true
	}); err != nil {
		return nil, err
	}

	var sheets []*xSheet
	for _, ref := range refs {
		sh, err := pk.scanSheet(targets[ref.id], rows)
		if err != nil {
			return nil, err
		}
		sheets = append(sheets, sh)
	}
	strs, err := pk.sharedStrings(sheets)
	if err != nil {
		return nil, err
	}
	styles, err := pk.styles(sheets)
	if err != nil {
		return nil, err
	}
	wb.tables, err = formatSheets(sheets, strs, styles, date1904, rows)
	return wb, err
}

// budgetReaderAt reads at most left bytes, then gives errCut: zip.NewReader
// reads directory entries until one is malformed, whatever the directory's
// own header counts, and keeps a few hundred bytes for each.
type budgetReaderAt struct {
	r    io.ReaderAt
	left int64
}

func (b *budgetReaderAt) ReadAt(p []byte, off int64) (int, error) {
	short := int64(len(p)) > b.left
	if short {
		p = p[:max(b.left, 0)]
	}
	n, err := b.r.ReadAt(p, off)
	b.left -= int64(n)
	if err == nil && short {
		err = errCut
	}
	return n, err
}

// partPath resolves a relationship's target against the folder of the part
// that holds it, as excelize does.
func partPath(dir, target string) string {
	target = strings.ReplaceAll(target, `\`, "/")
	if strings.HasPrefix(target, "/") {
		return strings.TrimPrefix(path.Clean(target), "/")
	}
	return strings.TrimPrefix(path.Clean(dir+"/"+target), "/")
}

// pkg is a workbook's zip package.
type pkg struct {
	files []*zip.File
}

func (p *pkg) find(name string) *zip.File {
	if name == "" {
		return nil
	}
	var fold *zip.File
	for _, f := range p.files {
		n := strings.TrimPrefix(strings.ReplaceAll(f.Name, `\`, "/"), "/")
		if n == name {
			return f
		}
		if fold == nil && strings.EqualFold(n, name) {
			fold = f
		}
	}
	return fold
}

// scan feeds the tags of the part name to fn until fn gives false. A part
// over limit bytes is skipped; a missing part reads as empty.
func (p *pkg) scan(name string, limit int64, fn func(*xmlScanner) bool) error {
	f := p.find(name)
	if f == nil {
		return nil
	}
	if f.UncompressedSize64 > uint64(limit) {
		return &SkippedError{fmt.Sprintf("%s unpacks to %s", name, FormatSize(int64(f.UncompressedSize64)))}
	}
	_, err := p.walk(f, limit, fn)
	return err
}

// walk feeds the tags of f, unpacked, to fn until fn gives false or limit
// bytes are read; cut says the limit ended it.
func (p *pkg) walk(f *zip.File, limit int64, fn func(*xmlScanner) bool) (cut bool, err error) {
	rc, err := f.Open()
	if err != nil {
		return false, fmt.Errorf("not a valid workbook: %s: %v", f.Name, err)
	}
	defer rc.Close()
	s := newXMLScanner(&capReader{r: rc, n: limit})
	for {
		if err := s.next(); err != nil {
			if err == io.EOF {
				return false, nil
			}
			if errors.Is(err, errCut) {
				return true, nil
			}
			return false, fmt.Errorf("not a valid workbook: %s: %v", f.Name, err)
		}
		if !fn(s) {
			return false, nil
		}
	}
}

// xCell is a sheet cell as the scan keeps it.
type xCell struct {
	col         int
	t           string
	s           int
	v, is       string // kept only for cells within the column cap
	hasV, hasIS bool
	filled      bool // it holds some text
	f           bool
}

type xRow struct {
	num   int
	cells []xCell
	wide  int // the last column past the kept ones holding something
}

type xSheet struct {
	rows       []xRow
	stopped    string
	unresolved bool // a text cell's shared string was past what was read
}

// scanSheet keeps the first rows+1 rows of the sheet part name, at most 50
// cells each.
func (p *pkg) scanSheet(name string, rows int) (*xSheet, error) {
	sh := &xSheet{}
	f := p.find(name)
	if f == nil {
		return sh, nil
	}
	var (
		inData, inIS bool
		row          *xRow
		cur          xCell
		cell         *xCell // &cur inside a cell
		lastRow      int
		lastCol      int
		rph          int
	)
	endCell := func() {
		c := cur
		cell = nil
		if c.col <= maxPreviewColumns && len(row.cells) < maxPreviewColumns {
			row.cells = append(row.cells, c)
		} else if c.col > maxPreviewColumns && (c.filled || c.f) {
			row.wide = max(row.wide, c.col)
		}
	}
	cut, err := p.walk(f, maxSheetXML, func(s *xmlScanner) bool {
		switch {
		case s.is("sheetData"):
			inData = s.kind == tagStart
			return inData
		case !inData:
		case s.is("row"):
			if s.kind == tagEnd {
				if row != nil {
					sh.rows = append(sh.rows, *row)
				}
				row, cell = nil, nil
				break
			}
			num, ok := atoi(s.attr("r"))
			if !ok || num <= 0 {
				num = lastRow + 1
			}
			if num > rows+1 {
				return false
			}
			row, cell = nil, nil
			if num <= lastRow {
				break // out of order: left out
			}
			lastRow, lastCol = num, 0
			if s.kind == tagStart {
				row = &xRow{num: num}
			}
		case row == nil:
		case s.is("c"):
			if s.kind == tagEnd {
				if cell != nil {
					endCell()
				}
				break
			}
			col := colOf(s.attr("r"))
			if col == 0 {
				col = lastCol + 1
			}
			lastCol = col
			st, _ := atoi(s.attr("s"))
			cur = xCell{col: col, t: string(s.attr("t")), s: st}
			cell = &cur
			inIS, rph = false, 0
			if s.kind == tagEmpty {
				endCell()
			}
		case cell == nil:
		case s.is("v"):
			s.keepText = s.kind == tagStart
			if s.kind == tagEnd {
				cell.hasV, cell.filled = true, cell.filled || len(s.text) > 0
				if cell.col <= maxPreviewColumns {
					cell.v = clipField(s.textString(), 4*maxFieldBytes)
				}
			}
		case s.is("f"):
			cell.f = true
		case s.is("is"):
			inIS = s.kind == tagStart
			cell.hasIS = true
		case !inIS:
		case s.is("rPh"):
			rph += s.depthStep()
		case s.is("t"):
			s.keepText = s.kind == tagStart && rph == 0
			if s.kind == tagEnd && rph == 0 {
				cell.filled = cell.filled || len(s.text) > 0
				if cell.col <= maxPreviewColumns && len(cell.is) <= 4*maxFieldBytes {
					cell.is = clipField(cell.is+s.textString(), 4*maxFieldBytes)
				}
			}
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	if cut {
		if row != nil && len(sh.rows) == 0 {
			sh.rows = append(sh.rows, *row) // a first row cut short is all there is
		}
		sh.stopped = "preview stops after the first " + FormatSize(maxSheetXML) + " of the sheet's XML"
	}
	return sh, nil
}

// sharedStrings reads the shared strings the sheets' cells use, and no
// others, from the first 16 MiB of the table.
func (p *pkg) sharedStrings(sheets []*xSheet) (map[int]string, error) {
	strs := map[int]string{}
	last := -1
	for _, sh := range sheets {
		for _, r := range sh.rows {
			for _, c := range r.cells {
				if i, ok := atoi([]byte(c.v)); ok && c.t == "s" && i >= 0 {
					strs[i], last = "", max(last, i)
				}
			}
		}
	}
	f := p.find("xl/sharedStrings.xml")
	if last < 0 || f == nil {
		return nil, nil
	}
	found := make(map[int]bool, len(strs))
	var (
		i    = -1
		want bool
		rph  int
		text []byte
	)
	_, err := p.walk(f, maxScanXML, func(s *xmlScanner) bool {
		switch {
		case s.is("si"):
			if s.kind != tagEnd {
				i++
				_, want = strs[i]
				text, rph = text[:0], 0
			}
			if s.kind != tagStart && want {
				strs[i], found[i] = clipField(string(text), 4*maxFieldBytes), true
				want = false
			}
			return i < last || s.kind == tagStart
		case !want:
		case s.is("rPh"):
			rph += s.depthStep()
		case s.is("t"):
			s.keepText = s.kind == tagStart && rph == 0
			if s.kind == tagEnd && rph == 0 && len(text) <= 4*maxFieldBytes {
				text = append(text, s.text...)
			}
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	for i := range strs {
		if !found[i] {
			delete(strs, i)
		}
	}
	return strs, nil
}

// styles reads the number formats of the cell styles the sheets' cells use:
// it maps each style index to the number format code excelize formats
// with, by format id.
type styleSet struct {
	index map[int]int // a cell's style index to its index in the styles written
	fmtID []int       // the number format of each style written, from 1
	codes map[int]string
}

func (p *pkg) styles(sheets []*xSheet) (*styleSet, error) {
	st := &styleSet{index: map[int]int{}, codes: map[int]string{}}
	last := 0
	for _, sh := range sheets {
		for _, r := range sh.rows {
			for _, c := range r.cells {
				if c.s > 0 {
					st.index[c.s], last = 0, max(last, c.s)
				}
			}
		}
	}
	f := p.find("xl/styles.xml")
	if last == 0 || f == nil {
		return st, nil
	}
	var inFmts, inXfs bool
	xf := -1
	_, err := p.walk(f, maxScanXML, func(s *xmlScanner) bool {
		switch {
		case s.is("numFmts"):
			inFmts = s.kind == tagStart
		case s.is("numFmt") && inFmts && s.kind != tagEnd:
			id, ok := atoi(s.attr("numFmtId"))
			code := s.attrString("formatCode")
			if ok && len(st.codes) < maxNumFmts && len(code) <= 255 { // Excel's own limit
				st.codes[id] = code
			}
		case s.is("cellXfs"):
			inXfs = s.kind == tagStart
			return inXfs
		case s.is("xf") && inXfs && s.kind != tagEnd:
			xf++
			if _, ok := st.index[xf]; ok {
				id, _ := atoi(s.attr("numFmtId"))
				st.fmtID = append(st.fmtID, id)
				st.index[xf] = len(st.fmtID)
			}
			return xf < last
		}
		return true
	})
	return st, err
}

// formatSheets writes the kept cells as a small workbook, shared strings
// inlined and styles renumbered, and reads it back with excelize's row
// iterator for its formatted values.
func formatSheets(sheets []*xSheet, strs map[int]string, st *styleSet, date1904 bool, rows int) (tables []*Table, err error) {
	defer func() {
		if r := recover(); r != nil {
			tables, err = nil, fmt.Errorf("workbook preview failed: %v", r)
		}
	}()
	if len(sheets) == 0 {
		return nil, nil
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	put := func(name, body string) {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store})
		if err == nil {
			io.WriteString(w, body)
		}
	}
	put("_rels/.rels", `<Relationships xmlns="`+nsPkg+`"><Relationship Id="rId1" Type="`+nsRel+`/officeDocument" Target="xl/workbook.xml"/></Relationships>`)
	var w, rels strings.Builder
	w.WriteString(`<workbook xmlns="` + nsMain + `" xmlns:r="` + nsRel + `">`)
	if date1904 {
		w.WriteString(`<workbookPr date1904="1"/>`)
	}
	w.WriteString(`<sheets>`)
	rels.WriteString(`<Relationships xmlns="` + nsPkg + `"><Relationship Id="rIdS" Type="` + nsRel + `/styles" Target="styles.xml"/>`)
	for i := range sheets {
		fmt.Fprintf(&w, `<sheet name="S%d" sheetId="%d" r:id="rId%[2]d"/>`, i+1, i+1)
		fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="%s/worksheet" Target="worksheets/sheet%[1]d.xml"/>`, i+1, nsRel)
	}
	w.WriteString(`</sheets></workbook>`)
	rels.WriteString(`</Relationships>`)
	put("xl/workbook.xml", w.String())
	put("xl/_rels/workbook.xml.rels", rels.String())
	put("xl/styles.xml", st.xml())
	for i, sh := range sheets {
		put(fmt.Sprintf("xl/worksheets/sheet%d.xml", i+1), sh.xml(strs, st))
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	if buf.Len() > maxPackage {
		return nil, &SkippedError{"its first rows are over " + FormatSize(maxPackage)}
	}
	// Both limits at the package's cap: excelize unpacks a part over the
	// XML limit to a temporary file, and none can be over it here.
	xf, err := excelize.OpenReader(&buf, excelize.Options{UnzipSizeLimit: maxPackage, UnzipXMLSizeLimit: maxPackage})
	if err != nil {
		return nil, fmt.Errorf("workbook preview failed: %v", err)
	}
	defer xf.Close()
	for i, sh := range sheets {
		t, err := readRows(xf, fmt.Sprintf("S%d", i+1), sh, rows)
		if err != nil {
			return nil, err
		}
		tables = append(tables, t)
	}
	return tables, nil
}

func readRows(xf *excelize.File, sheet string, sh *xSheet, rows int) (*Table, error) {
	it, err := xf.Rows(sheet)
	if err != nil {
		return nil, err
	}
	defer it.Close()
	wide := map[int]int{}
	for _, r := range sh.rows {
		if r.wide > 0 {
			wide[r.num] = r.wide
		}
	}
	t := &Table{Stopped: sh.stopped}
	if sh.unresolved {
		t.stop("text cells shown as … hold shared strings past what the preview reads")
	}
	for n := 0; n <= rows && it.Next(); n++ {
		rec, err := it.Columns()
		if err != nil {
			break
		}
		for i := range rec {
			rec[i] = clipField(rec[i], maxFieldBytes)
		}
		more := 0
		if w := wide[n+1]; w > 0 {
			// As excelize gives the whole row: blanks up to the cap, the rest counted.
			for len(rec) < maxPreviewColumns {
				rec = append(rec, "")
			}
			more = w - len(rec)
		}
		if n == 0 {
			t.Columns, t.MoreColumns = rec, more
		} else {
			t.addRow(rec, more)
		}
	}
	return t, nil
}

func (st *styleSet) xml() string {
	var b strings.Builder
	b.WriteString(`<styleSheet xmlns="` + nsMain + `">`)
	var ids []int
	for _, id := range st.fmtID {
		if _, ok := st.codes[id]; ok && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) > 0 {
		fmt.Fprintf(&b, `<numFmts count="%d">`, len(ids))
		for _, id := range ids {
			fmt.Fprintf(&b, `<numFmt numFmtId="%d" formatCode="%s"/>`, id, escape(st.codes[id]))
		}
		b.WriteString(`</numFmts>`)
	}
	fmt.Fprintf(&b, `<cellXfs count="%d"><xf numFmtId="0"/>`, len(st.fmtID)+1)
	for _, id := range st.fmtID {
		fmt.Fprintf(&b, `<xf numFmtId="%d"/>`, id)
	}
	b.WriteString(`</cellXfs></styleSheet>`)
	return b.String()
}

func (sh *xSheet) xml(strs map[int]string, st *styleSet) string {
	var b strings.Builder
	b.WriteString(`<worksheet xmlns="` + nsMain + `"><sheetData>`)
	for _, r := range sh.rows {
		fmt.Fprintf(&b, `<row r="%d">`, r.num)
		for _, c := range r.cells {
			name, _ := excelize.ColumnNumberToName(c.col)
			fmt.Fprintf(&b, `<c r="%s%d"`, name, r.num)
			if s := st.index[c.s]; s > 0 {
				fmt.Fprintf(&b, ` s="%d"`, s)
			}
			text, inline := c.is, c.t == "inlineStr" && c.hasIS
			if c.t == "s" && c.v != "" {
				i, ok := atoi([]byte(c.v))
				if ok {
					text, ok = strs[i]
				}
				if !ok {
					text, sh.unresolved = "…", true
				}
				inline = true
			}
			switch {
			case inline:
				b.WriteString(` t="inlineStr"><is><t xml:space="preserve">` + escape(text) + `</t></is>`)
			case c.t != "" && c.t != "s":
				b.WriteString(` t="` + escape(c.t) + `">`)
			default:
				b.WriteString(`>`)
			}
			if c.f {
				b.WriteString(`<f/>`)
			}
			if !inline && c.hasV {
				b.WriteString(`<v>` + escape(c.v) + `</v>`)
			}
			b.WriteString(`</c>`)
		}
		b.WriteString(`</row>`)
	}
	b.WriteString(`</sheetData></worksheet>`)
	return b.String()
}

// escape writes s as XML text; characters XML cannot hold become U+FFFD.
func escape(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// atoi reads a decimal integer without allocating.
func atoi(b []byte) (int, bool) {
	b = bytes.TrimSpace(b)
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 9 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// colOf reads the column of a cell reference such as "AB12": 28, or 0 if
// it has none.
func colOf(ref []byte) int {
	n := 0
	for i, c := range ref {
		c |= 0x20
		if c < 'a' || c > 'z' {
			if i == 0 {
				return 0
			}
			break
		}
		if n = n*26 + int(c-'a') + 1; n > excelize.MaxColumns {
			return 0
		}
	}
	return n
}

type tagKind int

const (
	tagStart tagKind = iota // <a>
	tagEnd                  // </a>
	tagEmpty                // <a/>
)

const (
	maxTagBytes  = 16 << 10
	maxAttrBytes = 1 << 10 // of each attribute value, so that one long value hides no other
	maxTextBytes = 4 * maxFieldBytes
)

// xmlScanner walks an XML stream tag by tag without building tokens, so
// that skimming megabytes of a workbook costs no allocation: a tokenizing
// decoder allocates tens of bytes for every byte it reads.
type xmlScanner struct {
	r     *bufio.Reader
	kind  tagKind
	tag   []byte // the current tag between "<" (or "</") and "/>" or ">", clipped
	local []byte // the local part of its name
	depth int    // elements open
	// With keepText set, text holds the character data (entities decoded,
	// clipped) between the previous tag and the current one.
	keepText bool
	text     []byte
	raw      []byte
	// textCap, if over 0, is the bytes of text kept in place of
	// maxTextBytes.
	textCap int
}

func (s *xmlScanner) maxText() int {
	if s.textCap > 0 {
		return s.textCap
	}
	return maxTextBytes
}

func newXMLScanner(r io.Reader) *xmlScanner {
	return &xmlScanner{r: bufio.NewReaderSize(r, 32<<10)}
}

// next moves to the next start, end or empty-element tag; comments,
// processing instructions and declarations are skipped, and CDATA is text.
func (s *xmlScanner) next() error {
	s.text, s.raw = s.text[:0], s.raw[:0]
	for {
		for {
			chunk, err := s.r.ReadSlice('<')
			if s.keepText && len(s.raw) < s.maxText() {
				s.raw = append(s.raw, bytes.TrimSuffix(chunk, []byte("<"))...)
			}
			if err == nil {
				break
			}
			if err == io.EOF && s.depth > 0 {
				return io.ErrUnexpectedEOF
			}
			if err != bufio.ErrBufferFull {
				return err
			}
		}
		s.flushText()
		c, err := s.r.ReadByte()
		if err != nil {
			return unexpected(err)
		}
		switch c {
		case '?':
			if err := s.skipPast("?>", false); err != nil {
				return unexpected(err)
			}
			continue
		case '!':
			if err := s.special(); err != nil {
				return unexpected(err)
			}
			continue
		case '/':
			s.kind = tagEnd
		default:
			s.kind = tagStart
			s.r.UnreadByte()
		}
		s.tag = s.tag[:0]
		var quote, last byte
		value := 0 // bytes of the attribute value being read
		for {
			c, err := s.r.ReadByte()
			if err != nil {
				return unexpected(err)
			}
			if quote != 0 {
				if c == quote {
					quote = 0
				} else if value++; value > maxAttrBytes {
					continue
				}
			} else if c == '"' || c == '\'' {
				quote, value = c, 0
			} else if c == '>' {
				break
			}
			if len(s.tag) < maxTagBytes {
				s.tag = append(s.tag, c)
			}
			last = c
		}
		switch {
		case s.kind == tagStart && last == '/':
			s.kind = tagEmpty
			s.tag = bytes.TrimSuffix(s.tag, []byte("/"))
		case s.kind == tagStart:
			s.depth++
		default:
			s.depth--
		}
		s.local = s.tag
		if i := bytes.IndexAny(s.local, " \t\r\n"); i >= 0 {
			s.local = s.local[:i]
		}
		if i := bytes.LastIndexByte(s.local, ':'); i >= 0 {
			s.local = s.local[i+1:]
		}
		return nil
	}
}

// flushText decodes the raw text read so far into text.
func (s *xmlScanner) flushText() {
	if !s.keepText || len(s.raw) == 0 {
		return
	}
	raw := s.raw
	if bytes.IndexByte(raw, '\r') >= 0 {
		raw = bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
		raw = bytes.ReplaceAll(raw, []byte("\r"), []byte("\n"))
	}
	if bytes.IndexByte(raw, '&') >= 0 {
		raw = []byte(html.UnescapeString(string(raw)))
	}
	if n := s.maxText() - len(s.text); n > 0 {
		s.text = append(s.text, raw[:min(n, len(raw))]...)
	}
	s.raw = s.raw[:0]
}

// special skips a comment or declaration after "<!", or reads a CDATA
// section as text.
func (s *xmlScanner) special() error {
	b, err := s.r.Peek(2)
	if err == nil && string(b) == "--" {
		return s.skipPast("-->", false)
	}
	if b, err := s.r.Peek(7); err == nil && string(b) == "[CDATA[" {
		s.r.Discard(7)
		return s.skipPast("]]>", true)
	}
	return s.skipPast(">", false)
}

// skipPast reads past the next end; with text, what it reads before end is
// text.
func (s *xmlScanner) skipPast(end string, text bool) error {
	var win, want uint32 // the last len(end) bytes read, and end
	for i := range len(end) {
		want = want<<8 | uint32(end[i])
	}
	mask := uint32(1)<<(8*len(end)) - 1
	for n := 1; ; n++ {
		c, err := s.r.ReadByte()
		if err != nil {
			return err
		}
		if text && s.keepText && len(s.text) < s.maxText()+len(end) {
			s.text = append(s.text, c)
		}
		if win = (win<<8 | uint32(c)) & mask; win == want && n >= len(end) {
			if text && s.keepText && bytes.HasSuffix(s.text, []byte(end)) {
				s.text = s.text[:len(s.text)-len(end)]
			}
			s.text = s.text[:min(len(s.text), s.maxText())]
			return nil
		}
	}
}

// is tells whether the current tag's local name is name.
func (s *xmlScanner) is(name string) bool { return string(s.local) == name }

// depthStep is +1 at a start tag, -1 at an end tag and 0 for an empty one:
// how the current element changes the nesting it is counted in.
func (s *xmlScanner) depthStep() int {
	switch s.kind {
	case tagStart:
		return 1
	case tagEnd:
		return -1
	}
	return 0
}

// unexpected reports the input ending inside markup.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// attr gives the value of the current tag's attribute whose local name is
// name, entities decoded, or nil.
func (s *xmlScanner) attr(name string) []byte {
	t := s.tag
	i := bytes.IndexAny(t, " \t\r\n")
	if i < 0 {
		return nil
	}
	for i < len(t) {
		for i < len(t) && isSpace(t[i]) {
			i++
		}
		j := i
		for i < len(t) && t[i] != '=' && !isSpace(t[i]) {
			i++
		}
		key := t[j:i]
		for i < len(t) && isSpace(t[i]) {
			i++
		}
		if i == len(t) || t[i] != '=' {
			return nil
		}
		i++
		for i < len(t) && isSpace(t[i]) {
			i++
		}
		if i == len(t) || t[i] != '"' && t[i] != '\'' {
			return nil
		}
		k := bytes.IndexByte(t[i+1:], t[i])
		if k < 0 {
			return nil
		}
		val := t[i+1 : i+1+k]
		i += k + 2
		if k := bytes.LastIndexByte(key, ':'); k >= 0 {
			key = key[k+1:]
		}
		if string(key) == name {
			if bytes.IndexByte(val, '&') >= 0 {
				return []byte(html.UnescapeString(string(val)))
			}
			return val
		}
	}
	return nil
}

func (s *xmlScanner) attrString(name string) string { return string(s.attr(name)) }

func (s *xmlScanner) textString() string { return string(s.text) }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }
