// Package export writes a thread out of Plotline: as Markdown with its
// images in a folder beside it, or as a Jupyter notebook. It knows nothing
// of windows or of the engine; the caller hands it the thread's transcript
// and a way to open stored files.
package export

import (
	"encoding/json"
	"io"
	"path"
	"strings"
	"unicode/utf8"

	"plotline/app"
)

// Thread is what an export needs: the thread's title and its transcript,
// whose order the export keeps.
type Thread struct {
	Title      string
	Transcript app.Transcript
}

// Files opens a stored file's bytes by id, with its filename. The export
// closes r. An error means the file is not available: the export says so
// where the file would have been, and goes on.
type Files func(fileID string) (filename string, r io.ReadCloser, err error)

// roleLabel is the heading of a message.
func roleLabel(role string) string {
	if role == "user" {
		return "**You:**"
	}
	return "**Assistant:**"
}

// maxName bounds a written file name in bytes; file systems stop at 255.
const maxName = 200

// safeName makes a stored file's name into a plain file name that cannot
// leave the folder it is written to. Only the last element of a path
// counts. A name that is empty, "." or "..", or holds a NUL, gives way to
// one made from the file id. Characters some file systems refuse become
// "_".
func safeName(filename, fileID string) string {
	if n, ok := cleanName(filename); ok {
		return n
	}
	var b strings.Builder
	for _, r := range fileID {
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	if n, ok := cleanName(b.String()); ok {
		return n
	}
	return "file"
}

func cleanName(name string) (string, bool) {
	if strings.ContainsRune(name, 0) || !utf8.ValidString(name) {
		return "", false
	}
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	if name == "." || name == ".." || strings.Contains(name, "/") {
		return "", false
	}
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(`<>:"|?*/\`, r) {
			return '_'
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	name = strings.TrimRight(name, ". ") // Windows drops trailing dots and spaces
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\\x00") {
		return "", false
	}
	if len(name) > maxName {
		ext := path.Ext(name)
		if len(ext) > 16 {
			ext = ""
		}
		base := name[:len(name)-len(ext)]
		cut := maxName - len(ext)
		for cut > 0 && !utf8.RuneStart(base[cut]) {
			cut--
		}
		name = base[:cut] + ext
	}
	return name, true
}

// linkPath percent-encodes a relative path for a Markdown link
// destination, so that spaces and brackets in names cannot end it.
func linkPath(p string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~/", c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// escapeLinkText keeps a generated name from closing a link's text.
func escapeLinkText(s string) string {
	return strings.NewReplacer(`\`, `\\`, `[`, `\[`, `]`, `\]`).Replace(s)
}

// longestRun is the length of the longest run of c in s.
func longestRun(s string, c byte) int {
	best, cur := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			cur++
			best = max(best, cur)
		} else {
			cur = 0
		}
	}
	return best
}

// fenced puts body in a backtick code fence longer than any backtick run
// inside it, so no line of the body can close it.
func fenced(info, body string) string {
	f := strings.Repeat("`", max(3, longestRun(body, '`')+1))
	body = strings.TrimSuffix(body, "\n")
	if body == "" {
		return f + info + "\n" + f
	}
	return f + info + "\n" + body + "\n" + f
}

// inlineCode puts s in a code span that no backtick inside it can end.
func inlineCode(s string) string {
	f := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") ||
		(strings.HasPrefix(s, " ") && strings.HasSuffix(s, " ") && strings.Trim(s, " ") != "") {
		s = " " + s + " "
	}
	return f + s + f
}

// closeFences closes a code fence that text leaves open (a message cut off
// mid-code), so that it cannot swallow the rest of the document.
func closeFences(text string) string {
	var open byte
	var openLen int
	for line := range strings.Lines(text) {
		line = strings.TrimRight(line, "\r\n")
		indent := len(line) - len(strings.TrimLeft(line, " "))
		if indent > 3 {
			continue
		}
		l := line[indent:]
		if l == "" || (l[0] != '`' && l[0] != '~') {
			continue
		}
		c := l[0]
		n := longestPrefix(l, c)
		if n < 3 {
			continue
		}
		if open == 0 {
			if c == '`' && strings.ContainsRune(l[n:], '`') {
				continue // not a fence: an inline code span
			}
			open, openLen = c, n
			continue
		}
		if c == open && n >= openLen && strings.TrimSpace(l[n:]) == "" {
			open = 0
		}
	}
	if open == 0 {
		return text
	}
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	return text + strings.Repeat(string(open), openLen)
}

func longestPrefix(s string, c byte) int {
	n := 0
	for n < len(s) && s[n] == c {
		n++
	}
	return n
}

// functionNote describes a function call: its name, arguments and output.
func functionNote(f *app.FunctionCallOutput) string {
	var b strings.Builder
	b.WriteString("Function call " + inlineCode(nonEmpty(f.Name, "(unnamed)")) + ":\n\n")
	b.WriteString(noteValue("arguments", f.Arguments, "json", "(none)"))
	b.WriteString("\n")
	switch {
	case f.Output == nil:
		b.WriteString("- output: none submitted")
	default:
		b.WriteString(noteValue("output", *f.Output, "", "(empty)"))
	}
	return b.String()
}

// noteValue is one list item of a function note: inline when the value is
// one short line, else a fenced block inside the item.
func noteValue(label, v, info, empty string) string {
	if strings.TrimSpace(v) == "" {
		return "- " + label + ": " + empty
	}
	if !strings.ContainsAny(v, "\r\n") && utf8.RuneCountInString(v) <= 200 {
		return "- " + label + ": " + inlineCode(v)
	}
	if info == "json" && !json.Valid([]byte(v)) {
		info = ""
	}
	block := fenced(info, v)
	return "- " + label + ":\n\n  " + strings.ReplaceAll(block, "\n", "\n  ")
}

func nonEmpty(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}
