package ui

import (
	"regexp"
	"strings"
)

// block is a piece of a message's Markdown: prose for Fyne's RichText, a
// GFM table, which RichText does not render, or fenced code, which the
// window draws on a background of its own with a Copy action.
type block struct {
	table [][]string // header row first; nil for prose
	align []colAlign // a table's columns' alignment, from its delimiter row
	code  *string    // fenced code's text; nil for prose and tables
	lang  string     // fenced code's language, if its fence names one
	text  string
}

// colAlign is a table column's alignment as its delimiter row sets it.
type colAlign int

const (
	alignNone colAlign = iota
	alignLeft
	alignCenter
	alignRight
)

// splitMarkdown cuts text into prose, tables and fenced code. A table is a
// run of lines starting with "|" whose second line is a delimiter row
// (|---|:--:|). Fenced code is never taken for a table; a fence not yet
// closed (an answer still streaming) runs to the end.
func splitMarkdown(text string) []block {
	lines := strings.Split(text, "\n")
	var out []block
	var prose []string
	flush := func() {
		if len(prose) > 0 {
			if s := strings.Join(prose, "\n"); strings.TrimSpace(s) != "" {
				out = append(out, block{text: s})
			}
			prose = nil
		}
	}
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if indent, fence, info, ok := openingFence(l); ok {
			flush()
			var code []string
			for i++; i < len(lines) && !isClosingFence(lines[i], fence); i++ {
				code = append(code, trimIndent(lines[i], indent))
			}
			s := strings.Join(code, "\n")
			out = append(out, block{code: &s, lang: info})
			continue
		}
		if isTableRow(l) && i+1 < len(lines) && isDelimiterRow(lines[i+1]) {
			flush()
			t := [][]string{tableCells(l)}
			align := delimiterAlign(lines[i+1])
			i += 2
			for ; i < len(lines) && isTableRow(lines[i]); i++ {
				t = append(t, tableCells(lines[i]))
			}
			i--
			// Every row gets the header's width.
			n := len(t[0])
			for r := range t {
				for len(t[r]) < n {
					t[r] = append(t[r], "")
				}
				t[r] = t[r][:n]
			}
			for len(align) < n {
				align = append(align, alignNone)
			}
			out = append(out, block{table: t, align: align[:n]})
			continue
		}
		prose = append(prose, l)
	}
	flush()
	return out
}

// openingFence reads a code fence's opening line: its indent (at most
// three spaces), the fence (``` or ~~~, or longer) and its info string's
// first word.
func openingFence(l string) (indent int, fence, info string, ok bool) {
	indent = len(l) - len(strings.TrimLeft(l, " "))
	if indent > 3 {
		return 0, "", "", false
	}
	rest := l[indent:]
	if !strings.HasPrefix(rest, "```") && !strings.HasPrefix(rest, "~~~") {
		return 0, "", "", false
	}
	n := len(rest) - len(strings.TrimLeft(rest, rest[:1]))
	fence, info = rest[:n], strings.TrimSpace(rest[n:])
	if fence[0] == '`' && strings.Contains(info, "`") {
		return 0, "", "", false
	}
	if f := strings.Fields(info); len(f) > 0 {
		info = f[0]
	}
	return indent, fence, info, true
}

func isClosingFence(l, fence string) bool {
	s := strings.TrimSpace(l)
	if len(l)-len(strings.TrimLeft(l, " ")) > 3 || len(s) < len(fence) {
		return false
	}
	return strings.Trim(s, fence[:1]) == ""
}

// trimIndent drops up to n leading spaces, the opening fence's indent.
func trimIndent(l string, n int) string {
	for i := 0; i < n && strings.HasPrefix(l, " "); i++ {
		l = l[1:]
	}
	return l
}

func isTableRow(l string) bool {
	l = strings.TrimSpace(l)
	return strings.HasPrefix(l, "|") && strings.Count(l, "|") >= 2
}

func isDelimiterRow(l string) bool {
	if !isTableRow(l) {
		return false
	}
	for _, c := range tableCells(l) {
		c = strings.TrimSpace(c)
		c = strings.TrimPrefix(strings.TrimSuffix(c, ":"), ":")
		if len(c) < 1 || strings.Trim(c, "-") != "" {
			return false
		}
	}
	return true
}

// delimiterAlign reads the columns' alignment from a delimiter row.
func delimiterAlign(l string) []colAlign {
	var out []colAlign
	for _, c := range tableCells(l) {
		left, right := strings.HasPrefix(c, ":"), strings.HasSuffix(c, ":")
		switch {
		case left && right:
			out = append(out, alignCenter)
		case right:
			out = append(out, alignRight)
		case left:
			out = append(out, alignLeft)
		default:
			out = append(out, alignNone)
		}
	}
	return out
}

// tableCells splits a row at unescaped pipes and trims the cells.
func tableCells(l string) []string {
	l = strings.TrimSpace(l)
	l = strings.TrimPrefix(l, "|")
	if strings.HasSuffix(l, "|") && !strings.HasSuffix(l, `\|`) {
		l = l[:len(l)-1]
	}
	var cells []string
	var cur strings.Builder
	for i := 0; i < len(l); i++ {
		switch {
		case l[i] == '\\' && i+1 < len(l) && l[i+1] == '|':
			cur.WriteByte('|')
			i++
		case l[i] == '|':
			cells = append(cells, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(l[i])
		}
	}
	return append(cells, strings.TrimSpace(cur.String()))
}

// cellStyle is how a table cell is drawn: its text without the emphasis
// that wraps it whole (**60** is 60, in bold).
type cellStyle struct {
	text            string
	bold, monospace bool
}

func plainCell(c string) cellStyle {
	s := cellStyle{text: strings.TrimSpace(c)}
	for {
		t := s.text
		switch {
		case len(t) > 4 && (strings.HasPrefix(t, "**") && strings.HasSuffix(t, "**") || strings.HasPrefix(t, "__") && strings.HasSuffix(t, "__")):
			s.text, s.bold = strings.TrimSpace(t[2:len(t)-2]), true
		case len(t) > 2 && (t[0] == '*' && t[len(t)-1] == '*' || t[0] == '_' && t[len(t)-1] == '_'):
			s.text = strings.TrimSpace(t[1 : len(t)-1])
		case len(t) > 2 && t[0] == '`' && t[len(t)-1] == '`':
			s.text, s.monospace = t[1:len(t)-1], true
		default:
			return s
		}
	}
}

// number is a figure as tables write it: signed or in accounting
// parentheses, with a currency sign before or after, thousands grouped by
// commas or thin spaces, a decimal part or an exponent, and a percent,
// per-mille or magnitude (k, M, bn…) suffix.
var number = regexp.MustCompile(`^[(]?[+\-−]?[$€£¥₹]?[+\-−]?` +
	`(?:(?:[0-9]{1,3}(?:[,\x{00a0}\x{202f}\x{2009}][0-9]{3})+|[0-9]+)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+\-]?[0-9]+)?` +
	`\s?(?:%|‰|[kKMBT]|bn|mn|[$€£¥₹]|pp|x)?[)]?$`)

// isNumber says whether a cell holds one figure.
func isNumber(s string) bool {
	s = strings.TrimSpace(s)
	if !number.MatchString(s) {
		return false
	}
	// Parentheses come in pairs.
	return strings.HasPrefix(s, "(") == strings.HasSuffix(s, ")")
}

// isBlankCell says whether a cell holds no value: empty, a dash, or a
// missing-value marker; such cells do not decide a column's kind.
func isBlankCell(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "-", "–", "—", "n/a", "na", "nan", "none", "null", "…", "...":
		return true
	}
	return false
}

// numericColumns says, for each column, whether its body holds figures
// only (blank cells aside) and at least one.
func numericColumns(t [][]string) []bool {
	out := make([]bool, len(t[0]))
	for c := range out {
		seen := false
		out[c] = true
		for _, row := range t[1:] {
			v := plainCell(row[c]).text
			if isBlankCell(v) {
				continue
			}
			if !isNumber(v) {
				out[c] = false
				break
			}
			seen = true
		}
		out[c] = out[c] && seen
	}
	return out
}

// tableTSV is a table as tab-separated values, for pasting into a
// spreadsheet: cells without their Markdown emphasis, tabs and line
// breaks in them made spaces.
func tableTSV(t [][]string) string {
	var b strings.Builder
	clean := strings.NewReplacer("\t", " ", "\r\n", " ", "\n", " ", "\r", " ")
	for _, row := range t {
		for c, cell := range row {
			if c > 0 {
				b.WriteByte('\t')
			}
			b.WriteString(clean.Replace(plainCell(cell).text))
		}
		b.WriteByte('\n')
	}
	return b.String()
}
