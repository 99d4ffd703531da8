package export

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"plotline/app"
)

// Markdown writes the thread as Markdown into w, and the images it shows as
// files in imageDir (created), referenced by relative paths from the
// Markdown file's folder (mdDir).
//
// Each message opens with "**You:**" or "**Assistant:**"; its text is
// written as the model or user wrote it (it is Markdown already), except
// that a sandbox:/mnt/data/NAME link the thread annotated as a file_path
// becomes a link to the file, written into imageDir too. Entries follow
// the thread's transcript. Code the assistant ran sits in a ```python
// fence, its logs in a plain fence and its images as image links; a function call
// is a short list of its name, arguments and output. A file Files cannot
// give is named as not available in the text; only a failure to write w or
// imageDir fails the export.
func Markdown(w io.Writer, th Thread, files Files, mdDir, imageDir string) (err error) {
	fo, err := newFolder(files, mdDir, imageDir)
	if err != nil {
		return fmt.Errorf("export markdown: %w", err)
	}
	defer func() {
		if cerr := fo.close(); err == nil && cerr != nil {
			err = fmt.Errorf("export markdown: %w", cerr)
		}
	}()
	var blocks []string
	if t := oneLine(th.Title); t != "" {
		blocks = append(blocks, "# "+t)
	}
	for _, e := range th.Transcript {
		var bs []string
		switch {
		case e.Message != nil:
			bs, err = mdMessage(e.Message, fo)
		case e.Step != nil:
			bs, err = mdStep(e.Step, fo)
		}
		if err != nil {
			return fmt.Errorf("export markdown: %w", err)
		}
		blocks = append(blocks, bs...)
	}
	if _, err := io.WriteString(w, strings.Join(blocks, "\n\n")+"\n"); err != nil {
		return fmt.Errorf("export markdown: %w", err)
	}
	return nil
}

// oneLine keeps a title on its heading's line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func mdMessage(m *app.Message, fo *folder) ([]string, error) {
	out := []string{roleLabel(m.Role)}
	for _, c := range m.Content {
		switch {
		case c.Text != nil:
			t, err := mdText(c.Text, fo)
			if err != nil {
				return nil, err
			}
			t = strings.TrimRight(t, "\r\n")
			if strings.TrimSpace(t) != "" {
				out = append(out, closeFences(t))
			}
		case c.ImageFile != nil:
			img, err := mdImage(c.ImageFile.FileID, fo)
			if err != nil {
				return nil, err
			}
			out = append(out, img)
		}
	}
	return out, nil
}

func mdImage(fileID string, fo *folder) (string, error) {
	s, err := fo.save(fileID, true)
	if err != nil {
		return "", err
	}
	if !s.ok {
		return "*(image not available: " + inlineCode(fileID) + ")*", nil
	}
	return "![" + escapeLinkText(s.name) + "](" + s.link + ")", nil
}

func mdStep(s *app.RunStep, fo *folder) ([]string, error) {
	var out []string
	for _, tc := range s.StepDetails.ToolCalls {
		switch {
		case tc.CodeInterpreter != nil:
			out = append(out, fenced("python", tc.CodeInterpreter.Input))
			for _, o := range tc.CodeInterpreter.Outputs {
				switch {
				case o.Type == "logs" && o.Logs != "":
					out = append(out, fenced("", o.Logs))
				case o.Type == "image" && o.Image != nil:
					img, err := mdImage(o.Image.FileID, fo)
					if err != nil {
						return nil, err
					}
					out = append(out, img)
				}
			}
		case tc.Function != nil:
			out = append(out, functionNote(tc.Function))
		}
	}
	return out, nil
}

// mdText is a text part with its file_path links pointing at the exported
// files. Only the annotated spans change.
func mdText(t *app.Text, fo *folder) (string, error) {
	runes := []rune(t.Value)
	var b strings.Builder
	pos := 0
	for _, a := range filePaths(t.Annotations) {
		s, e, ok := locate(runes, a, pos)
		if !ok {
			continue
		}
		saved, err := fo.save(a.FilePath.FileID, false)
		if err != nil {
			return "", err
		}
		span := string(runes[s:e])
		// The link's place: a destination "[text](HERE)", a link's text
		// "[HERE](…)", an autolink "<HERE>", or bare text.
		dest := s-2 >= pos && runes[s-2] == ']' && runes[s-1] == '('
		label := s-1 >= pos && runes[s-1] == '[' && e+1 < len(runes) && runes[e] == ']' && runes[e+1] == '('
		auto := s-1 >= pos && runes[s-1] == '<' && e < len(runes) && runes[e] == '>'
		lead := s
		if saved.ok && auto {
			lead = s - 1 // a relative path is no autolink: replace "<…>" whole
		}
		b.WriteString(string(runes[pos:lead]))
		switch {
		case saved.ok && dest:
			b.WriteString(saved.link)
		case saved.ok && label:
			b.WriteString(escapeLinkText(saved.name)) // links do not nest
		case !saved.ok && label:
			b.WriteString(span) // its destination carries the note
		case saved.ok && auto:
			b.WriteString("[" + escapeLinkText(saved.name) + "](" + saved.link + ")")
			e++
		case saved.ok:
			b.WriteString("[" + escapeLinkText(saved.name) + "](" + saved.link + ")")
		default:
			// Keep the link as written, and say why it leads nowhere after
			// the whole link.
			end := e
			if dest {
				if i := indexRune(runes, ')', e); i >= 0 {
					end = i + 1
				}
			} else if auto {
				end = e + 1
			}
			b.WriteString(span + string(runes[e:end]) + " *(file not available)*")
			e = end
		}
		pos = e
	}
	b.WriteString(string(runes[pos:]))
	return b.String(), nil
}

// filePaths are the file_path annotations, in the order of the text.
func filePaths(anns []app.Annotation) []app.Annotation {
	var out []app.Annotation
	for _, a := range anns {
		if a.Type == "file_path" && a.FilePath != nil && a.FilePath.FileID != "" {
			out = append(out, a)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].StartIndex < out[j].StartIndex })
	return out
}

// locate finds an annotation's span in runes, at or after pos. Indices
// count code points; when they do not frame the annotation's text (another
// client counted otherwise), the text is looked for instead.
func locate(runes []rune, a app.Annotation, pos int) (start, end int, ok bool) {
	s, e := a.StartIndex, a.EndIndex
	if s >= pos && s <= e && e <= len(runes) && s < e && (a.Text == "" || string(runes[s:e]) == a.Text) {
		return s, e, true
	}
	if a.Text == "" || pos > len(runes) {
		return 0, 0, false
	}
	rest := string(runes[pos:])
	i := strings.Index(rest, a.Text)
	if i < 0 {
		return 0, 0, false
	}
	s = pos + utf8.RuneCountInString(rest[:i])
	return s, s + utf8.RuneCountInString(a.Text), true
}

func indexRune(runes []rune, r rune, from int) int {
	for i := from; i < len(runes); i++ {
		if runes[i] == r {
			return i
		}
	}
	return -1
}
