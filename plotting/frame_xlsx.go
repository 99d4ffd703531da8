package plotting

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"math"
	"path"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"
)

// Caps on what reading a workbook whole unpacks. A sheet's XML is read as
// a stream, so its size costs time, not memory; the shared strings and
// styles are held in memory while the sheet is read.
const (
	maxFrameSheetXML = 2 << 30   // bytes of a sheet's XML, unpacked
	maxFrameSST      = 256 << 20 // bytes of the shared strings' XML, unpacked
	maxFrameStyles   = 16 << 20  // bytes of the styles' XML, unpacked
	maxFrameText     = 256 << 10 // bytes of one cell's text (Excel holds at most 32,767 characters)
	// A part that unpacks to over maxRatio times its packed size, and to
	// over 16 MiB, is a zip bomb: deflate packs XML some 10 to 100 times,
	// and at most about 1,030 times.
	maxRatio = 1000
)

// Sheets gives the sheet names of the workbook at p, in order. It opens p
// as ReadFile does.
func Sheets(p string) ([]string, error) {
	f, size, err := openSized(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return SheetsFrom(f, size, path.Base(p))
}

// SheetsFrom gives the sheet names of the workbook of size bytes in r, in
// order; name is the workbook's, for errors.
func SheetsFrom(r io.ReaderAt, size int64, name string) ([]string, error) {
	_, bk, err := openBook(r, size, name)
	if err != nil {
		return nil, err
	}
	return bk.names, nil
}

// book is what a workbook says of its parts.
type book struct {
	names    []string // the sheets
	targets  []string // each sheet's part
	date1904 bool
	sst      string // the shared strings' part
	styles   string // the styles' part
}

// openBook reads a workbook's zip directory and its list of sheets.
func openBook(r io.ReaderAt, size int64, name string) (*pkg, *book, error) {
	if size == 0 {
		return nil, nil, ErrEmpty
	}
	br := &budgetReaderAt{r: r, left: maxZipDirectory + 128<<10}
	zr, err := zip.NewReader(br, size)
	if errors.Is(err, errCut) {
		return nil, nil, fmt.Errorf("%s is not a workbook Plotline reads: its zip directory is over %s", name, FormatSize(maxZipDirectory))
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s is not an Excel workbook: %v", name, err)
	}
	br.left = math.MaxInt64
	pk := &pkg{files: zr.File}
	scan := func(part string, fn func(*xmlScanner) bool) error {
		err := pk.scan(part, maxListXML, fn)
		if se := (*SkippedError)(nil); errors.As(err, &se) {
			return fmt.Errorf("%s is not a workbook Plotline reads: %s", name, se.Reason)
		}
		return err
	}
	wbPath := "xl/workbook.xml"
	if err := scan("_rels/.rels", func(s *xmlScanner) bool {
		if s.is("Relationship") && strings.HasSuffix(s.attrString("Type"), "/officeDocument") {
			wbPath = partPath("", s.attrString("Target"))
			return false
		}
		return true
	}); err != nil {
		return nil, nil, err
	}
	bk := &book{}
	var ids []string
	if err := scan(wbPath, func(s *xmlScanner) bool {
		switch {
		case s.is("workbookPr"):
			v := s.attrString("date1904")
			bk.date1904 = v == "1" || v == "true"
		case s.is("sheet") && s.kind != tagEnd && len(bk.names) < maxSheetNames:
			bk.names = append(bk.names, s.attrString("name"))
			ids = append(ids, s.attrString("id"))
		}
		return true
	}); err != nil {
		return nil, nil, err
	}
	if len(bk.names) == 0 {
		return nil, nil, fmt.Errorf("%s is not an Excel workbook: it has no sheets", name)
	}
	dir := path.Dir(wbPath)
	targets := map[string]string{}
	if err := scan(path.Join(dir, "_rels", path.Base(wbPath)+".rels"), func(s *xmlScanner) bool {
		if s.is("Relationship") && s.kind != tagEnd && s.attrString("TargetMode") != "External" {
			target := partPath(dir, s.attrString("Target"))
			switch typ := s.attrString("Type"); {
			case strings.HasSuffix(typ, "/sharedStrings"):
				bk.sst = target
			case strings.HasSuffix(typ, "/styles"):
				bk.styles = target
			default:
				targets[s.attrString("Id")] = target
			}
		}
		return true
	}); err != nil {
		return nil, nil, err
	}
	for _, id := range ids {
		bk.targets = append(bk.targets, targets[id])
	}
	if bk.sst == "" {
		bk.sst = path.Join(dir, "sharedStrings.xml")
	}
	if bk.styles == "" {
		bk.styles = path.Join(dir, "styles.xml")
	}
	return pk, bk, nil
}

// checkPart refuses a part over limit bytes unpacked, or one that
// unpacks out of all proportion to its packed size.
func checkPart(f *zip.File, limit int64, name, what string) error {
	u, c := f.UncompressedSize64, f.CompressedSize64
	if u > 16<<20 && u/max(c, 1) > maxRatio {
		return fmt.Errorf("%s looks like a zip bomb: %s unpacks from %s to %s", name, what, FormatSize(int64(c)), FormatSize(int64(min(u, math.MaxInt64))))
	}
	if u > uint64(limit) {
		return fmt.Errorf("%s is too big to read: %s unpacks to %s, over the %s Plotline reads", name, what, FormatSize(int64(min(u, math.MaxInt64))), FormatSize(limit))
	}
	return nil
}

// sstTable holds a workbook's shared strings in one arena.
type sstTable struct {
	arena []byte
	ends  []int
}

func (t *sstTable) get(i int) ([]byte, bool) {
	if i < 0 || i >= len(t.ends) {
		return nil, false
	}
	start := 0
	if i > 0 {
		start = t.ends[i-1]
	}
	return t.arena[start:t.ends[i]], true
}

func readSST(pk *pkg, part, name string) (*sstTable, error) {
	t := &sstTable{}
	f := pk.find(part)
	if f == nil {
		return t, nil
	}
	if err := checkPart(f, maxFrameSST, name, "its shared strings"); err != nil {
		return nil, err
	}
	in, rph := false, 0
	_, err := pk.walk(f, maxFrameSST, func(s *xmlScanner) bool {
		s.textCap = maxFrameText
		switch {
		case s.is("si"):
			if s.kind != tagEnd {
				in, rph = true, 0
			}
			if s.kind != tagStart {
				t.ends = append(t.ends, len(t.arena))
				in = false
			}
		case !in:
		case s.is("rPh"):
			rph += s.depthStep()
		case s.is("t"):
			s.keepText = s.kind == tagStart && rph == 0
			if s.kind == tagEnd && rph == 0 {
				t.arena = append(t.arena, s.text...)
			}
		}
		return true
	})
	return t, err
}

// Number formats, as reading needs them.
const (
	fmtNumber = iota
	fmtDate
	fmtDatetime
	fmtTime
)

// readStyles gives the number format class of each cell style.
func readStyles(pk *pkg, part, name string) ([]uint8, error) {
	f := pk.find(part)
	if f == nil {
		return nil, nil
	}
	if err := checkPart(f, maxFrameStyles, name, "its styles"); err != nil {
		return nil, err
	}
	codes := map[int]string{}
	var ids []int
	var inFmts, inXfs bool
	_, err := pk.walk(f, maxFrameStyles, func(s *xmlScanner) bool {
		switch {
		case s.is("numFmts"):
			inFmts = s.kind == tagStart
		case s.is("numFmt") && inFmts && s.kind != tagEnd:
			if id, ok := atoi(s.attr("numFmtId")); ok {
				codes[id] = s.attrString("formatCode")
			}
		case s.is("cellXfs"):
			inXfs = s.kind == tagStart
			return inXfs
		case s.is("xf") && inXfs && s.kind != tagEnd:
			id, _ := atoi(s.attr("numFmtId"))
			ids = append(ids, id)
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	classes := make([]uint8, len(ids))
	for i, id := range ids {
		classes[i] = fmtClass(id, codes[id])
	}
	return classes, nil
}

// fmtClass tells whether number format id (code, if custom) shows a date,
// a date and time, a time of day, or a number.
func fmtClass(id int, code string) uint8 {
	switch {
	case id >= 14 && id <= 17, id >= 27 && id <= 31, id >= 34 && id <= 36, id >= 50 && id <= 58:
		return fmtDate
	case id == 22:
		return fmtDatetime
	case id >= 18 && id <= 21, id >= 45 && id <= 47, id == 32, id == 33:
		return fmtTime
	case id < 164:
		return fmtNumber
	}
	var date, clock bool
	quoted := false
	for i := 0; i < len(code); i++ {
		c := code[i]
		switch {
		case quoted:
			quoted = c != '"'
		case c == '"':
			quoted = true
		case c == '\\' || c == '_' || c == '*':
			i++
		case c == '[':
			// [Red], [$-409], [h] (elapsed time: a duration, not a date)
			j := strings.IndexByte(code[i:], ']')
			if j < 0 {
				return fmtNumber
			}
			if inner := strings.ToLower(code[i+1 : i+j]); inner != "" && strings.Trim(inner, "hms") == "" {
				return fmtNumber
			}
			i += j
		case c == ';':
			i = len(code) // the first section decides
		default:
			switch c | 0x20 {
			case 'y', 'd', 'e':
				date = true
			case 'h', 's':
				clock = true
			case 'm':
				date = date || !clock
			}
		}
	}
	switch {
	case date && clock:
		return fmtDatetime
	case date:
		return fmtDate
	case clock:
		return fmtTime
	}
	return fmtNumber
}

// xlsxCell is a sheet cell as read: its column (from 1), type attribute,
// style and value (the v element, or an inline string's text).
type xlsxCell struct {
	col   int
	t     string
	style int
	v     []byte
}

// ReadXLSXFrame reads one sheet of the size bytes of a workbook from r
// (opts.Sheet, or the first): its first row names the columns, as
// ReadCSVFrame has it, and blank rows are skipped. Numbers, booleans, text
// and dates (numbers with a date format; a time-of-day format reads as
// text) keep their types, and a column's type is the one its cells agree
// on; a text cell is read as a text table's cell is, so "12" in a text
// cell is a number; an error cell (#DIV/0!) is missing. name is the
// file's name, for Source and messages.
//
// The sheet's XML is read as a stream, by the scanner the previews use:
// excelize's row iterator gives neither a cell's type nor its style, and
// excelize.OpenReader holds every part in memory, or unpacks the big ones
// to temporary files (its UnzipSizeLimit and UnzipXMLSizeLimit options
// bound both). Here shared strings and styles are held in memory, up to
// 256 MiB and 16 MiB of XML; a sheet's XML may be up to 2 GiB; a part that
// unpacks to a thousand times its packed size is refused as a zip bomb.
func ReadXLSXFrame(r io.ReaderAt, size int64, name string, opts ReadOptions) (*Frame, error) {
	pk, bk, err := openBook(r, size, name)
	if err != nil {
		return nil, err
	}
	si := 0
	if opts.Sheet != "" {
		si = -1
		for i, n := range bk.names {
			if n == opts.Sheet {
				si = i
			}
		}
		if si < 0 {
			return nil, fmt.Errorf("no sheet %q in %s; the sheets are %s", opts.Sheet, name, nameList(bk.names, 20))
		}
	}
	sheet := bk.names[si]
	f := pk.find(bk.targets[si])
	if f == nil {
		return nil, fmt.Errorf("%s is not a valid workbook: sheet %q has no part", name, sheet)
	}
	// A bounded read reads the first MaxBytes of any sheet; others refuse a
	// sheet over the cap at once.
	limit, capped := int64(maxFrameSheetXML), int64(maxFrameSheetXML)
	if opts.MaxBytes > 0 {
		limit, capped = min(opts.MaxBytes, limit), math.MaxInt64
	}
	if err := checkPart(f, capped, name, fmt.Sprintf("sheet %q", sheet)); err != nil {
		return nil, err
	}
	sst, err := readSST(pk, bk.sst, name)
	if err != nil {
		return nil, err
	}
	styles, err := readStyles(pk, bk.styles, name)
	if err != nil {
		return nil, err
	}
	xr := &xlsxRead{pk: pk, f: f, limit: limit, sst: sst, styles: styles, date1904: bk.date1904, name: name}
	names, err := xr.read(nil)
	if errors.Is(err, ErrEmptySheet) {
		return nil, fmt.Errorf("sheet %q of %s is empty: %w", sheet, name, err)
	}
	if err != nil {
		return nil, err
	}
	fr := &Frame{Source: Source{File: name, Sheet: sheet, Decimal: "."}}
	var again []*colData
	cols := make([]*joined, len(xr.cols))
	for j, c := range xr.cols {
		cols[j] = &joined{colData: *c, parts: []part{{n: c.n, kind: c.kind}}}
		if c.kind == kConflict {
			cols[j].pending = cols[j].parts
		}
		cols[j].resolveDates()
		if len(cols[j].pending) > 0 {
			if again == nil {
				again = make([]*colData, len(xr.cols))
			}
			again[j] = newColData(c.n, true)
		}
	}
	if again != nil {
		if _, err := xr.read(again); err != nil {
			return nil, err
		}
		for j, c := range again {
			if c != nil {
				cols[j].colData = *c
			}
		}
	}
	for j, n := range uniqueNames(names) {
		fr.Columns = append(fr.Columns, cols[j].column(n))
	}
	if xr.long > 0 {
		fr.Warnings = append(fr.Warnings, fmt.Sprintf("%d %s cells past the header's %d columns (the first is row %d); they are left out",
			xr.long, plural2(xr.long, "row has", "rows have"), len(names), xr.firstLong))
	}
	if xr.cut {
		fr.Warnings = append(fr.Warnings, fmt.Sprintf("only the first %s of the sheet's XML were read", FormatSize(limit)))
	}
	return opts.project(fr)
}

// xlsxRead reads a sheet's rows into columns.
type xlsxRead struct {
	pk       *pkg
	f        *zip.File
	limit    int64
	sst      *sstTable
	styles   []uint8
	date1904 bool
	name     string

	cols            []*colData
	text            []*colData // when reading again: the columns read as text, the others nil
	rows            int
	long, firstLong int
	cut             bool
	buf             []byte
}

// read reads the sheet: into new columns, or again into the text columns
// given. It gives the column names (blank for a sheet whose first row is
// data).
func (xr *xlsxRead) read(text []*colData) ([]string, error) {
	xr.text, xr.rows, xr.long = text, 0, 0
	var (
		inData, inIS bool
		inRow, inC   bool
		rph          int
		row          []xlsxCell
		arena        []byte
		cur          xlsxCell
		lastCol      int
		names        []string
		first        []xlsxCell // the first row, until the second shows whether it is data
		started      bool
		width        int
	)
	endRow := func() {
		if !hasValue(row) {
			return
		}
		if !started {
			if first == nil {
				first = make([]xlsxCell, len(row))
				for i, c := range row {
					c.v = append([]byte(nil), c.v...)
					first[i] = c
				}
				return
			}
			started = true
			width = lastFilled(first)
			names = xr.begin(first, row, width, text)
		}
		xr.feed(row, width)
	}
	cut, werr := xr.pk.walk(xr.f, xr.limit, func(s *xmlScanner) bool {
		s.textCap = maxFrameText
		switch {
		case s.is("sheetData"):
			inData = s.kind == tagStart
			return inData
		case !inData:
		case s.is("row"):
			if s.kind != tagEnd {
				row, arena, lastCol, inRow = row[:0], arena[:0], 0, true
			}
			if s.kind != tagStart {
				endRow()
				inRow = false
			}
		case !inRow:
		case s.is("c"):
			if s.kind != tagEnd {
				col := colOf(s.attr("r"))
				if col == 0 {
					col = lastCol + 1
				}
				lastCol = col
				st, _ := atoi(s.attr("s"))
				cur = xlsxCell{col: col, t: s.attrString("t"), style: st}
				inC, inIS, rph = true, false, 0
			}
			if s.kind != tagStart && inC {
				row = append(row, cur)
				inC = false
			}
		case !inC:
		case s.is("v"):
			s.keepText = s.kind == tagStart
			if s.kind == tagEnd {
				start := len(arena)
				arena = append(arena, s.text...)
				cur.v = arena[start:len(arena):len(arena)]
			}
		case s.is("is"):
			inIS = s.kind == tagStart
		case !inIS:
		case s.is("rPh"):
			rph += s.depthStep()
		case s.is("t"):
			s.keepText = s.kind == tagStart && rph == 0
			if s.kind == tagEnd && rph == 0 {
				start := len(arena) - len(cur.v)
				arena = append(arena, s.text...)
				cur.v = arena[start:len(arena):len(arena)]
			}
		}
		return true
	})
	if werr != nil {
		return nil, fmt.Errorf("%s is not a valid workbook: %v", xr.name, werr)
	}
	xr.cut = cut
	if first == nil {
		return nil, ErrEmptySheet
	}
	if !started {
		names = xr.begin(first, nil, lastFilled(first), text) // one row only
	}
	return names, nil
}

// ErrEmptySheet is the error for a workbook sheet with no cell filled.
var ErrEmptySheet = errors.New("the sheet is empty")

// begin makes the columns once the first row and the one after it (nil
// if none) are known, and gives the column names: the first row's cells,
// unless it and the one after hold only numbers and dates, when the first
// row is data and the names blank.
func (xr *xlsxRead) begin(first, next []xlsxCell, width int, text []*colData) []string {
	if text != nil {
		xr.cols = text
	} else {
		xr.cols = make([]*colData, width)
		for j := range xr.cols {
			xr.cols[j] = newColData(1024, false)
		}
	}
	fam := func(c xlsxCell) int {
		switch k, _, _ := xr.cell(c); k {
		case kInt, kFloat:
			return 1
		case kDate, kDatetime:
			return 2
		case kNone:
			return 0
		}
		return -1
	}
	want := map[int]int{}
	header := false
	for _, c := range first {
		if want[c.col] = fam(c); want[c.col] <= 0 {
			header = true
		}
	}
	for _, c := range next {
		if f := fam(c); f != 0 && f != want[c.col] {
			header = true
		}
	}
	if header {
		return xr.names(first, width)
	}
	xr.feed(first, width)
	return make([]string, width)
}

func hasValue(row []xlsxCell) bool {
	for _, c := range row {
		if len(c.v) > 0 {
			return true
		}
	}
	return false
}

func lastFilled(row []xlsxCell) int {
	w := 0
	for _, c := range row {
		if len(c.v) > 0 {
			w = max(w, c.col)
		}
	}
	return w
}

// names gives the header row's cells as text.
func (xr *xlsxRead) names(row []xlsxCell, width int) []string {
	names := make([]string, width)
	for _, c := range row {
		if c.col <= width {
			names[c.col-1] = string(xr.cellText(c))
		}
	}
	return names
}

// feed adds a row to the columns: cells past width are left out.
func (xr *xlsxRead) feed(row []xlsxCell, width int) {
	xr.rows++
	cols := xr.cols
	next, long := 1, false
	for _, c := range row {
		if c.col > width {
			long = long || len(c.v) > 0
			continue
		}
		if c.col < next {
			continue // out of order: left out
		}
		for ; next < c.col; next++ {
			if col := cols[next-1]; col != nil {
				col.addMissing()
			}
		}
		next++
		col := cols[c.col-1]
		if col == nil {
			continue
		}
		if xr.text != nil {
			col.add(xr.cellText(c), '.')
			continue
		}
		if k, iv, fv := xr.cell(c); k == kText {
			col.add(xr.cellText(c), '.')
		} else {
			col.put(k, iv, fv, nil)
		}
	}
	for ; next <= width; next++ {
		if col := cols[next-1]; col != nil {
			col.addMissing()
		}
	}
	if long {
		if xr.long == 0 {
			xr.firstLong = xr.rows
		}
		xr.long++
	}
}

// textOf gives the text of a string cell.
func (xr *xlsxRead) textOf(c xlsxCell) []byte {
	if c.t == "s" {
		i, _ := atoi(c.v)
		s, _ := xr.sst.get(i)
		return s
	}
	return c.v
}

// cell reads a cell as a typed value (see classify); text cells are kText,
// their text to be read by the column.
func (xr *xlsxRead) cell(c xlsxCell) (kind, int64, float64) {
	if len(c.v) == 0 {
		return kNone, 0, 0
	}
	switch c.t {
	case "s", "inlineStr", "str":
		k, iv, fv := classify(xr.textOf(c), '.')
		if k == kText {
			return kText, 0, 0
		}
		return k, iv, fv
	case "b":
		if string(c.v) == "1" || foldEq(c.v, "true") {
			return kBool, 1, 0
		}
		return kBool, 0, 0
	case "e":
		return kNone, 0, 0
	case "d":
		if k, v := parseDate(trimSpace(c.v)); k != kNone {
			return k, v, 0
		}
		return kText, 0, 0
	}
	k, iv, fv := parseNumber(trimSpace(c.v), '.')
	if k == kNone {
		return kText, 0, 0
	}
	if k == kInt {
		fv = float64(iv)
	}
	class := uint8(fmtNumber)
	if c.style >= 0 && c.style < len(xr.styles) {
		class = xr.styles[c.style]
	}
	switch class {
	case fmtDate, fmtDatetime:
		t, err := excelize.ExcelDateToTime(fv, xr.date1904)
		if err != nil {
			return kFloat, 0, fv
		}
		ms := t.UnixMilli()
		if class == fmtDate && ms%86400000 == 0 {
			return kDate, ms / 86400000, 0
		}
		return kDatetime, ms, 0
	case fmtTime:
		return kText, 0, 0
	}
	if k == kFloat && fv == math.Trunc(fv) && math.Abs(fv) < 1<<53 {
		return kInt, int64(fv), 0
	}
	return k, iv, fv
}

// cellText gives a cell as text: a string as it is, a number as written,
// a date as 2006-01-02 (and a time as 15:04:05), a boolean as true or
// false, an error as nothing.
func (xr *xlsxRead) cellText(c xlsxCell) []byte {
	switch c.t {
	case "s", "inlineStr", "str", "d":
		return xr.textOf(c)
	case "e":
		return nil
	}
	k, iv, fv := xr.cell(c)
	switch k {
	case kBool:
		return strconv.AppendBool(xr.buf[:0], iv != 0)
	case kDate:
		return []byte(formatDate(iv))
	case kDatetime:
		return []byte(formatDatetime(iv))
	case kText:
		if f, err := strconv.ParseFloat(string(trimSpace(c.v)), 64); err == nil {
			t, err := excelize.ExcelDateToTime(f, xr.date1904)
			if err == nil {
				return []byte(t.Format("15:04:05"))
			}
		}
	case kInt:
		return strconv.AppendInt(xr.buf[:0], iv, 10)
	case kFloat:
		return []byte(formatFloat(fv))
	}
	return c.v
}
