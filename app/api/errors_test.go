//lint:file-ignore SA1019 Plotline serves the Assistants API, which openai-go marks deprecated, on purpose.

package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"plotline/app/api"
	"plotline/app/engine"
	"plotline/app/modeltest"
)

// Errors and bad input: every refusal has the status the issue names and
// the OpenAI error shape, and no input makes the server answer 500.

// fixture creates one of everything, for the routes that need ids.
type fixture struct {
	asst, thread, msg, run, file string
}

func makeFixture(t *testing.T, r *rig) fixture {
	t.Helper()
	c := r.client()
	ctx := ctxT(t)
	a := newAssistant(t, c)
	f := upload(t, c, "data.csv", "a\n1\n")
	th := userThread(t, c, "Hi")
	r.model.Add(text("Hello."))
	run, err := c.Beta.Threads.Runs.New(ctx, th.ID, openai.BetaThreadRunNewParams{AssistantID: a.ID})
	if err != nil {
		t.Fatal(err)
	}
	mustStatus(t, pollRun(t, c, th.ID, run.ID), openai.RunStatusCompleted)
	msgs, err := c.Beta.Threads.Messages.List(ctx, th.ID, openai.BetaThreadMessageListParams{})
	if err != nil {
		t.Fatal(err)
	}
	return fixture{asst: a.ID, thread: th.ID, msg: msgs.Data[0].ID, run: run.ID, file: f.ID}
}

func TestInvalidJSON(t *testing.T) {
	r := newRig(t, nil, nil)
	for _, body := range []string{`{`, `{"model":}`, `{"model":"x",}`, `not json`, `{"a":1}{"b":2}`, "\xff\xfe"} {
		code, b := r.doJSON("POST", "/v1/assistants", body)
		e := decodeErr(t, b)
		if code != 400 || e.Type != "invalid_request_error" {
			t.Errorf("body %q: %d %s", body, code, b)
		}
	}
}

func TestInvalidFieldTypes(t *testing.T) {
	r := newRig(t, nil, nil)
	fx := makeFixture(t, r)
	cases := []struct {
		path, body, param string
	}{
		{"/v1/assistants", `{"model":5}`, "model"},
		{"/v1/assistants", `{"name":{"a":1}}`, "name"},
		{"/v1/assistants", `{"metadata":"x"}`, "metadata"},
		{"/v1/assistants", `{"metadata":{"k":1}}`, "metadata"},
		{"/v1/assistants", `{"temperature":"hot"}`, "temperature"},
		{"/v1/assistants", `{"temperature":1e400}`, "temperature"},
		{"/v1/assistants", `{"temperature":7}`, "temperature"},
		{"/v1/assistants", `{"tools":"code_interpreter"}`, "tools"},
		{"/v1/assistants", `{"tools":[{"type":"browser"}]}`, "tools[0].type"},
		{"/v1/assistants", `{"tools":[{"type":"function","function":{"name":"bad name!"}}]}`, "tools[0].function.name"},
		{"/v1/assistants", `{"tool_resources":{"code_interpreter":{"file_ids":["file-nope"]}}}`, "tool_resources.code_interpreter.file_ids"},
		{"/v1/threads/" + fx.thread + "/messages", `{"role":"user","content":5}`, "content"},
		{"/v1/threads/" + fx.thread + "/messages", `{"role":"system","content":"x"}`, "role"},
		{"/v1/threads/" + fx.thread + "/messages", `{"role":"user"}`, "content"},
		{"/v1/threads/" + fx.thread + "/messages", `{"role":"user","content":"x","attachments":[{"file_id":"file-nope"}]}`, "attachments[0].file_id"},
		{"/v1/threads", `{"messages":[{"role":"user","content":[{"type":"video"}]}]}`, "messages[0].content[0]"},
		{"/v1/threads/" + fx.thread + "/runs", `{"assistant_id":"` + fx.asst + `","max_prompt_tokens":-1}`, "max_prompt_tokens"},
		{"/v1/threads/" + fx.thread + "/runs", `{"assistant_id":"` + fx.asst + `","tool_choice":"sometimes"}`, "tool_choice"},
		{"/v1/threads/" + fx.thread + "/runs", `{"assistant_id":"` + fx.asst + `","truncation_strategy":{"type":"last_messages","last_messages":0}}`, "truncation_strategy"},
		{"/v1/threads/" + fx.thread + "/runs", `{"assistant_id":"` + fx.asst + `","stream":"yes"}`, "stream"},
		{"/v1/threads/" + fx.thread + "/runs", `{"assistant_id":7}`, "assistant_id"},
		{"/v1/threads/" + fx.thread + "/runs", `{}`, "assistant_id"},
		{"/v1/threads/runs", `{"thread":{"messages":[{"role":"user","content":"x"}]}}`, "assistant_id"},
		{"/v1/threads/" + fx.thread + "/runs/" + fx.run, `{"metadata":[1]}`, "metadata"},
	}
	for _, c := range cases {
		code, b := r.doJSON("POST", c.path, c.body)
		e := decodeErr(t, b)
		if code != 400 || deref(e.Param) != c.param {
			t.Errorf("POST %s %s: %d param %s, want 400 param %s: %s", c.path, c.body, code, deref(e.Param), c.param, b)
		}
	}
}

func TestAuth(t *testing.T) {
	r := newRig(t, nil, nil)
	cases := []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"no key", map[string]string{"Authorization": ""}, 401},
		{"wrong bearer", map[string]string{"Authorization": "Bearer nope"}, 401},
		{"bearer without scheme", map[string]string{"Authorization": testKey}, 401},
		{"basic auth", map[string]string{"Authorization": "Basic " + testKey}, 401},
		{"wrong api-key", map[string]string{"Authorization": "", "api-key": "nope"}, 401},
		{"key with a suffix", map[string]string{"Authorization": "Bearer " + testKey + "x"}, 401},
		{"bearer", map[string]string{"Authorization": "Bearer " + testKey}, 200},
		{"lower-case scheme", map[string]string{"Authorization": "bearer " + testKey}, 200},
		{"api-key", map[string]string{"Authorization": "", "api-key": testKey}, 200},
	}
	for _, c := range cases {
		code, _, b := r.do("GET", "/v1/assistants", nil, c.header)
		if code != c.want {
			t.Errorf("%s: %d, want %d: %s", c.name, code, c.want, b)
			continue
		}
		if c.want == 401 {
			if e := decodeErr(t, b); deref(e.Code) != "invalid_api_key" {
				t.Errorf("%s: %s", c.name, b)
			}
		}
	}
	// The SDK gets a 401 with a wrong key, on both path shapes.
	wrong := r.client(option.WithAPIKey("nope"))
	_, err := wrong.Beta.Assistants.List(ctxT(t), openai.BetaAssistantListParams{})
	if statusOf(err) != 401 {
		t.Fatalf("SDK with a wrong key: %v", err)
	}
	code, _, b := r.do("GET", "/openai/assistants?api-version=2024-05-01-preview", nil, map[string]string{"Authorization": "", "api-key": "nope"})
	if code != 401 || !strings.Contains(string(b), `"code":"401"`) {
		t.Fatalf("Azure path with a wrong key: %d %s", code, b)
	}
	// An empty server key lets nobody in.
	r2 := newRig(t, nil, func(o *api.Options) { o.Key = "" })
	if code, _, _ := r2.do("GET", "/v1/assistants", nil, map[string]string{"Authorization": "Bearer "}); code != 401 {
		t.Fatalf("empty key accepted: %d", code)
	}
}

func TestNotFound(t *testing.T) {
	r := newRig(t, nil, nil)
	fx := makeFixture(t, r)
	other := userThread(t, r.client(), "another thread")
	cases := []struct {
		method, path, msg string
	}{
		{"GET", "/v1/assistants/asst_nope", "No assistant found with id 'asst_nope'."},
		{"POST", "/v1/assistants/asst_nope", "No assistant found with id 'asst_nope'."},
		{"DELETE", "/v1/assistants/asst_nope", "No assistant found with id 'asst_nope'."},
		{"GET", "/v1/threads/thread_nope", "No thread found with id 'thread_nope'."},
		{"POST", "/v1/threads/thread_nope", "No thread found with id 'thread_nope'."},
		{"DELETE", "/v1/threads/thread_nope", "No thread found with id 'thread_nope'."},
		{"GET", "/v1/threads/thread_nope/messages", "No thread found with id 'thread_nope'."},
		{"POST", "/v1/threads/thread_nope/messages", "No thread found with id 'thread_nope'."},
		{"GET", "/v1/threads/" + fx.thread + "/messages/msg_nope", "No message found with id 'msg_nope'."},
		{"POST", "/v1/threads/" + fx.thread + "/messages/msg_nope", "No message found with id 'msg_nope'."},
		{"DELETE", "/v1/threads/" + fx.thread + "/messages/msg_nope", "No message found with id 'msg_nope'."},
		// A message, run or step is only found through its own thread.
		{"GET", "/v1/threads/" + other.ID + "/messages/" + fx.msg, "No message found with id '" + fx.msg + "'."},
		{"GET", "/v1/threads/" + other.ID + "/runs/" + fx.run, "No run found with id '" + fx.run + "'."},
		{"GET", "/v1/threads/" + other.ID + "/runs/" + fx.run + "/steps", "No run found with id '" + fx.run + "'."},
		{"GET", "/v1/threads/thread_nope/runs", "No thread found with id 'thread_nope'."},
		{"POST", "/v1/threads/thread_nope/runs", "No thread found with id 'thread_nope'."},
		{"GET", "/v1/threads/" + fx.thread + "/runs/run_nope", "No run found with id 'run_nope'."},
		{"POST", "/v1/threads/" + fx.thread + "/runs/run_nope", "No run found with id 'run_nope'."},
		{"POST", "/v1/threads/" + fx.thread + "/runs/run_nope/cancel", "No run found with id 'run_nope'."},
		{"POST", "/v1/threads/" + fx.thread + "/runs/run_nope/submit_tool_outputs", "No run found with id 'run_nope'."},
		{"GET", "/v1/threads/" + fx.thread + "/runs/run_nope/steps", "No run found with id 'run_nope'."},
		{"GET", "/v1/threads/" + fx.thread + "/runs/" + fx.run + "/steps/step_nope", "No run step found with id 'step_nope'."},
		{"GET", "/v1/files/file-nope", "No such File object: file-nope"},
		{"DELETE", "/v1/files/file-nope", "No such File object: file-nope"},
		{"GET", "/v1/files/file-nope/content", "No such File object: file-nope"},
		{"GET", "/v1/threads/a%20b", "No thread found with id 'a b'."},
		{"GET", "/v1/nothing", "Unknown request URL: GET /v1/nothing."},
		{"GET", "/", "Unknown request URL: GET /."},
	}
	for _, c := range cases {
		code, _, b := r.do(c.method, c.path, strings.NewReader("{}"), map[string]string{"Content-Type": "application/json"})
		e := decodeErr(t, b)
		if code != 404 || e.Message != c.msg || e.Type != "invalid_request_error" {
			t.Errorf("%s %s: %d %q, want 404 %q", c.method, c.path, code, e.Message, c.msg)
		}
		// The Files API names the missing id's parameter.
		if isFile := strings.HasPrefix(c.path, "/v1/files/"); isFile != (e.Param != nil && *e.Param == "id") || !isFile && e.Param != nil {
			t.Errorf("%s %s: param %s", c.method, c.path, deref(e.Param))
		}
	}
	// The SDK decodes it.
	c := r.client()
	_, err := c.Beta.Threads.Get(ctxT(t), "thread_nope")
	var apiErr *openai.Error
	if !asAPIError(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.Message != "No thread found with id 'thread_nope'." {
		t.Fatalf("SDK: %v", err)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	r := newRig(t, nil, nil)
	cases := []struct {
		method, path, allow string
	}{
		{"PUT", "/v1/assistants", "GET, POST"},
		{"DELETE", "/v1/assistants", "GET, POST"},
		{"PATCH", "/v1/assistants/asst_x", "GET, POST, DELETE"},
		{"GET", "/v1/threads", "POST"},
		{"GET", "/v1/threads/t/runs/r/cancel", "POST"},
		{"DELETE", "/v1/threads/t/runs/r/steps", "GET"},
		{"POST", "/v1/files/file-x/content", "GET"},
		{"PUT", "/openai/assistants?api-version=2024-05-01-preview", "GET, POST"},
	}
	for _, c := range cases {
		code, h, b := r.do(c.method, c.path, nil, nil)
		e := decodeErr(t, b)
		if code != 405 || h.Get("Allow") != c.allow || !strings.HasPrefix(h.Get("Content-Type"), "application/json") || deref(e.Code) != "method_not_allowed" {
			t.Errorf("%s %s: %d Allow %q: %s", c.method, c.path, code, h.Get("Allow"), b)
		}
	}
}

func TestActiveRunLocksThread(t *testing.T) {
	r := newRig(t, nil, nil, modeltest.Turn{Text: "slow", Delay: time.Minute})
	c := r.client()
	ctx := ctxT(t)
	a := newAssistant(t, c)
	th := userThread(t, c, "Hi")
	run, err := c.Beta.Threads.Runs.New(ctx, th.ID, openai.BetaThreadRunNewParams{AssistantID: a.ID})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Beta.Threads.Messages.New(ctx, th.ID, openai.BetaThreadMessageNewParams{Role: "user",
		Content: openai.BetaThreadMessageNewParamsContentUnion{OfString: openai.String("more")}})
	var apiErr *openai.Error
	if !asAPIError(err, &apiErr) || apiErr.StatusCode != 400 || !strings.Contains(apiErr.Message, run.ID) {
		t.Fatalf("message during a run: %v", err)
	}
	_, err = c.Beta.Threads.Runs.New(ctx, th.ID, openai.BetaThreadRunNewParams{AssistantID: a.ID})
	if !asAPIError(err, &apiErr) || apiErr.StatusCode != 400 || !strings.Contains(apiErr.Message, "active run") {
		t.Fatalf("second run: %v", err)
	}
	code, b := r.doJSON("DELETE", "/v1/threads/"+th.ID+"/messages/"+firstMessage(t, c, th.ID), "")
	if code != 400 {
		t.Fatalf("delete a message during a run: %d %s", code, b)
	}
	if _, err := c.Beta.Threads.Runs.Cancel(ctx, th.ID, run.ID); err != nil {
		t.Fatal(err)
	}
	mustStatus(t, pollRun(t, c, th.ID, run.ID), openai.RunStatusCancelled)
}

func firstMessage(t *testing.T, c openai.Client, threadID string) string {
	l, err := c.Beta.Threads.Messages.List(ctxT(t), threadID, openai.BetaThreadMessageListParams{})
	if err != nil || len(l.Data) == 0 {
		t.Fatalf("messages: %v", err)
	}
	return l.Data[0].ID
}

// multipartBody builds an upload; name is the file part's file name as
// sent, raw (so it may hold what a browser would escape).
func multipartBody(name, purpose string, content []byte) (*bytes.Buffer, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if purpose != "" {
		w.WriteField("purpose", purpose)
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="file"; filename="`+name+`"`)
	h.Set("Content-Type", "application/octet-stream")
	part, _ := w.CreatePart(h)
	part.Write(content)
	w.Close()
	return &buf, w.FormDataContentType()
}

func TestUploadLimits(t *testing.T) {
	r := newRig(t, func(c *engine.Config) { c.MaxFileSize = 1 << 20 }, nil)
	upload := func(name string, size int, chunked bool) (int, []byte) {
		body, ctype := multipartBody(name, "assistants", bytes.Repeat([]byte("x"), size))
		var rd io.Reader = body
		if chunked {
			rd = io.MultiReader(body) // no length: sent chunked
		}
		code, _, b := r.do("POST", "/v1/files", rd, map[string]string{"Content-Type": ctype})
		return code, b
	}
	for _, c := range []struct {
		name    string
		size    int
		chunked bool
		want    int
	}{
		{"at the limit", 1 << 20, false, 200},
		{"over, by length", 3 << 20, false, 413},
		{"over, within the form's slack", 1<<20 + 1000, false, 413},
		{"over, chunked", 2 << 20, true, 413},
	} {
		code, b := upload("big.csv", c.size, c.chunked)
		if code != c.want {
			t.Errorf("%s: %d, want %d: %s", c.name, code, c.want, b)
			continue
		}
		if c.want == 413 {
			if e := decodeErr(t, b); deref(e.Code) != "file_too_large" {
				t.Errorf("%s: %s", c.name, b)
			}
		}
	}
	// Nothing over the limit was kept.
	c := r.client()
	l, err := c.Files.List(ctxT(t), openai.FileListParams{})
	if err != nil || len(l.Data) != 1 || l.Data[0].Bytes != 1<<20 {
		t.Fatalf("files after the uploads: %v %+v", err, l)
	}
	// Unsupported types get 415; the check ignores case and needs the
	// last extension.
	for _, name := range []string{"tool.exe", "archive.csv.exe", "noext", "script.sh", "x.CSV.bat"} {
		code, b := upload(name, 10, false)
		e := decodeErr(t, b)
		if code != 415 || deref(e.Param) != "file" {
			t.Errorf("%s: %d %s", name, code, b)
		}
	}
	if code, b := upload("DATA.CSV", 10, false); code != 200 {
		t.Errorf("DATA.CSV: %d %s", code, b)
	}
	// JSON Lines go with the purposes that read them, and only those.
	for _, c := range []struct {
		purpose string
		want    int
	}{{"batch", 200}, {"fine-tune", 200}, {"evals", 200}, {"assistants", 415}, {"vision", 415}} {
		body, ctype := multipartBody("requests.jsonl", c.purpose, []byte(`{"custom_id":"1"}`+"\n"))
		code, _, b := r.do("POST", "/v1/files", body, map[string]string{"Content-Type": ctype})
		if code != c.want {
			t.Errorf(".jsonl for %s: %d %s, want %d", c.purpose, code, b, c.want)
		}
	}
	// The SDK sees the 413 and the 415 too.
	_, err = c.Files.New(ctxT(t), openai.FileNewParams{File: openai.File(strings.NewReader("MZ"), "tool.exe", "application/octet-stream"), Purpose: openai.FilePurposeAssistants})
	if statusOf(err) != 415 {
		t.Fatalf("SDK .exe: %v", err)
	}
	_, err = c.Files.New(ctxT(t), openai.FileNewParams{File: openai.File(bytes.NewReader(make([]byte, 2<<20)), "big.csv", "text/csv"), Purpose: openai.FilePurposeAssistants})
	if statusOf(err) != 413 {
		t.Fatalf("SDK 2 MB: %v", err)
	}
}

// TestHostileFileNames: names that try to leave the work folder are
// stored as their base name, and land in /mnt/data under it.
func TestHostileFileNames(t *testing.T) {
	r := newRig(t, nil, nil)
	cases := []struct {
		sent, stored string // stored "" means refused (400, or 415 for a name without an extension)
	}{
		{"../../etc/passwd.csv", "passwd.csv"},
		{"/etc/shadow.txt", "shadow.txt"},
		{`..\..\windows\win.ini.txt`, "win.ini.txt"},
		{`C:\Users\x\report.csv`, "report.csv"},
		{"a/../../b.json", "b.json"},
		{"..", ""},
		{"../", ""},
		{"nul\x00byte.csv", ""},
		{"", ""},
	}
	var kept []string
	for _, c := range cases {
		body, ctype := multipartBody(c.sent, "assistants", []byte("a,b\n1,2\n"))
		code, _, b := r.do("POST", "/v1/files", body, map[string]string{"Content-Type": ctype})
		if c.stored == "" {
			if code != 400 && code != 415 {
				t.Errorf("%q: %d %s, want 400 or 415", c.sent, code, b)
			} else {
				decodeErr(t, b)
			}
			continue
		}
		var f struct {
			ID       string `json:"id"`
			Filename string `json:"filename"`
		}
		if json.Unmarshal(b, &f); code != 200 || f.Filename != c.stored {
			t.Errorf("%q: %d %s, want stored as %q", c.sent, code, b, c.stored)
			continue
		}
		kept = append(kept, f.ID)
	}
	if t.Failed() {
		return
	}
	// The files land in /mnt/data under their safe names, and nowhere else.
	r.model.Add(pythonCall("import os\nprint(sorted(os.listdir('/mnt/data')))"), text("Listed."))
	c := r.client()
	a := newAssistant(t, c, codeInterpreter)
	ctx := ctxT(t)
	var atts []openai.BetaThreadNewParamsMessageAttachment
	for _, id := range kept {
		atts = append(atts, openai.BetaThreadNewParamsMessageAttachment{FileID: openai.String(id),
			Tools: []openai.BetaThreadNewParamsMessageAttachmentToolUnion{{OfCodeInterpreter: &openai.CodeInterpreterToolParam{}}}})
	}
	th, err := c.Beta.Threads.New(ctx, openai.BetaThreadNewParams{Messages: []openai.BetaThreadNewParamsMessage{{Role: "user",
		Content: openai.BetaThreadNewParamsMessageContentUnion{OfString: openai.String("ls")}, Attachments: atts}}})
	if err != nil {
		t.Fatal(err)
	}
	run, err := c.Beta.Threads.Runs.New(ctx, th.ID, openai.BetaThreadRunNewParams{AssistantID: a.ID})
	if err != nil {
		t.Fatal(err)
	}
	mustStatus(t, pollRun(t, c, th.ID, run.ID), openai.RunStatusCompleted)
	steps, err := c.Beta.Threads.Runs.Steps.List(ctx, th.ID, run.ID, openai.BetaThreadRunStepListParams{Order: openai.BetaThreadRunStepListParamsOrderAsc})
	if err != nil {
		t.Fatal(err)
	}
	logs := steps.Data[0].StepDetails.ToolCalls[0].CodeInterpreter.Outputs[0].Logs
	if want := "['b.json', 'passwd.csv', 'report.csv', 'shadow.txt', 'win.ini.txt']\n"; logs != want {
		t.Fatalf("/mnt/data holds %q, want %q", logs, want)
	}
	// Nothing was written outside the thread's work folder.
	filepath.WalkDir(r.data, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (d.Name() == "passwd.csv" || d.Name() == "shadow.txt") &&
			!strings.Contains(p, th.ID) {
			t.Errorf("a hostile name was written at %s", p)
		}
		return nil
	})
}

func TestPaginationOutOfRange(t *testing.T) {
	r := newRig(t, nil, nil)
	fx := makeFixture(t, r)
	lists := []string{"/v1/assistants", "/v1/threads/" + fx.thread + "/messages", "/v1/threads/" + fx.thread + "/runs",
		"/v1/threads/" + fx.thread + "/runs/" + fx.run + "/steps"}
	for _, l := range lists {
		for _, q := range []struct{ query, param string }{
			{"limit=0", "limit"}, {"limit=101", "limit"}, {"limit=-1", "limit"}, {"limit=abc", "limit"},
			{"limit=1e2", "limit"}, {"limit=99999999999999999999", "limit"},
			{"order=sideways", "order"}, {"order=ASC", "order"},
			{"after=nope_123", "after"}, {"before=nope_123", "before"},
		} {
			code, _, b := r.do("GET", l+"?"+q.query, nil, nil)
			e := decodeErr(t, b)
			if code != 400 || deref(e.Param) != q.param {
				t.Errorf("GET %s?%s: %d param %s: %s", l, q.query, code, deref(e.Param), b)
			}
		}
		for _, q := range []string{"limit=1", "limit=100", "order=asc", "order=desc"} {
			if code, _, b := r.do("GET", l+"?"+q, nil, nil); code != 200 {
				t.Errorf("GET %s?%s: %d %s", l, q, code, b)
			}
		}
	}
	if code, _, b := r.do("GET", "/v1/files?limit=10001", nil, nil); code != 400 {
		t.Errorf("files limit=10001: %d %s", code, b)
	}
	if code, _, b := r.do("GET", "/v1/files?limit=10000", nil, nil); code != 200 {
		t.Errorf("files limit=10000: %d %s", code, b)
	}
}

func TestModelRateLimitSurfacesAsLastError(t *testing.T) {
	limited := modeltest.Turn{Status: 429, ErrorCode: "rate_limit_exceeded", ErrorMessage: "Slow down.", RetryAfter: "0"}
	r := newRig(t, nil, nil, limited, limited, limited, limited, limited, limited, limited, limited)
	c := r.client()
	a := newAssistant(t, c)
	th := userThread(t, c, "Hi")
	run, err := c.Beta.Threads.Runs.New(ctxT(t), th.ID, openai.BetaThreadRunNewParams{AssistantID: a.ID})
	if err != nil {
		t.Fatal(err)
	}
	final := pollRun(t, c, th.ID, run.ID)
	mustStatus(t, final, openai.RunStatusFailed)
	if final.LastError.Code != "rate_limit_exceeded" || final.LastError.Message != "Slow down." || final.FailedAt == 0 {
		t.Fatalf("last_error = %+v", final.LastError)
	}
	// Streamed, the run fails the same way: the stream ends cleanly with
	// thread.run.failed, whose last_error says why, and every event has a
	// name the SDK knows.
	th2 := userThread(t, c, "Hi again")
	st := drain(t, c.Beta.Threads.Runs.NewStreaming(ctxT(t), th2.ID, openai.BetaThreadRunNewParams{AssistantID: a.ID}))
	if st.events[len(st.events)-1] != "thread.run.failed" || st.last.Status != openai.RunStatusFailed ||
		st.last.LastError.Code != "rate_limit_exceeded" || slices.Contains(st.events, "") {
		t.Fatalf("stream: events %v, last run %+v", st.events, st.last.LastError)
	}
}

func TestHostHeader(t *testing.T) {
	r := newRig(t, nil, func(o *api.Options) { o.Hosts = []string{"plotline.local:8765"} })
	for _, c := range []struct {
		host string
		want int
	}{
		{"evil.example", 403},
		{"evil.example:80", 403},
		{"127.0.0.1.evil.example", 403},
		{"localhost.evil.example", 403},
		{"10.0.0.1", 403},
		{"plotline.local:9999", 403},
		{"plotline.local:8765", 200},
		{"localhost:1234", 200},
		{"127.0.0.1", 200},
		{"[::1]:8765", 200},
		{"app.localhost", 200},
	} {
		code, _, b := r.do("GET", "/v1/assistants", nil, map[string]string{"Host": c.host})
		if code != c.want {
			t.Errorf("Host %q: %d, want %d: %s", c.host, code, c.want, b)
		} else if c.want == 403 && deref(decodeErr(t, b).Code) != "host_not_allowed" {
			t.Errorf("Host %q: %s", c.host, b)
		}
	}
	// The check comes before auth: a rebinding page learns nothing.
	code, _, _ := r.do("GET", "/v1/assistants", nil, map[string]string{"Host": "evil.example", "Authorization": ""})
	if code != 403 {
		t.Fatalf("no key, bad host: %d", code)
	}
}

func TestCrossOrigin(t *testing.T) {
	closed := newRig(t, nil, nil)
	code, h, b := closed.do("GET", "/v1/assistants", nil, map[string]string{"Origin": "https://evil.example"})
	if code != 403 || h.Get("Access-Control-Allow-Origin") != "" || deref(decodeErr(t, b).Code) != "origin_not_allowed" {
		t.Fatalf("unconfigured origin: %d %v %s", code, h, b)
	}
	code, h, _ = closed.do("OPTIONS", "/v1/assistants", nil, map[string]string{"Origin": "https://evil.example", "Authorization": "",
		"Access-Control-Request-Method": "POST"})
	if code != 403 || h.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("unconfigured preflight: %d %v", code, h)
	}

	open := newRig(t, nil, func(o *api.Options) { o.Origins = []string{"https://app.example"} })
	code, h, b = open.do("GET", "/v1/assistants", nil, map[string]string{"Origin": "https://app.example"})
	if code != 200 || h.Get("Access-Control-Allow-Origin") != "https://app.example" || !strings.Contains(h.Get("Vary"), "Origin") {
		t.Fatalf("configured origin: %d %v %s", code, h, b)
	}
	// A preflight carries no key, and is answered.
	code, h, _ = open.do("OPTIONS", "/v1/threads", nil, map[string]string{"Origin": "https://app.example", "Authorization": "",
		"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization, content-type, openai-beta"})
	allowH := strings.ToLower(h.Get("Access-Control-Allow-Headers"))
	if code != 204 || h.Get("Access-Control-Allow-Origin") != "https://app.example" || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
		!strings.Contains(allowH, "authorization") || !strings.Contains(allowH, "openai-beta") {
		t.Fatalf("preflight: %d %v", code, h)
	}
	// Another origin is still refused, and a configured one still needs the key.
	if code, _, _ := open.do("GET", "/v1/assistants", nil, map[string]string{"Origin": "https://evil.example"}); code != 403 {
		t.Fatalf("other origin: %d", code)
	}
	if code, _, _ := open.do("GET", "/v1/assistants", nil, map[string]string{"Origin": "https://app.example", "Authorization": ""}); code != 401 {
		t.Fatalf("configured origin without a key: %d", code)
	}
}

// TestMalformedRequestsNever5xx fires malformed bodies at every POST route
// and checks that each gets a 4xx in the error shape: never a 500, never a
// panic (the server's recover would answer 500).
func TestMalformedRequestsNever5xx(t *testing.T) {
	r := newRig(t, nil, nil)
	fx := makeFixture(t, r)
	th, run := fx.thread, fx.run
	routes := []string{
		"/v1/assistants", "/v1/assistants/" + fx.asst,
		"/v1/threads", "/v1/threads/" + th,
		"/v1/threads/" + th + "/messages", "/v1/threads/" + th + "/messages/" + fx.msg,
		"/v1/threads/runs", "/v1/threads/" + th + "/runs", "/v1/threads/" + th + "/runs/" + run,
		"/v1/threads/" + th + "/runs/" + run + "/submit_tool_outputs",
		"/openai/threads/" + th + "/messages?api-version=2024-02-15-preview",
		"/openai/assistants?api-version=2024-02-15-preview",
	}
	// Bodies that are not a JSON object are refused by every route.
	notObjects := []string{
		`[]`, `[{}]`, `[1,2,3]`, `null`, `true`, `""`, `"x"`, `0`, `-1`, `1e999`, `123456789012345678901234567890`,
		`{`, `}`, `{"a"}`, `{"a":1,}`, `{'a':1}`, "\x00", "\xff\xfe\xfd", `{"a":1} [2]`,
		`{"a":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}`,
	}
	// Objects with wrong types or values: each is refused by the routes
	// that take the field (and ignored by the others, as unknown fields
	// are, since newer SDKs send fields this server does not know).
	objects := []string{
		`{"metadata":null,"tools":[null]}`,
		`{"model":null,"tools":[{"type":"function","function":null}]}`,
		`{"model":"m","tools":[{"type":"function","function":{"name":"f","parameters":[]}}]}`,
		`{"model":"m","tools":[{"type":"function","function":{"name":"python"}},{"type":"code_interpreter"}]}`,
		`{"tools":[{"type":"function","function":{"name":"f"}},{"type":"function","function":{"name":"f"}}]}`,
		`{"tools":{}}`, `{"tools":[[]]}`, `{"tool_resources":[]}`, `{"tool_resources":{"code_interpreter":{"file_ids":"x"}}}`,
		`{"tool_resources":{"code_interpreter":{"file_ids":[null]}}}`,
		`{"tool_resources":{"code_interpreter":{"file_ids":["a","b","c","d","e","f","g","h","i","j","k","l","m","n","o","p","q","r","s","t","u"]}}}`,
		`{"metadata":{"` + strings.Repeat("k", 65) + `":"v"}}`, `{"metadata":{"k":"` + strings.Repeat("v", 513) + `"}}`,
		`{"metadata":` + manyKeys(17) + `}`, `{"metadata":{"k":null}}`, `{"metadata":[]}`, `{"metadata":"x"}`,
		`{"temperature":-1}`, `{"top_p":2}`, `{"temperature":"NaN"}`, `{"temperature":1e400}`, `{"response_format":5}`,
		`{"response_format":"json"}`, `{"response_format":{"type":"yaml"}}`, `{"name":"` + strings.Repeat("n", 300) + `"}`,
		`{"role":"user","content":null}`, `{"role":"user","content":[]}`, `{"role":"user","content":[null]}`,
		`{"role":"user","content":{}}`, `{"role":"user","content":[{"type":"text"}]}`, `{"role":"user","content":[{"type":"text","text":5}]}`,
		`{"role":"user","content":[{"type":"image_file","image_file":{}}]}`,
		`{"role":"user","content":[{"type":"image_file","image_file":{"file_id":"file-x"}}]}`,
		`{"role":"user","content":[{"type":"image_url"}]}`, `{"role":"user","content":"\ud800"}`,
		`{"role":["user"],"content":"x"}`, `{"role":"user","content":"x","attachments":{}}`, `{"role":"user","content":"x","attachments":[null]}`,
		`{"role":"user","content":"x","attachments":[{"file_id":"file-x","tools":"x"}]}`,
		`{"role":"user","content":"x","file_ids":[5]}`, `{"role":"user","content":"x","file_ids":["file-x"]}`,
		`{"messages":{}}`, `{"messages":[null]}`, `{"messages":[{"role":"user","content":5}]}`, `{"messages":"hi"}`,
		`{"thread":[]}`, `{"thread":{"messages":[{}]}}`, `{"thread":"t"}`,
		`{"assistant_id":null}`, `{"assistant_id":["a"]}`, `{"assistant_id":"asst_nope"}`,
		`{"assistant_id":"` + fx.asst + `","model":5}`,
		`{"assistant_id":"` + fx.asst + `","additional_messages":[{"role":"user"}]}`,
		`{"assistant_id":"` + fx.asst + `","additional_messages":{}}`,
		`{"assistant_id":"` + fx.asst + `","max_prompt_tokens":0}`,
		`{"assistant_id":"` + fx.asst + `","max_completion_tokens":1e30}`,
		`{"assistant_id":"` + fx.asst + `","truncation_strategy":{"type":"last_messages"}}`,
		`{"assistant_id":"` + fx.asst + `","truncation_strategy":{"type":"last_messages","last_messages":1e30}}`,
		`{"assistant_id":"` + fx.asst + `","truncation_strategy":"auto"}`,
		`{"assistant_id":"` + fx.asst + `","tool_choice":{"type":"function"}}`,
		`{"assistant_id":"` + fx.asst + `","tool_choice":{"type":"function","function":{"name":"nope"}}}`,
		`{"assistant_id":"` + fx.asst + `","tool_choice":{"type":"code_interpreter"}}`,
		`{"assistant_id":"` + fx.asst + `","tool_choice":[]}`, `{"assistant_id":"` + fx.asst + `","tool_choice":5}`,
		`{"assistant_id":"` + fx.asst + `","tools":[{"type":"nope"}]}`,
		`{"assistant_id":"` + fx.asst + `","parallel_tool_calls":"no"}`,
		`{"assistant_id":"` + fx.asst + `","stream":1}`,
		`{"tool_outputs":{}}`, `{"tool_outputs":[null]}`, `{"tool_outputs":[{"tool_call_id":5}]}`, `{"tool_outputs":"x"}`,
	}
	n, refused := 0, 0
	for _, route := range routes {
		for _, body := range notObjects {
			code, b := r.doJSON("POST", route, body)
			n++
			if code < 400 || code >= 500 || !bytes.HasPrefix(b, []byte(`{"error":`)) {
				t.Errorf("POST %s %.80q: %d %.300s", route, body, code, b)
			}
		}
		for _, body := range objects {
			code, b := r.doJSON("POST", route, body)
			n++
			if code >= 500 || (code >= 400 && !bytes.HasPrefix(b, []byte(`{"error":`))) {
				t.Errorf("POST %s %.80q: %d %.300s", route, body, code, b)
			}
			if code >= 400 {
				refused++
			}
		}
	}
	// Most of the objects name a field of most routes; a change that
	// ignored them all would show here.
	if refused < len(routes)*len(objects)/2 {
		t.Errorf("only %d of %d wrong objects were refused", refused, len(routes)*len(objects))
	}
	// Garbage uploads.
	uploads := []struct{ ctype, body string }{
		{"", ""},
		{"application/json", `{"purpose":"assistants"}`},
		{"multipart/form-data", "x"},
		{"multipart/form-data; boundary=zz", ""},
		{"multipart/form-data; boundary=zz", "garbage"},
		{"multipart/form-data; boundary=zz", "--zz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\nab"},
		{"multipart/form-data; boundary=zz", "--zz\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nassistants\r\n--zz--\r\n"},
		{"multipart/form-data; boundary=zz", "--zz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\na\r\n--zz--\r\n"},
		{"multipart/form-data; boundary=zz", "--zz\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nfine-tuning-of-evil\r\n--zz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\na\r\n--zz--\r\n"},
		{"multipart/form-data; boundary=zz", "--zz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\na\r\n--zz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"b.csv\"\r\n\r\nb\r\n--zz--\r\n"},
		{"multipart/form-data; boundary=zz", "--zz\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\na\r\n--zz--\r\n"},
		{"multipart/form-data; boundary=zz", "--zz\r\nContent-Disposition: form-data; name=\"file\"; filename=\".csv\"\r\n\r\na\r\n--zz--\r\n"},
		{"multipart/form-data; boundary=zz", "--zz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + strings.Repeat("a", 300) + ".csv\"\r\n\r\na\r\n--zz--\r\n"},
		{"multipart/form-data; boundary=zz", "--zz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"\xff\xfe.csv\"\r\n\r\na\r\n--zz--\r\n"},
		{"multipart/form-data; boundary=zz", "--zz\r\nContent-Disposition: form-data; name=\"file\"; filename*=UTF-8''%2e%2e%2f%2e%2e%2fx.csv\r\n\r\na\r\n--zz--\r\n"},
		{"text/plain", "hello"},
	}
	for _, u := range uploads {
		code, _, b := r.do("POST", "/v1/files", strings.NewReader(u.body), map[string]string{"Content-Type": u.ctype})
		n++
		if code < 400 || code >= 500 {
			t.Errorf("upload %q %.80q: %d %.300s", u.ctype, u.body, code, b)
			continue
		}
		decodeErr(t, b)
	}
	// Hostile query strings and path ids on the GET routes.
	for _, p := range []string{
		"/v1/assistants?limit=%00", "/v1/assistants?after=%00", "/v1/assistants?after=" + fx.thread,
		"/v1/threads/%00", "/v1/threads/" + th + "/messages?run_id=%00&limit=1",
		"/v1/files/%2e%2e%2f%2e%2e%2fetc%2fpasswd/content", "/v1/files?purpose=%00",
		"/v1/threads/" + th + "/messages?after=" + fx.asst,
	} {
		code, _, b := r.do("GET", p, nil, nil)
		n++
		if code >= 500 || (code >= 400 && !bytes.HasPrefix(b, []byte(`{"error":`))) {
			t.Errorf("GET %s: %d %.300s", p, code, b)
		}
	}
	t.Logf("%d malformed requests, none answered 5xx", n)
}

func manyKeys(n int) string {
	m := map[string]string{}
	for i := 0; i < n; i++ {
		m[fmt.Sprint("k", i)] = "v"
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// Run answers tell pollers how long to wait, as the hosted API did; the
// SDKs' createAndPoll would otherwise wait 5 s between polls.
func TestRunAnswersCarryPollInterval(t *testing.T) {
	r := newRig(t, nil, nil, modeltest.Turn{Text: "hi"})
	code, body := r.doJSON("POST", "/v1/assistants", `{"model":"m","tools":[{"type":"code_interpreter"}]}`)
	var a struct{ ID string }
	if code != 200 || json.Unmarshal(body, &a) != nil {
		t.Fatalf("assistant: %d %s", code, body)
	}
	code, header, body := r.do("POST", "/v1/threads/runs", strings.NewReader(`{"assistant_id":"`+a.ID+`","thread":{"messages":[{"role":"user","content":"hi"}]}}`), nil)
	if code != 200 || header.Get("openai-poll-after-ms") != "250" {
		t.Fatalf("create run: %d, poll-after %q: %s", code, header.Get("openai-poll-after-ms"), body)
	}
}

// Every answer carries the hosted API's x-request-id (unique),
// openai-version and openai-processing-ms headers: a JSON answer, an
// error, and a stream.
func TestResponseHeaders(t *testing.T) {
	r := newRig(t, nil, nil)
	fx := makeFixture(t, r)
	r.model.Add(text("Streamed."))
	seen := map[string]bool{}
	check := func(what string, h http.Header) {
		t.Helper()
		id := h.Get("X-Request-Id")
		if len(id) != 36 || !strings.HasPrefix(id, "req_") || seen[id] {
			t.Errorf("%s: x-request-id %q", what, id)
		}
		seen[id] = true
		if h.Get("Openai-Version") != "2020-10-01" {
			t.Errorf("%s: openai-version %q", what, h.Get("Openai-Version"))
		}
		if ms, err := strconv.Atoi(h.Get("Openai-Processing-Ms")); err != nil || ms < 0 {
			t.Errorf("%s: openai-processing-ms %q", what, h.Get("Openai-Processing-Ms"))
		}
	}
	_, h, _ := r.do("GET", "/v1/assistants", nil, nil)
	check("list", h)
	_, h, _ = r.do("GET", "/v1/threads/thread_nope", nil, nil)
	check("404", h)
	code, h, b := r.do("POST", "/v1/threads/"+fx.thread+"/runs", strings.NewReader(`{"assistant_id":"`+fx.asst+`","stream":true}`),
		map[string]string{"Content-Type": "application/json"})
	if code != 200 || !bytes.Contains(b, []byte("event: thread.run.created")) {
		t.Fatalf("stream: %d %s", code, b)
	}
	check("stream", h)
}
