package export

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"plotline/app"
)

// tinyPNG is a real 1×1 PNG.
func tinyPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 1, 1))
	img.Set(0, 0, color.RGBA{R: 200, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

const totalsCSV = "month,total\n1,10\n2,12\n"

// stored is a fake file store: id → name and bytes; ids not in it fail.
type stored map[string]struct {
	name string
	data []byte
}

func (s stored) files(id string) (string, io.ReadCloser, error) {
	f, ok := s[id]
	if !ok {
		return "", nil, errors.New("no such file: " + id)
	}
	return f.name, io.NopCloser(bytes.NewReader(f.data)), nil
}

func ptr[T any](v T) *T { return &v }

func text(s string, anns ...app.Annotation) app.Content {
	if anns == nil {
		anns = []app.Annotation{}
	}
	return app.Content{Type: "text", Text: &app.Text{Value: s, Annotations: anns}}
}

func imagePart(id string) app.Content {
	return app.Content{Type: "image_file", ImageFile: &app.ImageFile{FileID: id}}
}

func userMsg(id string, at int64, s string) app.Message {
	return app.Message{ID: id, Object: app.KindMessage, CreatedAt: at, Role: "user", Content: []app.Content{text(s)}}
}

func assistantMsg(id, run string, at int64, parts ...app.Content) app.Message {
	return app.Message{ID: id, Object: app.KindMessage, CreatedAt: at, Role: "assistant", RunID: ptr(run), Content: parts}
}

func codeStep(id, run string, at int64, calls ...app.ToolCall) app.RunStep {
	return app.RunStep{ID: id, Object: app.KindRunStep, CreatedAt: at, RunID: run, Type: app.StepToolCalls,
		Status: app.StepCompleted, StepDetails: app.StepDetails{Type: app.StepToolCalls, ToolCalls: calls}}
}

func creationStep(id, run string, at int64, msgID string) app.RunStep {
	return app.RunStep{ID: id, Object: app.KindRunStep, CreatedAt: at, RunID: run, Type: app.StepMessageCreation,
		Status: app.StepCompleted, StepDetails: app.StepDetails{Type: app.StepMessageCreation,
			MessageCreation: &app.MessageCreation{MessageID: msgID}}}
}

func code(input string, outs ...app.CodeOutput) app.ToolCall {
	return app.ToolCall{ID: "call_" + input[:min(4, len(input))], Type: app.ToolCodeInterpreter,
		CodeInterpreter: &app.CodeInterpreterCall{Input: input, Outputs: outs}}
}

func logs(s string) app.CodeOutput { return app.CodeOutput{Type: "logs", Logs: s} }

func img(id string) app.CodeOutput {
	return app.CodeOutput{Type: "image", Image: &app.FileRef{FileID: id}}
}

// filePath annotates the first occurrence of link in s, counting code
// points as the engine does.
func filePath(t *testing.T, s, link, fileID string) app.Annotation {
	t.Helper()
	i := strings.Index(s, link)
	if i < 0 {
		t.Fatalf("%q not in %q", link, s)
	}
	start := utf8.RuneCountInString(s[:i])
	return app.Annotation{Type: "file_path", Text: link, StartIndex: start,
		EndIndex: start + utf8.RuneCountInString(link), FilePath: &app.FileRef{FileID: fileID}}
}

const answer = "Sales rose 20 % — from 10 to 12. [Download the totals](sandbox:/mnt/data/totals.csv)."

// sampleThread is a question, code with logs and a chart, an answer with a
// file link and an image, a function call after it, a second question,
// and a second run that ran code and failed before answering. The store's
// sequence numbers give the order.
func sampleThread(t *testing.T) (Thread, stored) {
	pngData := tinyPNG(t)
	files := stored{
		"file-img1": {"chart.png", pngData},
		"file-img2": {"chart.png", pngData}, // same name: exported as chart-2.png
		"file-csv1": {"totals.csv", []byte(totalsCSV)},
	}
	msgs := []app.Message{
		userMsg("msg_1", 100, "How did sales change by month?"),
		assistantMsg("msg_2", "run_1", 102,
			text(answer, filePath(t, answer, "sandbox:/mnt/data/totals.csv", "file-csv1")),
			imagePart("file-img2")),
		userMsg("msg_3", 110, "And by region?"),
	}
	steps := []app.RunStep{
		codeStep("step_1", "run_1", 101, code("import pandas as pd\ndf = pd.read_csv('sales.csv')\nprint(df.groupby('month').total.sum())\ndf.plot()\n",
			logs("month\n1    10\n2    12\n"), img("file-img1"))),
		creationStep("step_2", "run_1", 102, "msg_2"),
		codeStep("step_3", "run_1", 103, app.ToolCall{ID: "call_fn", Type: app.ToolFunction,
			Function: &app.FunctionCallOutput{Name: "notify", Arguments: `{"to":"team"}`, Output: ptr("sent")}}),
		codeStep("step_4", "run_2", 111, code("df.groupby('region').total.sum()", logs("KeyError: 'region'"))),
	}
	th := Thread{Title: "Sales\nreview", Transcript: app.NewTranscript(msgs, []int64{1, 3, 6}, steps, []int64{2, 4, 5, 7})}
	return th, files
}

const wantMarkdown = "# Sales review\n" +
	"\n" +
	"**You:**\n" +
	"\n" +
	"How did sales change by month?\n" +
	"\n" +
	"```python\n" +
	"import pandas as pd\n" +
	"df = pd.read_csv('sales.csv')\n" +
	"print(df.groupby('month').total.sum())\n" +
	"df.plot()\n" +
	"```\n" +
	"\n" +
	"```\n" +
	"month\n" +
	"1    10\n" +
	"2    12\n" +
	"```\n" +
	"\n" +
	"![chart.png](thread%20images/chart.png)\n" +
	"\n" +
	"**Assistant:**\n" +
	"\n" +
	"Sales rose 20 % — from 10 to 12. [Download the totals](thread%20images/totals.csv).\n" +
	"\n" +
	"![chart-2.png](thread%20images/chart-2.png)\n" +
	"\n" +
	"Function call `notify`:\n" +
	"\n" +
	"- arguments: `{\"to\":\"team\"}`\n" +
	"- output: `sent`\n" +
	"\n" +
	"**You:**\n" +
	"\n" +
	"And by region?\n" +
	"\n" +
	"```python\n" +
	"df.groupby('region').total.sum()\n" +
	"```\n" +
	"\n" +
	"```\n" +
	"KeyError: 'region'\n" +
	"```\n"

func TestMarkdown(t *testing.T) {
	th, files := sampleThread(t)
	dir := t.TempDir()
	imageDir := filepath.Join(dir, "thread images")
	var out bytes.Buffer
	if err := Markdown(&out, th, files.files, dir, imageDir); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); got != wantMarkdown {
		t.Errorf("markdown:\n%s\nwant:\n%s", got, wantMarkdown)
	}
	want := map[string][]byte{
		"chart.png":   files["file-img1"].data,
		"chart-2.png": files["file-img2"].data,
		"totals.csv":  []byte(totalsCSV),
	}
	ents, err := os.ReadDir(imageDir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != len(want) {
		t.Errorf("image folder holds %d files, want %d", len(ents), len(want))
	}
	for name, data := range want {
		got, err := os.ReadFile(filepath.Join(imageDir, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !bytes.Equal(got, data) {
			t.Errorf("%s holds %q, want %q", name, got, data)
		}
	}
}

// nb is the part of a notebook the tests read.
type nb struct {
	Cells []struct {
		CellType       string                       `json:"cell_type"`
		ID             string                       `json:"id"`
		Source         []string                     `json:"source"`
		ExecutionCount *int                         `json:"execution_count"`
		Outputs        []map[string]json.RawMessage `json:"outputs"`
		Attachments    map[string]map[string]string `json:"attachments"`
	} `json:"cells"`
	Metadata struct {
		Kernelspec   map[string]string `json:"kernelspec"`
		LanguageInfo map[string]any    `json:"language_info"`
	} `json:"metadata"`
	NBFormat      int `json:"nbformat"`
	NBFormatMinor int `json:"nbformat_minor"`
}

func decodeNotebook(t *testing.T, th Thread, files Files) (nb, []byte) {
	t.Helper()
	var out bytes.Buffer
	if err := Notebook(&out, th, files); err != nil {
		t.Fatal(err)
	}
	var n nb
	dec := json.NewDecoder(bytes.NewReader(out.Bytes()))
	if err := dec.Decode(&n); err != nil {
		t.Fatalf("notebook is not JSON: %v\n%s", err, out.Bytes())
	}
	return n, out.Bytes()
}

func TestNotebook(t *testing.T) {
	th, files := sampleThread(t)
	n, raw := decodeNotebook(t, th, files.files)
	if n.NBFormat != 4 || n.NBFormatMinor != 5 {
		t.Errorf("nbformat %d.%d, want 4.5", n.NBFormat, n.NBFormatMinor)
	}
	if ks := n.Metadata.Kernelspec; ks["name"] != "python3" || ks["language"] != "python" || ks["display_name"] != "Python 3" {
		t.Errorf("kernelspec %v", ks)
	}
	if n.Metadata.LanguageInfo["name"] != "python" {
		t.Errorf("language_info %v", n.Metadata.LanguageInfo)
	}

	var types []string
	for _, c := range n.Cells {
		types = append(types, c.CellType)
	}
	wantTypes := []string{"markdown", "markdown", "code", "markdown", "markdown", "markdown", "code"}
	if !reflect.DeepEqual(types, wantTypes) {
		t.Fatalf("cells %v, want %v", types, wantTypes)
	}
	src := func(i int) string { return strings.Join(n.Cells[i].Source, "") }

	ids := map[string]bool{}
	for i, c := range n.Cells {
		if c.ID == "" || ids[c.ID] {
			t.Errorf("cell %d: id %q missing or repeated", i, c.ID)
		}
		ids[c.ID] = true
		if c.CellType == "markdown" && c.ExecutionCount != nil {
			t.Errorf("markdown cell %d has an execution_count", i)
		}
	}

	if got := src(0); got != "# Sales review" {
		t.Errorf("title cell %q", got)
	}
	if got := src(1); got != "**You:**\n\nHow did sales change by month?" {
		t.Errorf("user cell %q", got)
	}

	// The first code cell: source, stdout, the chart.
	c := n.Cells[2]
	if got, want := src(2), "import pandas as pd\ndf = pd.read_csv('sales.csv')\nprint(df.groupby('month').total.sum())\ndf.plot()"; got != want {
		t.Errorf("code source %q, want %q", got, want)
	}
	if want := []string{"import pandas as pd\n", "df = pd.read_csv('sales.csv')\n", "print(df.groupby('month').total.sum())\n", "df.plot()"}; !reflect.DeepEqual(c.Source, want) {
		t.Errorf("code source lines %q, want %q", c.Source, want)
	}
	if c.ExecutionCount == nil || *c.ExecutionCount != 1 {
		t.Errorf("first execution_count %v, want 1", c.ExecutionCount)
	}
	if len(c.Outputs) != 2 {
		t.Fatalf("code outputs %d, want 2", len(c.Outputs))
	}
	var stream struct {
		OutputType string   `json:"output_type"`
		Name       string   `json:"name"`
		Text       []string `json:"text"`
	}
	remarshal(t, c.Outputs[0], &stream)
	if stream.OutputType != "stream" || stream.Name != "stdout" || strings.Join(stream.Text, "") != "month\n1    10\n2    12\n" {
		t.Errorf("stream output %+v", stream)
	}
	var disp struct {
		OutputType string            `json:"output_type"`
		Data       map[string]string `json:"data"`
		Metadata   map[string]any    `json:"metadata"`
	}
	remarshal(t, c.Outputs[1], &disp)
	wantB64 := base64.StdEncoding.EncodeToString(files["file-img1"].data)
	if disp.OutputType != "display_data" || disp.Data["image/png"] != wantB64 || disp.Metadata == nil {
		t.Errorf("display_data %+v, want image/png %s", disp, wantB64)
	}

	// The answer keeps its text, names the linked file, embeds its image.
	a := n.Cells[3]
	wantA := "**Assistant:**\n\n" + answer + "\n\n![image](attachment:chart.png)\n\nFiles (not in this notebook): `totals.csv`"
	if got := src(3); got != wantA {
		t.Errorf("assistant cell %q, want %q", got, wantA)
	}
	if a.Attachments["chart.png"]["image/png"] != wantB64 {
		t.Errorf("attachments %v", a.Attachments)
	}
	if got, want := src(4), "Function call `notify`:\n\n- arguments: `{\"to\":\"team\"}`\n- output: `sent`"; got != want {
		t.Errorf("function cell %q, want %q", got, want)
	}
	if got := src(5); got != "**You:**\n\nAnd by region?" {
		t.Errorf("second question %q", got)
	}
	last := n.Cells[6]
	if last.ExecutionCount == nil || *last.ExecutionCount != 2 || src(6) != "df.groupby('region').total.sum()" {
		t.Errorf("second code cell: count %v, source %q", last.ExecutionCount, src(6))
	}

	checkSchema(t, raw)
}

// checkSchema checks what the nbformat 4.5 schema asks of the objects the
// export writes: required keys, no others (additionalProperties false),
// cell ids by pattern and unique, multi-line strings as strings or lists
// of strings. (nbformat itself is not installed here.)
func checkSchema(t *testing.T, raw []byte) {
	t.Helper()
	keys := func(what string, obj map[string]json.RawMessage, required, optional []string) {
		t.Helper()
		for _, k := range required {
			if _, ok := obj[k]; !ok {
				t.Errorf("%s lacks %q", what, k)
			}
		}
		for k := range obj {
			if !slices.Contains(required, k) && !slices.Contains(optional, k) {
				t.Errorf("%s has %q, which the schema does not allow", what, k)
			}
		}
	}
	multiline := func(what string, v json.RawMessage) {
		t.Helper()
		var s string
		var ss []string
		if json.Unmarshal(v, &s) != nil && json.Unmarshal(v, &ss) != nil {
			t.Errorf("%s is not a string or a list of strings: %s", what, v)
		}
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		t.Fatal(err)
	}
	keys("notebook", top, []string{"cells", "metadata", "nbformat", "nbformat_minor"}, nil)
	var cells []map[string]json.RawMessage
	if err := json.Unmarshal(top["cells"], &cells); err != nil {
		t.Fatal(err)
	}
	idPattern := regexp.MustCompile(`^[a-zA-Z0-9-_]{1,64}$`)
	seen := map[string]bool{}
	for i, c := range cells {
		what := fmt.Sprintf("cell %d", i)
		var id string
		json.Unmarshal(c["id"], &id)
		if !idPattern.MatchString(id) || seen[id] {
			t.Errorf("%s: id %q", what, id)
		}
		seen[id] = true
		multiline(what+" source", c["source"])
		switch string(c["cell_type"]) {
		case `"markdown"`:
			keys(what, c, []string{"cell_type", "id", "metadata", "source"}, []string{"attachments"})
		case `"code"`:
			keys(what, c, []string{"cell_type", "id", "metadata", "source", "outputs", "execution_count"}, nil)
			var outs []map[string]json.RawMessage
			if err := json.Unmarshal(c["outputs"], &outs); err != nil {
				t.Errorf("%s outputs: %v", what, err)
			}
			for j, o := range outs {
				ow := fmt.Sprintf("%s output %d", what, j)
				switch string(o["output_type"]) {
				case `"stream"`:
					keys(ow, o, []string{"output_type", "name", "text"}, nil)
					multiline(ow+" text", o["text"])
				case `"display_data"`:
					keys(ow, o, []string{"output_type", "data", "metadata"}, nil)
					var data map[string]json.RawMessage
					json.Unmarshal(o["data"], &data)
					for mime, v := range data {
						multiline(ow+" "+mime, v)
					}
				default:
					t.Errorf("%s: output_type %s", ow, o["output_type"])
				}
			}
		default:
			t.Errorf("%s: cell_type %s", what, c["cell_type"])
		}
	}
}

func remarshal(t *testing.T, from any, to any) {
	t.Helper()
	b, err := json.Marshal(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, to); err != nil {
		t.Fatal(err)
	}
}

// TestHostileNames: whatever name a stored file has, the export writes it
// inside imageDir, under a plain name.
func TestHostileNames(t *testing.T) {
	pngData := tinyPNG(t)
	files := stored{
		"file-up":    {"../../x.png", pngData},
		"file-win":   {`..\..\win.png`, pngData},
		"file-csv":   {"a/b.csv", []byte(totalsCSV)},
		"file-empty": {"", pngData},
		"file-dots":  {"..", pngData},
		"file-nul":   {"x\x00y.png", pngData},
		"../../evil": {"", pngData},
		"file-abs":   {"/etc/passwd", []byte("not really")},
	}
	body := "Get [it](sandbox:/mnt/data/a/b.csv) and sandbox:/mnt/data/passwd"
	msgs := []app.Message{
		assistantMsg("m1", "r1", 100,
			text(body, filePath(t, body, "sandbox:/mnt/data/a/b.csv", "file-csv"),
				filePath(t, body, "sandbox:/mnt/data/passwd", "file-abs")),
			imagePart("file-empty"), imagePart("file-dots"), imagePart("file-nul"), imagePart("../../evil")),
	}
	steps := []app.RunStep{
		codeStep("s1", "r1", 99, code("plot()", img("file-up"), img("file-win"))),
		creationStep("c1", "r1", 100, "m1"),
	}
	th := Thread{Transcript: app.NewTranscript(msgs, []int64{3}, steps, []int64{1, 2})}

	base := t.TempDir()
	mdDir := filepath.Join(base, "out")
	imageDir := filepath.Join(mdDir, "img")
	var out bytes.Buffer
	if err := Markdown(&out, th, files.files, mdDir, imageDir); err != nil {
		t.Fatal(err)
	}
	var written []string
	filepath.WalkDir(base, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(imageDir, p)
			written = append(written, filepath.ToSlash(rel))
		}
		return nil
	})
	slices.Sort(written)
	want := []string{".._.._evil.png", "b.csv", "file-dots.png", "file-empty.png", "file-nul.png", "passwd", "win.png", "x.png"}
	if !reflect.DeepEqual(written, want) {
		t.Errorf("written %q, want %q (relative to imageDir)", written, want)
	}
	for _, link := range []string{"](img/x.png)", "](img/win.png)", "[it](img/b.csv)", "[passwd](img/passwd)",
		"](img/file-empty.png)", "](img/file-dots.png)", "](img/file-nul.png)", "](img/.._.._evil.png)"} {
		if !strings.Contains(out.String(), link) {
			t.Errorf("markdown lacks %q:\n%s", link, out.String())
		}
	}

	// A symbolic link planted in imageDir cannot carry a write outside:
	// os.Root refuses, and the export says so.
	t.Run("planted symlink", func(t *testing.T) {
		outside := filepath.Join(t.TempDir(), "target.png")
		if err := os.WriteFile(outside, []byte("keep"), 0o644); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(t.TempDir(), "img")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(outside, filepath.Join(dir, "x.png")); err != nil {
			t.Skip("no symlinks:", err)
		}
		one := Thread{Transcript: app.NewTranscript(nil, nil,
			[]app.RunStep{codeStep("s1", "r1", 1, code("plot()", img("file-up")))}, []int64{1})}
		if err := Markdown(io.Discard, one, files.files, filepath.Dir(dir), dir); err == nil {
			t.Error("export through a symlink out of imageDir succeeded")
		}
		if b, _ := os.ReadFile(outside); string(b) != "keep" {
			t.Errorf("file outside imageDir now holds %q", b)
		}
	})
}

func TestSafeName(t *testing.T) {
	tests := []struct{ name, id, want string }{
		{"chart.png", "file-1", "chart.png"},
		{"../../x.png", "file-1", "x.png"},
		{"a/b.csv", "file-1", "b.csv"},
		{`C:\Users\me\r.xlsx`, "file-1", "r.xlsx"},
		{"", "file-1", "file-1"},
		{".", "file-1", "file-1"},
		{"..", "file-1", "file-1"},
		{"/", "file-1", "file-1"},
		{"a\x00.png", "file-1", "file-1"},
		{"what?.csv", "file-1", "what_.csv"},
		{"line\nbreak.txt", "file-1", "line_break.txt"},
		{"", "../..", ".._"}, // no trailing dots: Windows would drop them
		{"", "", "file"},
		{"", "..", "file"},
		{strings.Repeat("é", 150) + ".csv", "file-1", strings.Repeat("é", 98) + ".csv"},
	}
	for _, tt := range tests {
		got := safeName(tt.name, tt.id)
		if got != tt.want {
			t.Errorf("safeName(%q, %q) = %q, want %q", tt.name, tt.id, got, tt.want)
		}
		if strings.ContainsAny(got, "/\\\x00") || got == "." || got == ".." || len(got) > maxName {
			t.Errorf("safeName(%q, %q) = %q is not a plain name", tt.name, tt.id, got)
		}
	}
}

func TestLongerFences(t *testing.T) {
	src := "s = '''\n```python\nprint(1)\n```\n'''\nprint(s)"
	steps := []app.RunStep{codeStep("s1", "r1", 1,
		code(src, logs("```python\nprint(1)\n````\n")),
		app.ToolCall{Type: app.ToolFunction, Function: &app.FunctionCallOutput{Name: "lookup",
			Arguments: "{\n  \"q\": \"```\"\n}", Output: nil}})}
	th := Thread{Transcript: app.NewTranscript(nil, nil, steps, []int64{1})}
	var out bytes.Buffer
	if err := Markdown(&out, th, nil, t.TempDir(), t.TempDir()); err != nil {
		t.Fatal(err)
	}
	want := "````python\n" + src + "\n````\n" +
		"\n" +
		"`````\n```python\nprint(1)\n````\n`````\n" +
		"\n" +
		"Function call `lookup`:\n" +
		"\n" +
		"- arguments:\n" +
		"\n" +
		"  ````json\n" +
		"  {\n" +
		"    \"q\": \"```\"\n" +
		"  }\n" +
		"  ````\n" +
		"- output: none submitted\n"
	if out.String() != want {
		t.Errorf("markdown:\n%s\nwant:\n%s", out.String(), want)
	}
}

// brokenReader fails part way, as a file whose blob went missing would.
type brokenReader struct{ sent bool }

func (r *brokenReader) Read(p []byte) (int, error) {
	if !r.sent {
		r.sent = true
		return copy(p, "\x89PNG"), nil
	}
	return 0, errors.New("blob vanished")
}

// TestMissingFiles: a file the store cannot give is reported in the text;
// the export goes on.
func TestMissingFiles(t *testing.T) {
	body := "See [the table](sandbox:/mnt/data/t.csv) and sandbox:/mnt/data/u.csv."
	msgs := []app.Message{
		userMsg("m1", 100, "Plot it"),
		assistantMsg("m2", "r1", 102, text(body,
			filePath(t, body, "sandbox:/mnt/data/t.csv", "file-t"),
			filePath(t, body, "sandbox:/mnt/data/u.csv", "file-u")),
			imagePart("file-gone")),
	}
	steps := []app.RunStep{
		codeStep("s1", "r1", 101, code("plot()", img("file-broken"))),
		creationStep("c1", "r1", 102, "m2"),
	}
	th := Thread{Transcript: app.NewTranscript(msgs, []int64{1, 4}, steps, []int64{2, 3})}
	files := func(id string) (string, io.ReadCloser, error) {
		if id == "file-broken" {
			return "chart.png", io.NopCloser(&brokenReader{}), nil
		}
		return "", nil, errors.New("not found")
	}

	dir := t.TempDir()
	imageDir := filepath.Join(dir, "images")
	var md bytes.Buffer
	if err := Markdown(&md, th, files, dir, imageDir); err != nil {
		t.Fatalf("markdown export failed: %v", err)
	}
	want := "**You:**\n" +
		"\n" +
		"Plot it\n" +
		"\n" +
		"```python\n" +
		"plot()\n" +
		"```\n" +
		"\n" +
		"*(image not available: `file-broken`)*\n" +
		"\n" +
		"**Assistant:**\n" +
		"\n" +
		"See [the table](sandbox:/mnt/data/t.csv) *(file not available)* and sandbox:/mnt/data/u.csv *(file not available)*.\n" +
		"\n" +
		"*(image not available: `file-gone`)*\n"
	if md.String() != want {
		t.Errorf("markdown:\n%s\nwant:\n%s", md.String(), want)
	}
	if ents, _ := os.ReadDir(imageDir); len(ents) != 0 {
		t.Errorf("a broken file left %d files behind", len(ents))
	}

	n, raw := decodeNotebook(t, th, files)
	checkSchema(t, raw)
	if len(n.Cells) != 3 {
		t.Fatalf("%d cells, want 3", len(n.Cells))
	}
	var disp struct {
		Data map[string]string `json:"data"`
	}
	remarshal(t, n.Cells[1].Outputs[0], &disp)
	if got := disp.Data["text/plain"]; !strings.Contains(got, "image not available") {
		t.Errorf("display_data %v does not say the image is not available", disp.Data)
	}
	cell := strings.Join(n.Cells[2].Source, "")
	for _, s := range []string{body, "*(image not available: `file-gone`)*", "`t.csv` (file not available)", "`u.csv` (file not available)"} {
		if !strings.Contains(cell, s) {
			t.Errorf("assistant cell lacks %q:\n%s", s, cell)
		}
	}
}

// TestLinks: how file_path links are rewritten, wherever they stand.
func TestLinks(t *testing.T) {
	const link = "sandbox:/mnt/data/r.csv"
	files := stored{"file-r": {"r (final).csv", []byte(totalsCSV)}}
	tests := []struct {
		name, text string
		fileID     string
		shift      int // added to the annotations' indices
		want       string
	}{
		{"link destination", "[r](" + link + ")", "file-r", 0,
			"[r](files/r%20%28final%29.csv)"},
		{"bare", "Saved to " + link + ".", "file-r", 0,
			"Saved to [r (final).csv](files/r%20%28final%29.csv)."},
		{"autolink", "Saved: <" + link + ">", "file-r", 0,
			"Saved: [r (final).csv](files/r%20%28final%29.csv)"},
		{"link text and destination", "[" + link + "](" + link + ")", "file-r", 0,
			"[r (final).csv](files/r%20%28final%29.csv)"},
		{"indices counted in UTF-16", "📈📈 [r](" + link + ")", "file-r", 2,
			"📈📈 [r](files/r%20%28final%29.csv)"},
		{"indices out of range", "[r](" + link + ")", "file-r", 100,
			"[r](files/r%20%28final%29.csv)"},
		{"missing, link text and destination", "[" + link + "](" + link + " \"title\") next", "file-gone", 0,
			"[" + link + "](" + link + " \"title\") *(file not available)* next"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Annotate every occurrence of the link, as the engine does.
			var anns []app.Annotation
			for off := 0; ; {
				i := strings.Index(tt.text[off:], link)
				if i < 0 {
					break
				}
				a := filePath(t, tt.text[off:], link, tt.fileID)
				shift := utf8.RuneCountInString(tt.text[:off]) + tt.shift
				a.StartIndex += shift
				a.EndIndex += shift
				anns = append(anns, a)
				off += i + len(link)
			}
			dir := t.TempDir()
			fo, err := newFolder(files.files, dir, filepath.Join(dir, "files"))
			if err != nil {
				t.Fatal(err)
			}
			defer fo.close()
			got, err := mdText(&app.Text{Value: tt.text, Annotations: anns}, fo)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestUnclosedFence: a message cut off inside a code block does not turn
// the rest of the export into code.
func TestUnclosedFence(t *testing.T) {
	msgs := []app.Message{
		assistantMsg("m1", "r1", 100, text("Try:\n\n```python\nprint(")),
		userMsg("m2", 101, "Go on"),
	}
	th := Thread{Transcript: app.NewTranscript(msgs, []int64{1, 2}, nil, nil)}
	var out bytes.Buffer
	if err := Markdown(&out, th, nil, t.TempDir(), t.TempDir()); err != nil {
		t.Fatal(err)
	}
	want := "**Assistant:**\n\nTry:\n\n```python\nprint(\n```\n\n**You:**\n\nGo on\n"
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
}

// TestCancelledRunKeepsItsPlace: the code of a run that was stopped stays
// where it ran, before the next question, however the timestamps fall
// (they have one-second resolution, and clocks step). The transcript's
// sequence decides.
func TestCancelledRunKeepsItsPlace(t *testing.T) {
	const slow, fresh = "import time; time.sleep(30)", `print("fresh")`
	tests := []struct {
		name string
		at   [5]int64 // created_at of Q1, the stopped code, Q2, the new code, the answer
	}{
		{"all in one second", [5]int64{100, 100, 100, 100, 100}},
		{"stopped code stamped after the next question", [5]int64{100, 104, 101, 102, 103}},
		{"answer stamped before the new code", [5]int64{100, 101, 103, 103, 102}},
		{"timestamps in order", [5]int64{100, 101, 102, 103, 104}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := tt.at
			stopped := codeStep("s1", "r1", at[1], code(slow))
			stopped.Status = app.StepCancelled
			msgs := []app.Message{userMsg("q1", at[0], "First question?"), userMsg("q2", at[2], "Second question?"),
				assistantMsg("a2", "r2", at[4], text("Fresh answer."))}
			steps := []app.RunStep{stopped, codeStep("s2", "r2", at[3], code(fresh, logs("fresh\n"))),
				creationStep("c2", "r2", at[4], "a2")}
			th := Thread{Transcript: app.NewTranscript(msgs, []int64{1, 3, 6}, steps, []int64{2, 4, 5})}
			want := []string{"First question?", slow, "Second question?", fresh, "Fresh answer."}

			var md bytes.Buffer
			if err := Markdown(&md, th, nil, t.TempDir(), t.TempDir()); err != nil {
				t.Fatal(err)
			}
			last := -1
			for _, s := range want {
				i := strings.Index(md.String(), s)
				if i <= last {
					t.Fatalf("markdown: %q is not after what precedes it in %q:\n%s", s, want, md.String())
				}
				last = i
			}

			n, _ := decodeNotebook(t, th, nil)
			var got []string
			for _, c := range n.Cells {
				got = append(got, c.CellType+": "+strings.Join(c.Source, ""))
			}
			wantCells := []string{"markdown: **You:**\n\nFirst question?", "code: " + slow,
				"markdown: **You:**\n\nSecond question?", "code: " + fresh, "markdown: **Assistant:**\n\nFresh answer."}
			if !reflect.DeepEqual(got, wantCells) {
				t.Errorf("notebook cells:\n%q\nwant:\n%q", got, wantCells)
			}
		})
	}
}
