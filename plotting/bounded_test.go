package plotting

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Previews of files made to hurt: each must give its exact text within
// 64 MB of allocation, quickly, and write nothing to TMPDIR.
func TestPreviewBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes some 1.5 GB through compressors")
	}
	dir := t.TempDir()
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)

	commas := strings.Repeat(", ", 30)
	var wideHead, wideRow []string
	for i := range 100_000 {
		wideHead = append(wideHead, fmt.Sprint("c", i))
		wideRow = append(wideRow, "1")
	}
	inline := func(ref, s string) string {
		return `<c r="` + ref + `" t="inlineStr"><is><t>` + s + `</t></is></c>`
	}
	sheet := func(rows string) string {
		return `<worksheet xmlns="` + nsMain + `"><sheetData>` + rows + `</sheetData></worksheet>`
	}
	rowHead := `<worksheet xmlns="` + nsMain + `"><sheetData><row r="1">`
	var sheets10k []string
	parts10k := map[string]string{}
	for i := 1; i <= 10_000; i++ {
		sheets10k = append(sheets10k, fmt.Sprint("Sheet", i))
		parts10k[fmt.Sprintf("xl/worksheets/sheet%d.xml", i)] = sheet(`<row r="1">` + inline("A1", fmt.Sprint("Sheet", i)) + `</row>`)
	}
	// A sheet list of n sheets, only the first 5 of them with parts.
	listed := func(n int) map[string]string {
		var list, rels strings.Builder
		list.WriteString(`<workbook xmlns="` + nsMain + `" xmlns:r="` + nsRel + `"><sheets>`)
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&list, `<sheet name="Sheet%d" sheetId="%[1]d" r:id="rId%[1]d"/>`, i)
		}
		list.WriteString(`</sheets></workbook>`)
		rels.WriteString(`<Relationships xmlns="` + nsPkg + `">`)
		parts := map[string]string{"xl/workbook.xml": list.String()}
		for i := 1; i <= 5; i++ {
			fmt.Fprintf(&rels, `<Relationship Id="rId%d" Type="%s/worksheet" Target="worksheets/sheet%[1]d.xml"/>`, i, nsRel)
			parts[fmt.Sprintf("xl/worksheets/sheet%d.xml", i)] = sheet(`<row r="1">` + inline("A1", fmt.Sprint("Sheet", i)) + `</row>`)
		}
		parts["xl/_rels/workbook.xml.rels"] = rels.String() + `</Relationships>`
		return parts
	}
	parts50k, parts100k := listed(50_000), listed(100_000)
	fiveSheets := ""
	for i := 1; i <= 5; i++ {
		fiveSheets += fmt.Sprintf("sheet \"Sheet%d\" columns (1): Sheet%[1]d\n", i)
	}
	cellBytes := len(`<c><v>1</v></c>`)
	endless := (maxSheetXML - len(rowHead)) / cellBytes

	cases := []struct {
		name string
		file string
		make func(p string)
		want string
	}{
		{"one line of commas, 32 MiB", "commas.csv",
			func(p string) { writeRepeat(t, p, "", ",", "", 32<<20) },
			"columns (1048577): " + commas + "… 1048547 more\n  … preview stops after the first 1.0 MB\n"},
		{"one field of 50 MB", "field.csv",
			func(p string) { writeRepeat(t, p, "", "x", "", 50_000_000) },
			"columns (1): " + strings.Repeat("x", 40) + "…\n  … preview stops after the first 1.0 MB\n"},
		{"a quoted row field of 50 MB", "quoted.csv",
			func(p string) { writeRepeat(t, p, "id,text\n1,\"", "x", "\"\n2,y\n", 50_000_000) },
			"columns (2): id, text\n  … preview stops after the first 1.0 MB\n"},
		{"UTF-16 LE, 32 MiB of separators", "commas16.csv",
			func(p string) { writeRepeat(t, p, "\xff\xfe", ",\x00", "", 32<<20) },
			"read_csv: encoding='utf-16'\ncolumns (524288): " + commas + "… 524258 more\n  … preview stops after the first 1.0 MB\n"},
		{"UTF-16 BE without BOM, one field of 50 MB", "field16.csv",
			func(p string) { writeRepeat(t, p, "", "\x00x", "", 50_000_000) },
			"read_csv: encoding='utf-16-be'\ncolumns (1): " + strings.Repeat("x", 40) + "…\n  … preview stops after the first 1.0 MB\n"},
		{"UTF-16 LE, 32 MiB of quotes", "quotes16.csv",
			func(p string) { writeRepeat(t, p, "\xff\xfe", "\"\x00", "", 32<<20) },
			"read_csv: encoding='utf-16'\ncolumns (1): " + strings.Repeat(`"`, 40) + "…\n  … preview stops after the first 1.0 MB\n"},
		{"Windows-1252, a quoted row field of 50 MB of €", "euro.csv",
			func(p string) { writeRepeat(t, p, "id,text\n1,\"", "\x80", "\"\n2,y\n", 50_000_000) },
			"read_csv: encoding='cp1252'\ncolumns (2): id, text\n  … preview stops after the first 1.0 MB\n"},
		{"100,000 columns", "wide.csv",
			func(p string) {
				os.WriteFile(p, []byte(strings.Join(wideHead, ",")+"\n"+strings.Join(wideRow, ",")+"\n"), 0o600)
			},
			"columns (100000): " + strings.Join(wideHead[:30], ", ") + ", … 99970 more\n  " + strings.Join(wideRow[:30], " | ") + " | … 99970 more\n"},
		{"zip bomb: a 500 MB sheet", "bomb.xlsx",
			func(p string) {
				writeXLSX(t, p, []string{"Sheet1"}, nil, bigPart{"xl/worksheets/sheet1.xml",
					repeat(`<worksheet xmlns="`+nsMain+`"><sheetData><row r="1">`+inline("A1", "a")+inline("B1", "b")+`</row>`,
						`<row><c><v>1</v></c><c><v>2</v></c></row>`, `</sheetData></worksheet>`, 500<<20)})
			},
			"sheets: Sheet1\nsheet \"Sheet1\" columns (2): a, b\n" + strings.Repeat("  1 | 2\n", 5)},
		{"zip bomb: one endless row", "row.xlsx",
			func(p string) {
				writeXLSX(t, p, []string{"Sheet1"}, nil, bigPart{"xl/worksheets/sheet1.xml",
					repeat(rowHead, `<c><v>1</v></c>`, `</row></sheetData></worksheet>`, 500<<20)})
			},
			fmt.Sprintf("sheets: Sheet1\nsheet \"Sheet1\" columns (%d): %s… %d more\n  … preview stops after the first 4.2 MB of the sheet's XML\n",
				endless, strings.Repeat("1, ", 30), endless-30)},
		{"zip bomb: 500 MB of shared strings", "strings.xlsx",
			func(p string) {
				writeXLSX(t, p, []string{"Sheet1"}, map[string]string{"xl/worksheets/sheet1.xml": sheet(
					`<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>20000000</v></c></row>`)},
					bigPart{"xl/sharedStrings.xml", repeat(`<sst xmlns="`+nsMain+`"><si><t>a</t></si><si><t>b</t></si>`, `<si><t>s</t></si>`, `</sst>`, 500<<20)})
			},
			"sheets: Sheet1\nsheet \"Sheet1\" columns (3): a, b, …\n  … text cells shown as … hold shared strings past what the preview reads\n"},
		{"zip bomb: 500 MB of styles", "styles.xlsx",
			func(p string) {
				writeXLSX(t, p, []string{"Sheet1"}, map[string]string{"xl/worksheets/sheet1.xml": sheet(
					`<row r="1">` + inline("A1", "p") + inline("B1", "q") + `</row><row r="2"><c r="A2" s="1"><v>0.5</v></c><c r="B2" s="50000000"><v>0.25</v></c></row>`)},
					bigPart{"xl/styles.xml", repeat(`<styleSheet xmlns="`+nsMain+`"><cellXfs><xf numFmtId="0"/><xf numFmtId="10"/>`, `<xf numFmtId="9"/>`, `</cellXfs></styleSheet>`, 500<<20)})
			},
			"sheets: Sheet1\nsheet \"Sheet1\" columns (2): p, q\n  50.00% | 0.25\n"},
		{"10,000 sheets", "sheets.xlsx",
			func(p string) { writeXLSX(t, p, sheets10k, parts10k) },
			"sheets: " + strings.Join(sheets10k[:30], ", ") + ", … 9970 more\n" + fiveSheets},
		{"50,000 sheets listed", "list.xlsx",
			func(p string) { writeXLSX(t, p, nil, parts50k) },
			"sheets: " + strings.Join(sheets10k[:30], ", ") + ", … 49970 more\n" + fiveSheets},
		{"100,000 sheets listed", "list.xlsx",
			func(p string) { writeXLSX(t, p, nil, parts100k) },
			fmt.Sprintf("preview skipped: xl/workbook.xml unpacks to %s\n", FormatSize(int64(len(parts100k["xl/workbook.xml"]))))},
		{"100,000 zip entries", "entries.xlsx",
			func(p string) {
				extra := map[string]string{"xl/worksheets/sheet1.xml": sheet("")}
				for i := range 100_000 {
					extra[fmt.Sprintf("xl/media/m%d.bin", i)] = ""
				}
				writeXLSX(t, p, []string{"Sheet1"}, extra)
			},
			"preview skipped: its zip directory is over 1.0 MB\n"},
		{"a workbook over the size cap", "huge.xlsx",
			func(p string) {
				f, err := os.Create(p)
				if err == nil {
					err = f.Truncate(812_000_000) // sparse: no disk used
					f.Close()
				}
				if err != nil {
					t.Fatal(err)
				}
			},
			"preview skipped: 812.0 MB\n"},
	}
	for _, c := range cases {
		p := filepath.Join(dir, c.file)
		c.make(p)
		fi, _ := os.Stat(p)
		var got string
		var err error
		start := time.Now()
		alloc := allocated(func() { got, err = PreviewFile(p, 5) })
		took := time.Since(start)
		t.Logf("%s: %s file, %.1f MB allocated, %v", c.name, FormatSize(fi.Size()), float64(alloc)/1e6, took.Round(time.Millisecond))
		if err != nil || got != c.want {
			t.Errorf("%s: got %q, %v\nwant %q", c.name, got, err, c.want)
		}
		if alloc > 64<<20 {
			t.Errorf("%s: %d bytes allocated", c.name, alloc)
		}
		if took > 10*time.Second {
			t.Errorf("%s: took %v", c.name, took)
		}
		if left, _ := os.ReadDir(tmp); len(left) > 0 {
			t.Errorf("%s: left %s in TMPDIR", c.name, left[0].Name())
		}
		os.Remove(p)
	}
}

// allocated gives the bytes fn allocates.
func allocated(fn func()) uint64 {
	runtime.GC()
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	fn()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// writeRepeat writes head, body repeated up to size bytes, then tail.
func writeRepeat(t *testing.T, p, head, body, tail string, size int) {
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := repeat(head, body, tail, size)(f); err != nil {
		t.Fatal(err)
	}
}

// Malformed workbooks give a short error, not a panic or a hang.
func TestReadXLSXMalformed(t *testing.T) {
	dir := t.TempDir()
	sheetOf := func(cells string) map[string]string {
		return map[string]string{"xl/worksheets/sheet1.xml": `<worksheet xmlns="` + nsMain + `"><sheetData><row r="1">` + cells + `</row></sheetData></worksheet>`}
	}
	cases := []struct {
		name    string
		make    func(p string)
		want    string
		wantErr string
	}{
		{"not a zip", func(p string) { os.WriteFile(p, []byte("name,value\n"), 0o600) },
			"", "not a valid workbook: zip: not a valid zip file"},
		{"a part bigger than its header says", func(p string) { writeLyingZip(t, p) },
			"", "not a valid workbook: xl/workbook.xml: zip: not a valid zip file"},
		{"a negative shared string index", func(p string) {
			writeXLSX(t, p, []string{"S"}, sheetOf(`<c r="A1" t="s"><v>-1</v></c><c r="B1"><v>2</v></c>`))
		}, "sheets: S\nsheet \"S\" columns (2): …, 2\n  … text cells shown as … hold shared strings past what the preview reads\n", ""},
		{"a sheet cut mid-tag", func(p string) {
			writeXLSX(t, p, []string{"S"}, map[string]string{"xl/worksheets/sheet1.xml": `<worksheet><sheetData><row r="1"><c r="A1"><v>1</v></c><c r="B1" t="`})
		}, "", "not a valid workbook: xl/worksheets/sheet1.xml: unexpected EOF"},
		{"a missing sheet part", func(p string) { writeXLSX(t, p, []string{"Gone"}, nil) },
			"sheets: Gone\nsheet \"Gone\" columns (0): \n", ""},
		{"a sheet name 1 MB long", func(p string) {
			name := strings.Repeat("n", 1<<20)
			writeXLSX(t, p, []string{name}, sheetOf(`<c r="A1"><v>1</v></c>`))
		}, "sheets: " + strings.Repeat("n", 40) + "…\nsheet \"" + strings.Repeat("n", 40) + "…\" columns (1): 1\n", ""},
		{"a bad number format", func(p string) {
			extra := sheetOf(`<c r="A1" s="1"><v>1.5</v></c>`)
			extra["xl/styles.xml"] = `<styleSheet xmlns="` + nsMain + `"><numFmts><numFmt numFmtId="200" formatCode="[&lt;&lt;&lt;]&quot;;;;;0.0.0.%%%"/></numFmts><cellXfs><xf/><xf numFmtId="200"/></cellXfs></styleSheet>`
			writeXLSX(t, p, []string{"S"}, extra)
		}, "sheets: S\nsheet \"S\" columns (1): 1.5\n", ""},
	}
	for _, c := range cases {
		p := filepath.Join(dir, "book.xlsx")
		c.make(p)
		got, err := PreviewFile(p, 5)
		if c.wantErr != "" && (err == nil || err.Error() != c.wantErr) || c.wantErr == "" && err != nil || got != c.want {
			t.Errorf("%s: got %q, %v\nwant %q, %q", c.name, got, err, c.want, c.wantErr)
		}
		os.Remove(p)
	}
}

// writeLyingZip writes a workbook whose xl/workbook.xml says it unpacks to
// 100 bytes and unpacks to 20 MB.
func writeLyingZip(t *testing.T, p string) {
	var packed bytes.Buffer
	fw, _ := flate.NewWriter(&packed, flate.BestCompression)
	big := bytes.Repeat([]byte("<a/>"), 5<<20)
	fw.Write(big)
	fw.Close()
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zw := zip.NewWriter(f)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: "xl/workbook.xml", Method: zip.Deflate,
		CRC32: crc32.ChecksumIEEE(big[:100]), CompressedSize64: uint64(packed.Len()), UncompressedSize64: 100})
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(w, &packed)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
}
