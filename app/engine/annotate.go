package engine

import (
	"net/url"
	"plotline/app"
	"regexp"
	"strings"
	"unicode/utf8"
)

// sandboxLink matches a link the model writes to a file of its work
// folder. The name ends at white space, a closing bracket or quote.
var sandboxLink = regexp.MustCompile("sandbox:/mnt/data/[^\\s)\\]\"'<>`]+")

// annotate finds the sandbox:/mnt/data/NAME links in text and makes each a
// file_path annotation pointing at the stored file. Indices count Unicode
// code points. A link to a file that does not exist gets no annotation.
func (l *loop) annotate(text string) []app.Annotation {
	out := []app.Annotation{}
	if l.ws == nil {
		return out
	}
	for _, m := range sandboxLink.FindAllStringIndex(text, -1) {
		start, end := m[0], m[1]
		// A sentence's full stop or comma after the link is not part of it.
		for end > start && strings.ContainsRune(".,;:!?", rune(text[end-1])) {
			end--
		}
		link := text[start:end]
		name := strings.TrimPrefix(link, "sandbox:/mnt/data/")
		if dec, err := url.PathUnescape(name); err == nil {
			name = dec
		}
		id, ok := l.ws.outputFile(l.ctx, name)
		if !ok {
			continue
		}
		cs := utf8.RuneCountInString(text[:start])
		out = append(out, app.Annotation{Type: "file_path", Text: link, StartIndex: cs,
			EndIndex: cs + utf8.RuneCountInString(link), FilePath: &app.FileRef{FileID: id}})
	}
	return out
}
