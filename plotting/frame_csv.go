package plotting

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"os"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"

	"golang.org/x/text/transform"
)

// ReadOptions says how to read a table file.
type ReadOptions struct {
	// Sheet is the workbook sheet to read, by name; "" reads the first.
	Sheet string
	// MaxBytes, if over 0, bounds the read: at most that many bytes of a
	// text table, or of a sheet's XML unpacked. A table cut short loses its
	// last partial row and says so in Frame.Warnings.
	MaxBytes int64
	// Columns, if not empty, names the only columns to read: a text
	// table's other columns are skipped as it is parsed, so a chart of two
	// columns of a wide file holds only those. A name the table lacks is an
	// error.
	Columns []string
}

// projection says which of the columns named (made unique) to keep, or
// nil to keep all; a wanted name that is missing is an error.
func (o ReadOptions) projection(names []string) ([]bool, error) {
	if len(o.Columns) == 0 {
		return nil, nil
	}
	keep := make([]bool, len(names))
	for _, want := range o.Columns {
		i := slices.Index(names, want)
		if i < 0 {
			return nil, fmt.Errorf("no column %q; the columns are %s", want, nameList(names, 10))
		}
		keep[i] = true
	}
	return keep, nil
}

// project keeps only the columns o names, in the frame's order.
func (o ReadOptions) project(f *Frame) (*Frame, error) {
	keep, err := o.projection(f.Names())
	if err != nil || keep == nil {
		return f, err
	}
	var cols []*Column
	for i, c := range f.Columns {
		if keep[i] {
			cols = append(cols, c)
		}
	}
	f.Columns = cols
	return f, nil
}

// Reading a text table goes in blocks of frameBlockSize bytes (a block
// grows when one row is longer), each parsed by one of frameWorkers
// goroutines. Tests make both small. A few blocks and their parsed
// columns are in flight at once: at 256 KiB they take about 2.5 MB, a
// tenth of a million-row table's columns, where 1 MiB blocks took 10 MB
// for no gain in speed.
var (
	frameBlockSize = 256 << 10
	frameWorkers   = runtime.NumCPU()
)

const maxHeaderBytes = 64 << 20

// ErrEmpty is the error for a table file with nothing in it.
var ErrEmpty = errors.New("the file is empty")

// ReadFile reads the table file at p whole, by its extension: .csv, .tsv
// and .txt are text tables, .xlsx and .xlsm workbooks. It opens p without
// following a symbolic link or blocking on a FIFO, and refuses anything
// but a regular file.
func ReadFile(p string, opts ReadOptions) (*Frame, error) {
	if err := checkTableName(p); err != nil {
		return nil, err
	}
	ext := strings.ToLower(path.Ext(p))
	f, size, err := openSized(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if ext == ".xlsx" || ext == ".xlsm" {
		return ReadXLSXFrame(f, size, path.Base(p), opts)
	}
	return ReadCSVFrame(f, size, path.Base(p), opts)
}

// checkTableName says why a file named p is not a table Plotline reads, or
// gives nil.
func checkTableName(p string) error {
	switch strings.ToLower(path.Ext(p)) {
	case ".csv", ".tsv", ".txt", ".xlsx", ".xlsm":
		return nil
	case ".xls":
		return fmt.Errorf("%s is an old Excel workbook (.xls), which Plotline does not read; save it as .xlsx", path.Base(p))
	}
	return fmt.Errorf("%s is not a table file Plotline reads: it reads .csv, .tsv, .txt, .xlsx and .xlsm", path.Base(p))
}

// openSized opens the regular file p as ReadFile does, and gives its size.
func openSized(p string) (*os.File, int64, error) {
	f, err := openRegular(p)
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}

// ReadCSVFrame reads the size bytes of a text table from r: CSV, TSV,
// or separated by semicolons or bars. name is the file's name, for
// Source.
//
// It reads the text in its encoding (UTF-8 with or without a byte order
// mark, UTF-16, or else Windows-1252 or Latin-1) and with the separator
// and decimal mark the preview (ReadCSV) finds. Quotes are as RFC 4180
// has them, read leniently as encoding/csv's LazyQuotes does. The first
// row names the columns, unless it holds only numbers and dates, as the
// rows after it do: then the columns are column_1, column_2…. Blank and
// repeated names are made unique ("column_3", "value_2"). Blank lines are
// skipped; a short row is padded with missing cells and a long row loses
// its extra cells, as Warnings says.
//
// A column's type is the one its cells agree on: ints and floats make
// floats, dates and datetimes make datetimes, and any other mix makes
// text (each cell as written). A cell is
//
//   - missing if empty, blank, "NA", "N/A", "n/a", "#N/A", "null", "NULL",
//     "NaN", "nan", "None" or "-";
//   - an int or a float if it is an optional sign, digits with the file's
//     decimal mark, and an optional exponent; the integer digits may be
//     grouped by threes with the other mark ("1,234,567" where the decimal
//     mark is ".", "1.234.567" where it is ","), a space, a no-break or
//     thin space, or an apostrophe;
//   - a bool if it is true, false, yes or no, in any case (0 and 1 are
//     ints);
//   - a date if it is 2024-01-31, 2024/01/31 or 31.01.2024, or 01/31/2024
//     or 01-31-2024, whose order the column decides: month first, unless
//     some of its dates read only day first (31/01/2024); a column no one
//     order reads is text;
//   - a datetime if it is a year-first or dotted date, "T" or a space,
//     hh:mm, optional :ss and fraction, and an optional Z or offset (±hh,
//     ±hhmm, ±hh:mm); it is turned to UTC, and one with no zone is taken
//     as UTC;
//   - text otherwise.
func ReadCSVFrame(r io.ReaderAt, size int64, name string, opts ReadOptions) (*Frame, error) {
	tr, unique, err := openText(r, size, name, opts)
	if err != nil {
		return nil, err
	}
	cols, warnings, err := tr.read()
	if err != nil {
		return nil, err
	}
	fr := &Frame{Source: tr.source(name), Warnings: warnings}
	for i, n := range unique {
		if cols[i] != nil {
			fr.Columns = append(fr.Columns, cols[i].column(n))
		}
	}
	if tr.cut {
		fr.Warnings = append(fr.Warnings, cutWarning(tr.end, size))
	}
	return fr, nil
}

// cutWarning says that only the first read bytes of a table of size bytes
// were read.
func cutWarning(read, size int64) string {
	return fmt.Sprintf("only the first %s of %s were read", FormatSize(read), FormatSize(size))
}

// openText finds how the text table is written (its encoding, separator,
// decimal mark and header) and readies its rows to be read: the textRead,
// and the columns' names made unique.
func openText(r io.ReaderAt, size int64, name string, opts ReadOptions) (*textRead, []string, error) {
	limit := size
	if opts.MaxBytes > 0 && opts.MaxBytes < size {
		limit = opts.MaxBytes
	}
	if limit <= 0 {
		return nil, nil, ErrEmpty
	}
	sample, err := ReadCSV(io.NewSectionReader(r, 0, limit), maxPreviewRows)
	if err != nil {
		if errors.Is(err, errNotText) {
			return nil, nil, fmt.Errorf("%s is not a text table: %v", name, err)
		}
		return nil, nil, err
	}
	head := make([]byte, min(limit, 64<<10))
	if n, err := r.ReadAt(head, 0); n < len(head) {
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, nil, err
	}
	enc, err := detectEncoding(head)
	if err == nil && enc.dec == nil && bytes.IndexByte(head, 0) >= 0 {
		err = errNotText // valid UTF-8, yet binary
	}
	if err != nil {
		return nil, nil, fmt.Errorf("%s is not a text table: %v", name, err)
	}
	tr := &textRead{
		r: r, enc: enc, start: int64(enc.bom), end: limit, cut: limit < size,
		p: parser{sep: sample.Separator, dec: '.'},
	}
	if sample.DecimalComma {
		tr.p.dec = ','
	}
	tr.estBytes = limit - int64(enc.bom)
	if enc.name == EncodingUTF16LE || enc.name == EncodingUTF16BE {
		tr.estBytes /= 2
	}
	names, skip, err := tr.header()
	if err != nil {
		return nil, nil, err
	}
	if names == nil {
		return nil, nil, ErrEmpty
	}
	if headerless(sample, tr.p.dec) {
		for i := range names {
			names[i] = ""
		}
		skip = 0
	}
	tr.skip, tr.p.width = skip, len(names)
	unique := uniqueNames(names)
	if tr.keep, err = opts.projection(unique); err != nil {
		return nil, nil, err
	}
	return tr, unique, nil
}

// source says how the text was read.
func (tr *textRead) source(name string) Source {
	return Source{File: name, Encoding: tr.enc.name, Delimiter: string(tr.p.sep), Decimal: string(tr.p.dec)}
}

// headerless tells whether the preview's first row is data: numbers and
// dates only (not one of them missing), with the rows after it holding
// numbers and dates in the same columns.
func headerless(t *Table, dec byte) bool {
	family := func(s string) int {
		switch k, _, _ := classify([]byte(s), dec); k {
		case kInt, kFloat:
			return 1
		case kDate, kDatetime:
			return 2
		case kNone:
			return 0
		}
		return -1
	}
	if len(t.Columns) == 0 {
		return false
	}
	want := make([]int, len(t.Columns))
	for i, s := range t.Columns {
		if want[i] = family(s); want[i] <= 0 {
			return false
		}
	}
	for _, r := range t.Rows {
		for i, s := range r {
			if i < len(want) {
				if f := family(s); f != 0 && f != want[i] {
					return false
				}
			}
		}
	}
	return true
}

// uniqueNames trims the names and makes them unique: a blank one is
// column_<its place>, a repeated one gets _2, _3….
func uniqueNames(names []string) []string {
	out := make([]string, len(names))
	seen := make(map[string]bool, len(names))
	for i, n := range names {
		n = strings.TrimSpace(strings.TrimPrefix(n, "\ufeff"))
		if n == "" {
			n = fmt.Sprintf("column_%d", i+1)
		}
		out[i] = n
	}
	for _, n := range out {
		seen[n] = true
	}
	taken := make(map[string]bool, len(names))
	for i, n := range out {
		if taken[n] {
			for k := 2; ; k++ {
				if m := fmt.Sprintf("%s_%d", n, k); !seen[m] && !taken[m] {
					n = m
					break
				}
			}
		}
		taken[n] = true
		out[i] = n
	}
	return out
}

// textRead reads a text table in parallel.
type textRead struct {
	r          io.ReaderAt
	enc        textEncoding
	start, end int64 // the bytes of r read: past the byte order mark, up to the bound
	cut        bool  // end is before the end of the file
	skip       int64 // bytes of text before the first data row
	estBytes   int64 // the bytes of text, about
	p          parser
	keep       []bool // the columns read, or nil for all
}

// open gives the text as UTF-8 from its start.
func (tr *textRead) open() io.Reader {
	var r io.Reader = io.NewSectionReader(tr.r, tr.start, tr.end-tr.start)
	if tr.enc.dec != nil {
		r = transform.NewReader(r, tr.enc.dec.NewDecoder())
	}
	return r
}

// header reads the first row: its fields, and the bytes of text up to the
// row after it. It gives no fields for a text with no row.
func (tr *textRead) header() ([]string, int64, error) {
	r := tr.open()
	buf := make([]byte, 0, 64<<10)
	for {
		n, err := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		eof := err == io.EOF || err == io.ErrUnexpectedEOF
		if err != nil && !eof {
			return nil, 0, err
		}
		p := tr.p
		fields, end, ok := p.first(buf, eof && !tr.cut)
		if ok {
			return fields, int64(end), nil
		}
		if eof && tr.cut && len(bytes.TrimSpace(buf)) > 0 {
			return nil, 0, fmt.Errorf("the first row is longer than the %s read", FormatSize(tr.end))
		}
		if eof {
			return nil, 0, nil
		}
		if cap(buf) >= maxHeaderBytes {
			return nil, 0, fmt.Errorf("the first row is over %s", FormatSize(maxHeaderBytes))
		}
		nb := make([]byte, len(buf), 4*cap(buf))
		copy(nb, buf)
		buf = nb
	}
}

// chunkResult is what parsing one chunk of rows gives.
type chunkResult struct {
	idx   int
	bytes int
	cols  []*colData
	stats chunkStats
	err   error
	value any // what a scan's work made of the chunk
}

type chunkStats struct {
	rows                  int
	short, long           int
	firstShort, firstLong int // rows, from 1, in the chunk
	unclosed              int // the row, from 1, whose quote never closes, or 0
}

// parseChunk parses a chunk of rows into columns of its own (those kept):
// a column whose cells disagree on a type is parsed again as text.
func (tr *textRead) parseChunk(idx int, data []byte) *chunkResult {
	width := tr.p.width
	n := bytes.Count(data, []byte{'\n'}) + 1
	res := &chunkResult{idx: idx, bytes: len(data), cols: make([]*colData, width)}
	for j := range res.cols {
		if tr.keep == nil || tr.keep[j] {
			res.cols[j] = newChunkCol(n, false)
		}
	}
	p := tr.p
	res.stats = p.parse(data, res.cols)
	var again []*colData
	for j, c := range res.cols {
		if c != nil && c.kind == kConflict {
			if again == nil {
				again = make([]*colData, width)
			}
			again[j] = newChunkCol(n, true)
			res.cols[j] = again[j]
		}
	}
	if again != nil {
		p.parse(data, again)
	}
	return res
}

// read parses the rows after the header into columns, and says what it
// mended.
func (tr *textRead) read() ([]*joined, []string, error) {
	width := tr.p.width
	cols := make([]*joined, width)
	for i := range cols {
		if tr.keep == nil || tr.keep[i] {
			cols[i] = &joined{}
		}
	}
	var stats readStats
	bytesRead, reserved := 0, false
	err := tr.pipeline(tr.parseChunk, func(res *chunkResult) error {
		stats.add(res.stats)
		rows := stats.rows
		bytesRead += res.bytes
		if !reserved && bytesRead > 0 {
			// Room for the rows the rest of the text likely holds, so that
			// the columns grow once.
			est := int(float64(rows)*float64(tr.estBytes-tr.skip)/float64(bytesRead)*1.02) + 16
			for _, c := range cols {
				if c != nil {
					c.reserve(est)
				}
			}
			reserved = true
		}
		for j, c := range res.cols {
			if c != nil {
				cols[j].join(c, res.idx)
				c.release()
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	again := false
	for _, c := range cols {
		if c != nil {
			c.resolveDates()
			again = again || len(c.pending) > 0
		}
	}
	if again {
		if err := tr.reread(cols); err != nil {
			return nil, nil, err
		}
	}
	return cols, stats.warnings(width), nil
}

// readStats adds up the chunks' counts of rows and of what was mended,
// in order.
type readStats struct {
	total chunkStats
	rows  int
}

func (rs *readStats) add(st chunkStats) {
	total := &rs.total
	if st.short > 0 && total.short == 0 {
		total.firstShort = rs.rows + st.firstShort
	}
	if st.long > 0 && total.long == 0 {
		total.firstLong = rs.rows + st.firstLong
	}
	if st.unclosed > 0 && total.unclosed == 0 {
		total.unclosed = rs.rows + st.unclosed
	}
	total.short += st.short
	total.long += st.long
	rs.rows += st.rows
}

// warnings says what was mended in a table of width columns.
func (rs *readStats) warnings(width int) []string {
	total := rs.total
	var warnings []string
	if total.short > 0 {
		warnings = append(warnings, fmt.Sprintf("%d %s fewer than the header's %d fields (the first is row %d); the cells they lack are missing",
			total.short, plural2(total.short, "row has", "rows have"), width, total.firstShort))
	}
	if total.long > 0 {
		warnings = append(warnings, fmt.Sprintf("%d %s more than the header's %d fields (the first is row %d); the extra cells are left out",
			total.long, plural2(total.long, "row has", "rows have"), width, total.firstLong))
	}
	if total.unclosed > 0 {
		warnings = append(warnings, fmt.Sprintf("a quote in row %d never closes; the rest of the file is read as its cell", total.unclosed))
	}
	return warnings
}

func plural2(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// reread reads again, as text, the chunks of the columns that turned out
// to be text after some chunks were read as another type.
func (tr *textRead) reread(cols []*joined) error {
	want := map[int][]int{} // chunk: columns
	for j, c := range cols {
		if c == nil {
			continue
		}
		for _, p := range c.pending {
			want[p.chunk] = append(want[p.chunk], j)
		}
	}
	return tr.pipeline(func(idx int, data []byte) *chunkResult {
		js, ok := want[idx]
		if !ok {
			return &chunkResult{idx: idx}
		}
		n := bytes.Count(data, []byte{'\n'}) + 1
		res := &chunkResult{idx: idx, cols: make([]*colData, tr.p.width)}
		for _, j := range js {
			res.cols[j] = newChunkCol(n, true)
		}
		p := tr.p
		p.parse(data, res.cols)
		return res
	}, func(res *chunkResult) error {
		for j, cc := range res.cols {
			if cc == nil {
				continue
			}
			c := cols[j]
			var pt *part
			for i := range c.pending {
				if c.pending[i].chunk == res.idx {
					pt = &c.pending[i]
				}
			}
			if pt == nil || pt.n != cc.n {
				return errors.New("reading the table again gave other rows")
			}
			remap := make([]uint32, cc.dict.len())
			for code := range remap {
				remap[code] = c.dict.add(cc.dict.bytes(uint32(code)))
			}
			for i, code := range cc.codes {
				if !bitGet(cc.miss, i) {
					c.codes[pt.off+i] = remap[code]
				}
			}
			cc.release()
		}
		return nil
	})
}

// pipeline splits the text into chunks of whole rows, has work parse them
// on frameWorkers goroutines, and hands the results to merge in order. At
// most frameWorkers+2 chunks are held at a time.
func (tr *textRead) pipeline(work func(idx int, data []byte) *chunkResult, merge func(*chunkResult) error) error {
	workers := max(frameWorkers, 1)
	free := make(chan []byte, workers+2)
	for range workers + 2 {
		free <- nil
	}
	type chunk struct {
		idx       int
		buf, data []byte
	}
	chunks := make(chan chunk, workers)
	results := make(chan *chunkResult, workers+2)
	done := make(chan struct{})
	var readErr error
	go func() {
		defer close(chunks)
		readErr = tr.split(free, done, func(idx int, buf, data []byte) bool {
			select {
			case chunks <- chunk{idx, buf, data}:
				return true
			case <-done:
				return false
			}
		})
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range chunks {
				res := safeWork(work, c.idx, c.data)
				free <- c.buf
				results <- res
			}
		}()
	}
	go func() {
		wg.Wait()
		close(results)
	}()
	pending := map[int]*chunkResult{}
	next := 0
	var err error
	for res := range results {
		if err != nil {
			continue
		}
		pending[res.idx] = res
		for err == nil {
			r, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			if err = r.err; err == nil {
				err = merge(r)
			}
			if err != nil {
				close(done)
			}
		}
	}
	if err == nil {
		err = readErr
	}
	for len(free) > 0 {
		poolBlocks.put(<-free)
	}
	return err
}

// safeWork runs work, turning a panic into an error: a table that breaks
// the reader fails to read, and takes nothing else down.
func safeWork(work func(int, []byte) *chunkResult, idx int, data []byte) (res *chunkResult) {
	defer func() {
		if r := recover(); r != nil {
			res = &chunkResult{idx: idx, err: fmt.Errorf("reading the table failed: %v", r)}
		}
	}()
	return work(idx, data)
}

// split reads the text after the header in blocks, each cut after the
// last row that ends in it, and hands each to emit with the buffer that
// holds it, taken from free. It stops when emit gives false.
func (tr *textRead) split(free chan []byte, done <-chan struct{}, emit func(idx int, buf, data []byte) bool) error {
	r := tr.open()
	if _, err := io.CopyN(io.Discard, r, tr.skip); err != nil {
		if err == io.EOF {
			return nil
		}
		return err
	}
	var carry []byte
	idx := 0
	for eof := false; !eof; {
		var buf []byte
		select {
		case buf = <-free:
		case <-done:
			return nil
		}
		// The blocks depend on the text and frameBlockSize alone, never on
		// the buffers at hand: reading again (see reread) must give the same
		// chunks.
		size := max(frameBlockSize, 2*len(carry))
		if cap(buf) < size {
			poolBlocks.put(buf)
			buf = poolBlocks.get(0, size)
		}
		buf = append(buf[:0], carry...)
		cut := 0
		for {
			n, err := io.ReadFull(r, buf[len(buf):size])
			buf = buf[:len(buf)+n]
			eof = err == io.EOF || err == io.ErrUnexpectedEOF
			if err != nil && !eof {
				return err
			}
			if eof && !tr.cut {
				cut = len(buf)
				break
			}
			if cut = safeSplit(buf, tr.p.sep); cut > 0 || eof {
				break
			}
			if size *= 2; cap(buf) < size {
				nb := make([]byte, len(buf), size)
				copy(nb, buf)
				buf = nb
			}
		}
		carry = append(carry[:0], buf[cut:]...)
		if cut == 0 {
			free <- buf
			continue
		}
		if !emit(idx, buf, buf[:cut]) {
			return nil
		}
		idx++
	}
	return nil
}

// safeSplit gives the length of the longest prefix of buf made of whole
// rows: just past the last newline outside quotes, or 0. A quote opens a
// quoted field only at a field's start; inside one, a quote followed by
// another is a quote, and one followed by the separator or a line end
// closes it (the parser reads quotes so).
func safeSplit(buf []byte, sep byte) int {
	n, last, i := len(buf), 0, 0
	for {
		k := bytes.IndexByte(buf[i:], '"')
		if k < 0 {
			if j := bytes.LastIndexByte(buf[i:], '\n'); j >= 0 {
				last = i + j + 1
			}
			return last
		}
		q := i + k
		if j := bytes.LastIndexByte(buf[i:q], '\n'); j >= 0 {
			last = i + j + 1
		}
		i = q + 1
		if q > 0 && buf[q-1] != sep && buf[q-1] != '\n' {
			continue // a quote inside an unquoted field is a character
		}
	quoted:
		for {
			k := bytes.IndexByte(buf[i:], '"')
			if k < 0 {
				return last
			}
			i += k + 1
			if i >= n {
				return last
			}
			switch c := buf[i]; {
			case c == '"':
				i++
			case c == sep:
				i++
				break quoted
			case c == '\n':
				i++
				last = i
				break quoted
			case c == '\r':
				if i+1 >= n {
					return last
				}
				i++
				if buf[i] == '\n' {
					i++
					last = i
					break quoted
				}
			default:
				i++ // a stray quote: the field goes on
			}
		}
	}
}

// parser reads the fields of rows.
type parser struct {
	sep, dec byte
	width    int
	scratch  []byte
	unclosed bool
}

// first reads the first row of buf: its fields and where it ends. It
// gives false when buf holds no whole row, which is only at the end of the
// text if there is no row at all.
func (p *parser) first(buf []byte, eof bool) ([]string, int, bool) {
	pos, n := 0, len(buf)
	for pos < n && (buf[pos] == '\n' || buf[pos] == '\r' && (pos+1 == n || buf[pos+1] == '\n')) {
		pos++
	}
	if pos == n {
		return nil, 0, false
	}
	var fields []string
	p.unclosed = false
	for {
		f, next, end := p.field(buf, pos)
		pos = next
		fields = append(fields, strings.ToValidUTF8(string(f), "\uFFFD"))
		if end {
			break
		}
	}
	if !eof && (p.unclosed || buf[pos-1] != '\n') {
		return nil, 0, false
	}
	return fields, pos, true
}

// parse reads the rows of data into cols: each row's first width fields,
// the fields past the end of a short row missing. A nil column is
// skipped.
func (p *parser) parse(data []byte, cols []*colData) (st chunkStats) {
	n, pos, w := len(data), 0, p.width
	sep, dec := p.sep, p.dec
	for pos < n {
		if c := data[pos]; c == '\n' || c == '\r' && (pos+1 == n || data[pos+1] == '\n') {
			pos++
			continue
		}
		st.rows++
		p.unclosed = false
		col := 0
		for {
			// A plain int, float, date or text cell is read straight from
			// data; any other goes through field and add.
			var c *colData
			if col < w {
				c = cols[col]
			}
			var next int
			var end, ok bool
			if c != nil {
				switch c.kind {
				case kInt, kFloat:
					if pos+18 <= n {
						// A minus sign, up to 7 digits, a decimal mark, up to
						// 7 more: two words, eight digits at a time.
						j := pos
						if data[j] == '-' {
							j++
						}
						w := binary.LittleEndian.Uint64(data[j:])
						k := leadingDigits(w)
						if k > 0 && k < 8 {
							mant := eightDigits(w, k)
							i, frac := j+k, 0
							if data[i] == dec && c.kind == kFloat {
								w = binary.LittleEndian.Uint64(data[i+1:])
								if frac = leadingDigits(w); frac < 8 {
									mant = mant*uint64(pow10[frac]) + eightDigits(w, frac)
									i += 1 + frac
								} else {
									frac = -1
								}
							}
							if frac >= 0 {
								if next, end, ok = cellEnd(data, i, sep); ok {
									if c.kind == kInt {
										v := int64(mant)
										if j > pos {
											v = -v
										}
										c.ints = append(c.ints, v)
									} else {
										v := float64(mant) / pow10[frac]
										if j > pos {
											v = -v
										}
										c.floats = append(c.floats, v)
									}
									c.n++
									break
								}
							}
						}
					}
					i := pos
					neg := i < n && data[i] == '-'
					if neg {
						i++
					}
					var mant uint64
					start := i
					for i < n && data[i]-'0' <= 9 {
						mant = mant*10 + uint64(data[i]-'0')
						i++
					}
					digits, frac := i-start, 0
					if i < n && data[i] == dec && c.kind == kFloat {
						i++
						start = i
						for i < n && data[i]-'0' <= 9 {
							mant = mant*10 + uint64(data[i]-'0')
							i++
						}
						frac = i - start
						digits += frac
					}
					if digits == 0 || digits > 15 {
						break
					}
					if next, end, ok = cellEnd(data, i, sep); !ok {
						break
					}
					if c.kind == kInt {
						v := int64(mant)
						if neg {
							v = -v
						}
						c.ints = append(c.ints, v)
					} else {
						v := float64(mant) / pow10[frac]
						if neg {
							v = -v
						}
						c.floats = append(c.floats, v)
					}
					c.n++
				case kDate:
					if pos+10 > n {
						break
					}
					b := data[pos : pos+10]
					if b[4] != '-' || b[7] != '-' {
						break
					}
					y0, y1, y2, y3 := b[0]-'0', b[1]-'0', b[2]-'0', b[3]-'0'
					m0, m1, d0, d1 := b[5]-'0', b[6]-'0', b[8]-'0', b[9]-'0'
					if y0 > 9 || y1 > 9 || y2 > 9 || y3 > 9 || m0 > 9 || m1 > 9 || d0 > 9 || d1 > 9 {
						break
					}
					days, valid := isoDays(int(y0)*1000+int(y1)*100+int(y2)*10+int(y3), int(m0)*10+int(m1), int(d0)*10+int(d1))
					if !valid {
						break
					}
					if next, end, ok = cellEnd(data, pos+10, sep); !ok {
						break
					}
					c.days = append(c.days, days)
					c.n++
				case kText:
					if pos < n && data[pos] == '"' {
						break
					}
					var i int
					var w0, w1 uint64
					short := false
					if pos+16 <= n {
						// Most cells are short: two words hold the cell and
						// its end, and are the dictionary's cache key.
						w0, w1 = binary.LittleEndian.Uint64(data[pos:]), binary.LittleEndian.Uint64(data[pos+8:])
						seps := lows * uint64(sep)
						x0, y0 := w0^seps, w0^(lows*'\n')
						x1, y1 := w1^seps, w1^(lows*'\n')
						if t := ((x0-lows)&^x0 | (y0-lows)&^y0) & highs; t != 0 {
							k := bits.TrailingZeros64(t) / 8
							i, short = pos+k, true
							w0, w1 = w0&byteMask(k), 0
						} else if t := ((x1-lows)&^x1 | (y1-lows)&^y1) & highs; t != 0 {
							k := bits.TrailingZeros64(t) / 8
							i, short = pos+8+k, true
							w1 &= byteMask(k)
						} else {
							i = cellStop(data, pos+16, sep)
						}
					} else {
						i = cellStop(data, pos, sep)
					}
					f := data[pos:i]
					switch {
					case i == n:
						next, end = n, true
					case data[i] == sep:
						next = i + 1
					default:
						next, end = i+1, true
					}
					if end && len(f) > 0 && f[len(f)-1] == '\r' {
						f = f[:len(f)-1]
						short = false
					}
					ok = true
					if (len(f) <= 4 || f[0] == ' ' || f[0] == '\t' || f[len(f)-1] == ' ' || f[len(f)-1] == '\t') && missingMarker(trimSpace(f)) {
						c.addMissing()
						break
					}
					if short {
						c.codes = append(c.codes, c.dict.addShort(f, w0, w1))
					} else {
						c.codes = append(c.codes, c.dict.add(f))
					}
					c.n++
				}
			}
			if !ok {
				var f []byte
				f, next, end = p.field(data, pos)
				if c != nil {
					c.add(f, dec)
				}
			}
			pos = next
			col++
			if end {
				break
			}
		}
		if p.unclosed && st.unclosed == 0 {
			st.unclosed = st.rows
		}
		switch {
		case col < w:
			for _, c := range cols[col:] {
				if c != nil {
					c.addMissing()
				}
			}
			if st.short == 0 {
				st.firstShort = st.rows
			}
			st.short++
		case col > w:
			if st.long == 0 {
				st.firstLong = st.rows
			}
			st.long++
		}
	}
	return st
}

// field reads the field at data[pos:]: its text (a quoted one unquoted),
// where the next one starts, and whether it ends the row.
func (p *parser) field(data []byte, pos int) (f []byte, next int, end bool) {
	n := len(data)
	if pos < n && data[pos] == '"' {
		return p.quoted(data, pos+1)
	}
	start, sep := pos, p.sep
	if pos = cellStop(data, pos, sep); pos < n {
		if data[pos] == sep {
			return data[start:pos], pos + 1, false
		}
		f = data[start:pos]
		if len(f) > 0 && f[len(f)-1] == '\r' {
			f = f[:len(f)-1]
		}
		return f, pos + 1, true
	}
	f = data[start:]
	if len(f) > 0 && f[len(f)-1] == '\r' {
		f = f[:len(f)-1]
	}
	return f, n, true
}

// quoted reads a quoted field from just past its opening quote. A field
// with no quote or CR inside is a slice of data; others are copied.
func (p *parser) quoted(data []byte, pos int) (f []byte, next int, end bool) {
	n := len(data)
	if k := bytes.IndexByte(data[pos:], '"'); k >= 0 {
		q := pos + k
		if bytes.IndexByte(data[pos:q], '\r') < 0 {
			if q+1 == n {
				return data[pos:q], n, true
			}
			switch data[q+1] {
			case p.sep:
				return data[pos:q], q + 2, false
			case '\n':
				return data[pos:q], q + 2, true
			}
		}
	}
	out := p.scratch[:0]
	defer func() { p.scratch = out[:0] }()
	for {
		k := bytes.IndexByte(data[pos:], '"')
		if k < 0 {
			p.unclosed = true
			seg := data[pos:]
			if len(seg) > 0 && seg[len(seg)-1] == '\r' {
				seg = seg[:len(seg)-1]
			}
			out = appendLF(out, seg)
			return out, n, true
		}
		q := pos + k
		out = appendLF(out, data[pos:q])
		if q+1 >= n {
			return out, n, true
		}
		switch c := data[q+1]; {
		case c == p.sep:
			return out, q + 2, false
		case c == '\n':
			return out, q + 2, true
		case c == '\r' && q+2 == n:
			return out, n, true
		case c == '\r' && data[q+2] == '\n':
			return out, q + 3, true
		case c == '"':
			out = append(out, '"')
		default: // a stray quote is kept, with what follows it
			out = append(out, '"', c)
		}
		pos = q + 2
	}
}

// appendLF appends seg to out with each CRLF made LF.
func appendLF(out, seg []byte) []byte {
	for {
		i := bytes.Index(seg, []byte("\r\n"))
		if i < 0 {
			return append(out, seg...)
		}
		out = append(append(out, seg[:i]...), '\n')
		seg = seg[i+2:]
	}
}

// cellEnd tells whether a cell ends at data[i]: at the separator, a line
// end or the end of data; and where the next cell starts, and whether the
// row ended.
func cellEnd(data []byte, i int, sep byte) (next int, end, ok bool) {
	if i == len(data) {
		return i, true, true
	}
	switch data[i] {
	case sep:
		return i + 1, false, true
	case '\n':
		return i + 1, true, true
	case '\r':
		if i+1 < len(data) && data[i+1] == '\n' {
			return i + 2, true, true
		}
	}
	return 0, false, false
}

const (
	lows  = 0x0101010101010101
	highs = 0x8080808080808080
)

// cellStop gives the first i from pos at which data holds sep or a
// newline, or len(data); it tests eight bytes at a time.
func cellStop(data []byte, i int, sep byte) int {
	seps := lows * uint64(sep)
	for ; i+8 <= len(data); i += 8 {
		w := binary.LittleEndian.Uint64(data[i:])
		x, y := w^seps, w^(lows*'\n')
		// A byte of x or y is zero where w holds sep or a newline; the
		// lowest byte flagged is the first such.
		if t := ((x-lows)&^x | (y-lows)&^y) & highs; t != 0 {
			return i + bits.TrailingZeros64(t)/8
		}
	}
	for i < len(data) && data[i] != sep && data[i] != '\n' {
		i++
	}
	return i
}

// leadingDigits counts the ASCII digits w's bytes start with, up to 8.
func leadingDigits(w uint64) int {
	// A byte's high bit is set where it is above '9' (adding 0x46) or below
	// '0' (taking 0x30 away); carries and borrows only reach bytes above
	// the first such.
	t := ((w + 0x4646464646464646) | (w - 0x3030303030303030)) & highs
	return bits.TrailingZeros64(t) / 8
}

// eightDigits reads the first k (up to 8) bytes of w, digits, as a
// decimal number.
func eightDigits(w uint64, k int) uint64 {
	if k == 0 {
		return 0
	}
	w = (w - 0x3030303030303030) << (8 * uint(8-k)) // leading zeros fill the low bytes
	w = w*10 + w>>8
	return ((w&0x000000FF000000FF)*(100+1000000<<32) + (w>>16&0x000000FF000000FF)*(1+10000<<32)) >> 32
}
