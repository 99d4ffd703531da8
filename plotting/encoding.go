package plotting

import (
	"bytes"
	"errors"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

// The encodings a text table is read in, as Table.Encoding names them.
const (
	EncodingUTF8    = "UTF-8"
	EncodingUTF8BOM = "UTF-8 with BOM"
	EncodingUTF16LE = "UTF-16 LE"
	EncodingUTF16BE = "UTF-16 BE"
	EncodingCP1252  = "Windows-1252"
	EncodingLatin1  = "Latin-1"
)

// textEncoding is how a text table's bytes are read.
type textEncoding struct {
	name   string            // as Table.Encoding gives it
	python string            // the codec pandas reads it with, or "" for its default
	dec    encoding.Encoding // nil for UTF-8
	bom    int               // bytes of byte order mark to skip
}

var errNotText = errors.New("not text: it holds NUL bytes")

// detectEncoding tells the encoding of a text from its first bytes: a
// byte order mark (UTF-8, UTF-16 LE or BE); else UTF-16 without one, by
// where its NUL bytes fall; else UTF-8 if it is valid; else Windows-1252
// or Latin-1, whichever reads its bytes 0x80 to 0x9F as Python would.
// Binary data (NUL bytes in what is not UTF-16) is refused.
func detectEncoding(head []byte) (textEncoding, error) {
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		return textEncoding{name: EncodingUTF8BOM, python: "utf-8-sig", bom: 3}, nil
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		return textEncoding{name: EncodingUTF16LE, python: "utf-16", dec: unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), bom: 2}, nil
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return textEncoding{name: EncodingUTF16BE, python: "utf-16", dec: unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), bom: 2}, nil
	}
	if e, ok := utf16Guess(head); ok && e == unicode.LittleEndian {
		return textEncoding{name: EncodingUTF16LE, python: "utf-16-le", dec: unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)}, nil
	} else if ok {
		return textEncoding{name: EncodingUTF16BE, python: "utf-16-be", dec: unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)}, nil
	}
	// Padding NUL bytes at the end, and a rune cut at the end of what was
	// read, say nothing about the encoding.
	text := bytes.TrimRight(head[:lastRuneStart(head)], "\x00")
	if utf8.Valid(text) {
		return textEncoding{name: EncodingUTF8}, nil
	}
	if bytes.IndexByte(text, 0) >= 0 {
		return textEncoding{}, errNotText
	}
	// Windows-1252 is Latin-1 with letters (€, Š, “…”) in place of the C1
	// controls 0x80 to 0x9F, but for five bytes it leaves undefined, which
	// Python's cp1252 codec refuses to read.
	cp1252 := false
	for _, c := range text {
		switch {
		case c == 0x81 || c == 0x8D || c == 0x8F || c == 0x90 || c == 0x9D:
			return textEncoding{name: EncodingLatin1, python: "latin-1", dec: charmap.ISO8859_1}, nil
		case c >= 0x80 && c <= 0x9F:
			cp1252 = true
		}
	}
	if cp1252 {
		return textEncoding{name: EncodingCP1252, python: "cp1252", dec: charmap.Windows1252}, nil
	}
	return textEncoding{name: EncodingLatin1, python: "latin-1", dec: charmap.ISO8859_1}, nil
}

// utf16Guess tells whether head looks like UTF-16 without a byte order
// mark, and in which byte order: text mostly in the first 256 code points
// has a NUL in one byte of most pairs, and (almost) never in the other.
func utf16Guess(head []byte) (unicode.Endianness, bool) {
	n := min(len(head), 4096) &^ 1
	if n < 4 {
		return false, false
	}
	var even, odd int // NUL bytes at even and odd offsets
	for i := 0; i < n; i += 2 {
		if head[i] == 0 {
			even++
		}
		if head[i+1] == 0 {
			odd++
		}
	}
	pairs := n / 2
	switch {
	case odd*2 >= pairs && even*10 <= odd:
		return unicode.LittleEndian, true
	case even*2 >= pairs && odd*10 <= even:
		return unicode.BigEndian, true
	}
	return false, false
}
