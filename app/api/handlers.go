package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"plotline/app"
	"plotline/app/engine"
)

// maxJSONBody bounds a JSON request body.
const maxJSONBody = 32 << 20

// decode reads a JSON body into v. An empty body is an empty object.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "invalid_request_error", "", "request_too_large", "The request body is larger than 32 MB.")
			return false
		}
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", "", "Could not read the request body.")
		return false
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		body = []byte("{}")
	} else if trimmed[0] != '{' {
		// json.Unmarshal takes "null" into a struct as a no-op, so a null
		// body used to create an assistant or a thread with defaults.
		// Every body of this API is an object.
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", "",
			"The request body must be a JSON object. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload.)")
		return false
	}
	if err := json.Unmarshal(body, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			writeError(w, http.StatusBadRequest, "invalid_request_error", te.Field, "",
				fmt.Sprintf("Invalid type for '%s': expected %s, but got %s.", te.Field, jsonKind(te.Type.Kind().String()), te.Value))
			return false
		}
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", "",
			"We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload.) "+err.Error())
		return false
	}
	return true
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "slice", "array":
		return "an array"
	case "map", "struct", "ptr":
		return "an object"
	case "bool":
		return "a boolean"
	}
	return "a number"
}

// listOptions reads limit, order, after and before.
func listOptions(w http.ResponseWriter, r *http.Request, maxLimit int) (app.ListOptions, bool) {
	q := r.URL.Query()
	o := app.ListOptions{Order: q.Get("order"), After: q.Get("after"), Before: q.Get("before")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			writeError(w, http.StatusBadRequest, "invalid_request_error", "limit", "",
				fmt.Sprintf("Invalid 'limit': expected an integer between 1 and %d.", maxLimit))
			return o, false
		}
		o.Limit = n
	}
	if o.Order != "" && o.Order != "asc" && o.Order != "desc" {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "order", "", "Invalid 'order': expected 'asc' or 'desc'.")
		return o, false
	}
	return o, true
}

// reply writes an object, in the v1 shapes when the Azure api-version asks.
func reply(w http.ResponseWriter, r *http.Request, v any) {
	if v1Shapes(apiVersion(r.Context())) {
		v = toV1(v)
	}
	writeJSON(w, http.StatusOK, v)
}

func deleted(w http.ResponseWriter, id, object string) {
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "object": object, "deleted": true})
}

// --- assistants ---

func (s *Server) createAssistant(w http.ResponseWriter, r *http.Request) {
	var p app.AssistantParams
	if !decode(w, r, &p) {
		return
	}
	a, err := s.eng.CreateAssistant(r.Context(), p)
	if err != nil {
		fail(w, r, err)
		return
	}
	reply(w, r, a)
}

func (s *Server) listAssistants(w http.ResponseWriter, r *http.Request) {
	o, ok := listOptions(w, r, 100)
	if !ok {
		return
	}
	l, err := s.eng.ListAssistants(r.Context(), o)
	if err != nil {
		fail(w, r, err)
		return
	}
	reply(w, r, l)
}

func (s *Server) getAssistant(w http.ResponseWriter, r *http.Request) {
	a, err := s.eng.GetAssistant(r.Context(), r.PathValue("id"))
	if err != nil {
		fail(w, r, err)
		return
	}
	reply(w, r, a)
}

func (s *Server) updateAssistant(w http.ResponseWriter, r *http.Request) {
	var p app.AssistantParams
	if !decode(w, r, &p) {
		return
	}
	a, err := s.eng.UpdateAssistant(r.Context(), r.PathValue("id"), p)
	if err != nil {
		fail(w, r, err)
		return
	}
	reply(w, r, a)
}

func (s *Server) deleteAssistant(w http.ResponseWriter, r *http.Request) {
	if err := s.eng.DeleteAssistant(r.Context(), r.PathValue("id")); err != nil {
		fail(w, r, err)
		return
	}
	deleted(w, r.PathValue("id"), "assistant.deleted")
}

// --- threads ---

func (s *Server) createThread(w http.ResponseWriter, r *http.Request) {
	var p app.ThreadParams
	if !decode(w, r, &p) {
		return
	}
	t, err := s.eng.CreateThread(r.Context(), p)
	if err != nil {
		fail(w, r, err)
		return
	}
	reply(w, r, t)
}

func (s *Server) getThread(w http.ResponseWriter, r *http.Request) {
	t, err := s.eng.GetThread(r.Context(), r.PathValue("thread"))
	if err != nil {
		fail(w, r, err)
		return
	}
	reply(w, r, t)
}

func (s *Server) updateThread(w http.ResponseWriter, r *http.Request) {
	var p app.ThreadParams
	if !decode(w, r, &p) {
		return
	}
	t, err := s.eng.UpdateThread(r.Context(), r.PathValue("thread"), p)
	if err != nil {
		fail(w, r, err)
		return
	}
	reply(w, r, t)
}

func (s *Server) deleteThread(w http.ResponseWriter, r *http.Request) {
	if err := s.eng.DeleteThread(r.Context(), r.PathValue("thread")); err != nil {
		fail(w, r, err)
		return
	}
	deleted(w, r.PathValue("thread"), "thread.deleted")
}

// --- messages ---

func (s *Server) createMessage(w http.ResponseWriter, r *http.Request) {
	var p app.MessageParams
	if !decode(w, r, &p) {
		return
	}
	m, stored, err := s.eng.CreateMessageJSON(r.Context(), r.PathValue("thread"), p)
	if err != nil {
		fail(w, r, err)
		return
	}
	if v1Shapes(apiVersion(r.Context())) {
		reply(w, r, m)
		return
	}
	writeStored(w, stored)
}

func (s *Server) listMessages(w http.ResponseWriter, r *http.Request) {
	o, ok := listOptions(w, r, 100)
	if !ok {
		return
	}
	if !v1Shapes(apiVersion(r.Context())) {
		// The stored JSON is the answer's: sent on without decoding.
		l, err := s.eng.ListMessagesJSON(r.Context(), r.PathValue("thread"), r.URL.Query().Get("run_id"), o)
		if err != nil {
			fail(w, r, err)
			return
		}
		writeStoredList(w, l)
		return
	}
	l, err := s.eng.ListMessages(r.Context(), r.PathValue("thread"), r.URL.Query().Get("run_id"), o)
	if err != nil {
		fail(w, r, err)
		return
	}
	reply(w, r, l)
}

func (s *Server) getMessage(w http.ResponseWriter, r *http.Request) {
	m, err := s.eng.GetMessage(r.Context(), r.PathValue("thread"), r.PathValue("id"))
	if err != nil {
		fail(w, r, err)
		return
	}
	reply(w, r, m)
}

func (s *Server) updateMessage(w http.ResponseWriter, r *http.Request) {
	var p struct {
		Metadata *app.Metadata `json:"metadata"`
	}
	if !decode(w, r, &p) {
		return
	}
	m, err := s.eng.UpdateMessage(r.Context(), r.PathValue("thread"), r.PathValue("id"), p.Metadata)
	if err != nil {
		fail(w, r, err)
		return
	}
	reply(w, r, m)
}

func (s *Server) deleteMessage(w http.ResponseWriter, r *http.Request) {
	if err := s.eng.DeleteMessage(r.Context(), r.PathValue("thread"), r.PathValue("id")); err != nil {
		fail(w, r, err)
		return
	}
	deleted(w, r.PathValue("id"), "thread.message.deleted")
}

// --- runs ---

func (s *Server) createRun(w http.ResponseWriter, r *http.Request) {
	var p app.RunParams
	if !decode(w, r, &p) {
		return
	}
	run, sub, err := s.eng.CreateRun(r.Context(), r.PathValue("thread"), p)
	s.answerRun(w, r, run, sub, err)
}

func (s *Server) createThreadAndRun(w http.ResponseWriter, r *http.Request) {
	var p app.ThreadRunParams
	if !decode(w, r, &p) {
		return
	}
	run, sub, err := s.eng.CreateThreadAndRun(r.Context(), p)
	s.answerRun(w, r, run, sub, err)
}

func (s *Server) submitToolOutputs(w http.ResponseWriter, r *http.Request) {
	var p struct {
		ToolOutputs []app.ToolOutput `json:"tool_outputs"`
		Stream      bool             `json:"stream"`
	}
	if !decode(w, r, &p) {
		return
	}
	run, sub, err := s.eng.SubmitToolOutputs(r.Context(), r.PathValue("thread"), r.PathValue("run"), p.ToolOutputs, p.Stream)
	s.answerRun(w, r, run, sub, err)
}

// answerRun answers a run's creation or resumption: the run, or with a
// subscription, its events as server-sent events.
// pollAfterMS is what the server tells clients to wait between polls of a
// run (the SDKs' createAndPoll read openai-poll-after-ms, and wait 5 s
// without it): the run lives on this machine, so polling is cheap.
const pollAfterMS = "250"

func (s *Server) answerRun(w http.ResponseWriter, r *http.Request, run *app.Run, sub *app.Subscription, err error) {
	w.Header().Set("openai-poll-after-ms", pollAfterMS)
	if err != nil {
		fail(w, r, err)
		return
	}
	if sub == nil {
		reply(w, r, run)
		return
	}
	defer sub.Close()
	stream(w, r, run.ID, sub)
}

func (s *Server) listRuns(w http.ResponseWriter, r *http.Request) {
	o, ok := listOptions(w, r, 100)
	if !ok {
		return
	}
	l, err := s.eng.ListRuns(r.Context(), r.PathValue("thread"), o)
	if err != nil {
		fail(w, r, err)
		return
	}
	reply(w, r, l)
}

func (s *Server) getRun(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("openai-poll-after-ms", pollAfterMS)
	run, err := s.eng.GetRun(r.Context(), r.PathValue("thread"), r.PathValue("run"))
	if err != nil {
		fail(w, r, err)
		return
	}
	reply(w, r, run)
}

func (s *Server) updateRun(w http.ResponseWriter, r *http.Request) {
	var p struct {
		Metadata *app.Metadata `json:"metadata"`
	}
	if !decode(w, r, &p) {
		return
	}
	run, err := s.eng.UpdateRun(r.Context(), r.PathValue("thread"), r.PathValue("run"), p.Metadata)
	if err != nil {
		fail(w, r, err)
		return
	}
	reply(w, r, run)
}

func (s *Server) cancelRun(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("openai-poll-after-ms", pollAfterMS)
	run, err := s.eng.CancelRun(r.Context(), r.PathValue("thread"), r.PathValue("run"))
	if err != nil {
		fail(w, r, err)
		return
	}
	reply(w, r, run)
}

func (s *Server) listRunSteps(w http.ResponseWriter, r *http.Request) {
	o, ok := listOptions(w, r, 100)
	if !ok {
		return
	}
	l, err := s.eng.ListRunSteps(r.Context(), r.PathValue("thread"), r.PathValue("run"), o)
	if err != nil {
		fail(w, r, err)
		return
	}
	reply(w, r, l)
}

func (s *Server) getRunStep(w http.ResponseWriter, r *http.Request) {
	st, err := s.eng.GetRunStep(r.Context(), r.PathValue("thread"), r.PathValue("run"), r.PathValue("id"))
	if err != nil {
		fail(w, r, err)
		return
	}
	reply(w, r, st)
}

// --- files ---

// uploadTypes are the file extensions the API accepts.
var uploadTypes = map[string]bool{}

// jsonlPurposes are the purposes whose files are JSON Lines (.jsonl).
var jsonlPurposes = map[string]bool{"batch": true, "fine-tune": true, "evals": true}

func init() {
	for _, e := range strings.Fields(".c .cpp .csv .docx .html .java .json .md .pdf .php .pptx .py .rb .tex .txt .css .jpeg .jpg .js .gif .png .tar .ts .xlsx .xml .zip") {
		uploadTypes[e] = true
	}
}

// createFile takes a multipart upload and streams its file part to disk.
// The form's fields may come in any order: the bytes are stored first and
// the File object is made once the purpose is known.
func (s *Server) createFile(w http.ResponseWriter, r *http.Request) {
	limit := s.eng.MaxFileSize()
	if r.ContentLength > limit+1<<20 {
		writeError(w, http.StatusRequestEntityTooLarge, "invalid_request_error", "file", "file_too_large",
			fmt.Sprintf("The file is larger than the %d MB limit.", limit>>20))
		return
	}
	if r.ContentLength != 0 {
		// The request passed auth: a large file over a slow link takes far
		// longer than the read timeout every request starts with.
		http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.limits.UploadTimeout))
	}
	mr, err := r.MultipartReader()
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "file", "", "Expected a multipart/form-data body with a 'file' and a 'purpose'.")
		return
	}
	var (
		purpose  string
		filename string
		stored   engine.StoredBytes
		haveFile bool
	)
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid_request_error", "", "", "Could not read the multipart body: "+err.Error())
			return
		}
		switch part.FormName() {
		case "purpose":
			b, _ := io.ReadAll(io.LimitReader(part, 256))
			purpose = strings.TrimSpace(string(b))
		case "file":
			if haveFile {
				writeError(w, http.StatusBadRequest, "invalid_request_error", "file", "", "Only one file can be uploaded at a time.")
				return
			}
			filename = path.Base(strings.ReplaceAll(part.FileName(), `\`, "/"))
			if filename == "" || filename == "." || filename == "/" {
				writeError(w, http.StatusBadRequest, "invalid_request_error", "file", "", "The file part has no file name.")
				return
			}
			if ext := strings.ToLower(path.Ext(filename)); !uploadTypes[ext] && ext != ".jsonl" {
				writeError(w, http.StatusUnsupportedMediaType, "invalid_request_error", "file", "unsupported_file",
					fmt.Sprintf("Invalid file format %q. Supported formats: %s", ext, supportedList()))
				return
			}
			body := &readErr{r: part}
			stored, err = s.eng.StoreBytes(r.Context(), body)
			if err != nil && body.err != nil && !errors.Is(err, app.ErrTooLarge) {
				// The client's body broke off (a truncated form, a dropped
				// connection): its fault, not the server's, so a 400 and
				// not the 500 an engine error gets.
				writeError(w, http.StatusBadRequest, "invalid_request_error", "file", "",
					"Could not read the uploaded file: "+body.err.Error())
				return
			}
			if err != nil {
				fail(w, r, err)
				return
			}
			haveFile = true
		}
		part.Close()
	}
	if !haveFile {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "file", "", "Missing required parameter: 'file'.")
		return
	}
	if purpose == "" {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "purpose", "", "Missing required parameter: 'purpose'.")
		return
	}
	if !engine.UploadPurposes[purpose] {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "purpose", "",
			fmt.Sprintf("Invalid value for 'purpose': %q. Use 'assistants'.", purpose))
		return
	}
	// JSON Lines are the batch, fine-tune and evals purposes' format, and
	// no other purpose's.
	if strings.ToLower(path.Ext(filename)) == ".jsonl" && !jsonlPurposes[purpose] {
		writeError(w, http.StatusUnsupportedMediaType, "invalid_request_error", "file", "unsupported_file",
			fmt.Sprintf("Invalid file format \".jsonl\" for purpose %q: JSON Lines files are for the batch, fine-tune and evals purposes. Supported formats: %s", purpose, supportedList()))
		return
	}
	f, err := s.eng.CreateFileFromBytes(r.Context(), filename, purpose, stored)
	if err != nil {
		fail(w, r, err)
		return
	}
	reply(w, r, f)
}

// readErr remembers the error its reader failed with (other than EOF).
type readErr struct {
	r   io.Reader
	err error
}

func (e *readErr) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		e.err = err
	}
	return n, err
}

func supportedList() string {
	var l []string
	for e := range uploadTypes {
		l = append(l, e)
	}
	return strings.Join(sortStrings(l), ", ")
}

func (s *Server) listFiles(w http.ResponseWriter, r *http.Request) {
	o, ok := listOptions(w, r, 10000)
	if !ok {
		return
	}
	l, err := s.eng.ListFiles(r.Context(), r.URL.Query().Get("purpose"), o)
	if err != nil {
		fail(w, r, err)
		return
	}
	reply(w, r, l)
}

func (s *Server) getFile(w http.ResponseWriter, r *http.Request) {
	f, err := s.eng.GetFile(r.Context(), r.PathValue("id"))
	if err != nil {
		fail(w, r, err)
		return
	}
	reply(w, r, f)
}

func (s *Server) deleteFile(w http.ResponseWriter, r *http.Request) {
	if err := s.eng.DeleteFile(r.Context(), r.PathValue("id")); err != nil {
		fail(w, r, err)
		return
	}
	deleted(w, r.PathValue("id"), "file")
}

func (s *Server) fileContent(w http.ResponseWriter, r *http.Request) {
	f, rc, err := s.eng.OpenFile(r.Context(), r.PathValue("id"))
	if err != nil {
		fail(w, r, err)
		return
	}
	defer rc.Close()
	name := path.Base(f.Filename)
	ctype := mime.TypeByExtension(strings.ToLower(path.Ext(name)))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", timeOf(f.CreatedAt), rc)
}
