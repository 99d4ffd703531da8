package export

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"plotline/app"
)

// Notebook writes the thread as a Jupyter notebook (nbformat 4.5, valid
// JSON per the nbformat v4 schema), in the transcript's order: markdown
// cells for the user's and assistant's text, code cells for each
// code_interpreter call with its outputs (logs as a "stream" output named
// stdout; images as "display_data" with "image/png" base64),
// execution_count numbered in order, Python 3 kernelspec and
// language_info metadata.
//
// An image that is not a PNG (JPEG, GIF, WebP, SVG) is embedded under its
// own MIME type. A message's cell keeps its text as written; the files its
// file_path annotations point at are named in a note below it (a notebook
// has no folder to hold them), and its image_file parts are embedded as
// cell attachments. A function call is a markdown cell of its name,
// arguments and output. An image Files cannot give is said to be not
// available; only a failure to write w fails the export.
func Notebook(w io.Writer, th Thread, files Files) error {
	nb := notebook{
		Cells: []any{},
		Metadata: nbMetadata{
			Kernelspec: kernelspec{DisplayName: "Python 3", Language: "python", Name: "python3"},
			LanguageInfo: languageInfo{
				Name:              "python",
				CodemirrorMode:    map[string]any{"name": "ipython", "version": 3},
				FileExtension:     ".py",
				Mimetype:          "text/x-python",
				NbconvertExporter: "python",
				PygmentsLexer:     "ipython3",
			},
			Title: oneLine(th.Title),
		},
		NBFormat:      4,
		NBFormatMinor: 5,
	}
	b := &nbBuilder{nb: &nb, files: files, cache: map[string]loaded{}}
	if t := oneLine(th.Title); t != "" {
		b.markdown("# "+t, nil)
	}
	for _, e := range th.Transcript {
		switch {
		case e.Message != nil:
			b.message(e.Message)
		case e.Step != nil:
			b.step(e.Step)
		}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(nb); err != nil {
		return fmt.Errorf("export notebook: %w", err)
	}
	return nil
}

// The notebook's JSON, in the field order Jupyter writes.
type notebook struct {
	Cells         []any      `json:"cells"`
	Metadata      nbMetadata `json:"metadata"`
	NBFormat      int        `json:"nbformat"`
	NBFormatMinor int        `json:"nbformat_minor"`
}

type nbMetadata struct {
	Kernelspec   kernelspec   `json:"kernelspec"`
	LanguageInfo languageInfo `json:"language_info"`
	Title        string       `json:"title,omitempty"`
}

type kernelspec struct {
	DisplayName string `json:"display_name"`
	Language    string `json:"language"`
	Name        string `json:"name"`
}

type languageInfo struct {
	Name              string         `json:"name"`
	CodemirrorMode    map[string]any `json:"codemirror_mode"`
	FileExtension     string         `json:"file_extension"`
	Mimetype          string         `json:"mimetype"`
	NbconvertExporter string         `json:"nbconvert_exporter"`
	PygmentsLexer     string         `json:"pygments_lexer"`
}

type markdownCell struct {
	CellType    string                       `json:"cell_type"`
	ID          string                       `json:"id"`
	Metadata    map[string]any               `json:"metadata"`
	Source      []string                     `json:"source"`
	Attachments map[string]map[string]string `json:"attachments,omitempty"`
}

type codeCell struct {
	CellType       string         `json:"cell_type"`
	ExecutionCount int            `json:"execution_count"`
	ID             string         `json:"id"`
	Metadata       map[string]any `json:"metadata"`
	Outputs        []any          `json:"outputs"`
	Source         []string       `json:"source"`
}

type streamOutput struct {
	OutputType string   `json:"output_type"`
	Name       string   `json:"name"`
	Text       []string `json:"text"`
}

type displayData struct {
	OutputType string         `json:"output_type"`
	Data       map[string]any `json:"data"`
	Metadata   map[string]any `json:"metadata"`
}

// loaded is a stored file read whole, for embedding.
type loaded struct {
	name string
	data []byte
	ok   bool
}

type nbBuilder struct {
	nb    *notebook
	files Files
	cache map[string]loaded
	cells int // cell ids: nbformat 4.5 requires them, unique
	execs int // execution_count of the last code cell
}

func (b *nbBuilder) nextID() string {
	b.cells++
	return fmt.Sprintf("cell-%d", b.cells)
}

func (b *nbBuilder) markdown(src string, att map[string]map[string]string) {
	b.nb.Cells = append(b.nb.Cells, markdownCell{CellType: "markdown", ID: b.nextID(),
		Metadata: map[string]any{}, Source: lines(src), Attachments: att})
}

func (b *nbBuilder) message(m *app.Message) {
	parts := []string{roleLabel(m.Role)}
	var att map[string]map[string]string
	var notes []string
	noted := map[string]bool{}
	keys := map[string]string{} // file id → attachment name: an image shown twice is attached once
	for _, c := range m.Content {
		switch {
		case c.Text != nil:
			if t := strings.TrimRight(c.Text.Value, "\r\n"); strings.TrimSpace(t) != "" {
				parts = append(parts, t)
			}
			for _, a := range filePaths(c.Text.Annotations) {
				if noted[a.FilePath.FileID] {
					continue
				}
				noted[a.FilePath.FileID] = true
				notes = append(notes, b.fileNote(a))
			}
		case c.ImageFile != nil:
			f := b.load(c.ImageFile.FileID)
			if !f.ok {
				parts = append(parts, "*(image not available: "+inlineCode(c.ImageFile.FileID)+")*")
				continue
			}
			if att == nil {
				att = map[string]map[string]string{}
			}
			key, ok := keys[c.ImageFile.FileID]
			if !ok {
				key = attachmentKey(safeName(f.name, c.ImageFile.FileID), att)
				keys[c.ImageFile.FileID] = key
				mime, text := imageMIME(f.name, f.data)
				att[key] = map[string]string{mime: encode(f.data, text)}
			}
			parts = append(parts, "![image](attachment:"+key+")")
		}
	}
	if len(notes) > 0 {
		parts = append(parts, "Files (not in this notebook): "+strings.Join(notes, ", "))
	}
	b.markdown(strings.Join(parts, "\n\n"), att)
}

// fileNote names the file an annotation links to, by its stored name.
func (b *nbBuilder) fileNote(a app.Annotation) string {
	if name, rc, err := open(b.files, a.FilePath.FileID); err == nil {
		rc.Close()
		return inlineCode(safeName(name, a.FilePath.FileID))
	}
	name := strings.TrimPrefix(a.Text, "sandbox:/mnt/data/")
	return inlineCode(safeName(name, a.FilePath.FileID)) + " (file not available)"
}

func (b *nbBuilder) step(s *app.RunStep) {
	for _, tc := range s.StepDetails.ToolCalls {
		switch {
		case tc.CodeInterpreter != nil:
			b.execs++
			outs := []any{}
			for _, o := range tc.CodeInterpreter.Outputs {
				switch {
				case o.Type == "logs" && o.Logs != "":
					outs = append(outs, streamOutput{OutputType: "stream", Name: "stdout", Text: lines(o.Logs)})
				case o.Type == "image" && o.Image != nil:
					outs = append(outs, b.display(o.Image.FileID))
				}
			}
			b.nb.Cells = append(b.nb.Cells, codeCell{CellType: "code", ExecutionCount: b.execs, ID: b.nextID(),
				Metadata: map[string]any{}, Outputs: outs,
				Source: lines(strings.TrimRight(tc.CodeInterpreter.Input, "\n"))})
		case tc.Function != nil:
			b.markdown(functionNote(tc.Function), nil)
		}
	}
}

func (b *nbBuilder) display(fileID string) displayData {
	f := b.load(fileID)
	if !f.ok {
		return displayData{OutputType: "display_data", Metadata: map[string]any{},
			Data: map[string]any{"text/plain": "image not available (" + fileID + ")"}}
	}
	mime, text := imageMIME(f.name, f.data)
	return displayData{OutputType: "display_data", Metadata: map[string]any{},
		Data: map[string]any{mime: encode(f.data, text)}}
}

// load reads a stored file whole, once per export. A file Files cannot give
// or that breaks off is not ok.
func (b *nbBuilder) load(fileID string) loaded {
	if f, ok := b.cache[fileID]; ok {
		return f
	}
	f := loaded{}
	if name, rc, err := open(b.files, fileID); err == nil {
		data, err := io.ReadAll(rc)
		rc.Close()
		if err == nil {
			f = loaded{name: name, data: data, ok: true}
		}
	}
	b.cache[fileID] = f
	return f
}

func encode(data []byte, text bool) string {
	if text {
		return string(data)
	}
	return base64.StdEncoding.EncodeToString(data)
}

// attachmentKey is a cell attachment's name: the file's, reduced to
// characters an "attachment:" link can hold as they are, and unique in
// its cell.
func attachmentKey(name string, att map[string]map[string]string) string {
	key := strings.Map(func(r rune) rune {
		if r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return r
		}
		return '_'
	}, name)
	cand := key
	for i := 2; att[cand] != nil; i++ {
		cand = fmt.Sprintf("%d-%s", i, key)
	}
	return cand
}

// lines splits s the way Jupyter stores multi-line strings: each line
// keeps its newline.
func lines(s string) []string {
	out := []string{}
	for l := range strings.Lines(s) {
		out = append(out, l)
	}
	return out
}
