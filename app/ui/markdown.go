package ui

import (
	"strings"
)

// block is a piece of a message's Markdown: prose for Fyne's RichText, or
// a GFM table, which RichText does not render and the window draws itself.
type block struct {
	table [][]string // header row first; nil for prose
	text  string
}

// splitMarkdown cuts text into prose and tables. A table is a run of lines
// starting with "|" whose second line is a delimiter row (|---|:--:|).
// Fenced code is never taken for a table.
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
	inFence := false
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.HasPrefix(strings.TrimSpace(l), "```") {
			inFence = !inFence
		}
		if !inFence && isTableRow(l) && i+1 < len(lines) && isDelimiterRow(lines[i+1]) {
			flush()
			t := [][]string{tableCells(l)}
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
			out = append(out, block{table: t})
			continue
		}
		prose = append(prose, l)
	}
	flush()
	return out
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
