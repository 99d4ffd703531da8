// Package modeltest is a scripted model server for tests: an in-process HTTP
// server that speaks the Chat Completions wire format (OpenAI and Azure paths,
// JSON and server-sent events) and plays a list of scripted Turns, one per
// request. The engine, API and UI tests all use it in place of a real model.
//
// A typical test:
//
//	s := modeltest.NewServer(t,
//		modeltest.Turn{ToolCalls: []modeltest.ToolCall{{Name: "python", Arguments: `{"code":"print(1)"}`}}},
//		modeltest.Turn{Text: "The answer is 1."},
//	)
//	client := openai.NewClient(option.WithBaseURL(s.BaseURL()), option.WithAPIKey("test"))
//	... drive the engine ...
//	reqs := s.Requests() // what the engine sent, decoded
//
// A request that arrives after the script has run out gets a 500 and fails
// the test at cleanup (see [Server.AllowExhaustion]).
package modeltest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"
)

// Turn is one scripted model reply.
type Turn struct {
	Text         string     // assistant content (may be empty when ToolCalls are set)
	ToolCalls    []ToolCall // function tool calls the model makes
	FinishReason string     // default: "tool_calls" when ToolCalls, else "stop"

	Status       int    // non-zero: answer with this HTTP error status (>= 400) instead, e.g. 429, 500, 400
	ErrorMessage string // the error's message; default: the status text
	ErrorType    string // the error's type; default from Status, e.g. "invalid_request_error", "server_error"
	ErrorCode    string // e.g. "rate_limit_exceeded", "context_length_exceeded"; empty sends null
	RetryAfter   string // Retry-After header value for error turns, e.g. "0" or "1"

	Delay      time.Duration // wait before answering; stops early if the client goes away
	ChunkDelay time.Duration // when streaming, wait between events (for cancellation and progress tests)
	ChunkSize  int           // when streaming, split content and each call's arguments into pieces of this many bytes (default 4)
	OmitIndex  bool          // stream tool call deltas without "index", as some local servers (Ollama, older LM Studio) do

	Usage *Usage // token usage to report; default computed roughly from lengths

	// Respond, if set, computes the reply from the request; its result is
	// played instead of this Turn (after this Turn's Delay; the result's own
	// Respond is ignored).
	Respond func(Request) Turn
}

// ToolCall is one function call made by the model, or one recorded in an
// assistant message the client sent back.
type ToolCall struct {
	ID        string // scripted: defaults to "call_<n>", n counting the server's calls from 1
	Name      string
	Arguments string // JSON text, exactly as streamed
}

// Usage is the token usage a Turn reports.
type Usage struct {
	PromptTokens, CompletionTokens int
}

// Request is one request the server received, decoded.
type Request struct {
	Method, Path string
	APIVersion   string // ?api-version= on Azure paths
	Deployment   string // from /openai/deployments/{d}/chat/completions
	Header       http.Header
	Body         map[string]any // the raw decoded JSON body; nil if the body was not a JSON object
	Model        string
	Stream       bool
	Messages     []Message
	Tools        []ToolDef
	ToolChoice   any // as sent: "auto", "none", "required", the object, or nil when absent
	Turn         int // index in the script of the turn played for this request; -1 if none was
}

// Message is one decoded message of a request.
type Message struct {
	Role       string
	Content    string // for array content, the text parts concatenated
	ToolCallID string
	ToolCalls  []ToolCall
	Name       string
}

// ToolDef is one decoded function tool of a request.
type ToolDef struct {
	Name        string
	Description string
	Parameters  map[string]any
}

// Server is a scripted Chat Completions server. It is safe for concurrent
// use; requests are matched to turns in arrival order.
type Server struct {
	t    testing.TB
	http *httptest.Server
	done chan struct{} // closed at cleanup, so Delays stop

	active atomic.Int32 // handlers running; lets tests see a handler give up

	mu             sync.Mutex
	turns          []Turn
	next           int // index of the next turn to play
	requests       []Request
	calls          int // tool calls given a default ID so far
	responses      int // completion IDs handed out so far
	exhausted      []string
	allowExhausted bool
}

// NewServer starts a scripted server on 127.0.0.1 playing turns in order.
// It is closed in t.Cleanup, which also fails the test if a request arrived
// after the turns ran out.
// ClosedAddr returns a loopback address (host:port) where nothing listens:
// a model server that refuses connections.
func ClosedAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func NewServer(t testing.TB, turns ...Turn) *Server {
	t.Helper()
	s := &Server{t: t, done: make(chan struct{}), turns: append([]Turn(nil), turns...)}
	s.http = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(s.close)
	return s
}

func (s *Server) close() {
	close(s.done)
	s.http.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.exhausted) > 0 && !s.allowExhausted {
		s.t.Errorf("modeltest: %d request(s) arrived with no scripted turn left (%d scripted):\n  %s",
			len(s.exhausted), len(s.turns), strings.Join(s.exhausted, "\n  "))
	}
}

// BaseURL is the OpenAI-style base URL, ending in /v1, for option.WithBaseURL
// or OPENAI_BASE_URL.
func (s *Server) BaseURL() string { return s.http.URL + "/v1" }

// AzureEndpoint is the root URL, for azure.WithEndpoint(endpoint, apiVersion).
// The server speaks plain http, so openai-go also needs
// azure.WithUnsafeAllowHTTP() or it refuses to send the api-key.
func (s *Server) AzureEndpoint() string { return s.http.URL }

// Add appends turns to the script.
func (s *Server) Add(turns ...Turn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.turns = append(s.turns, turns...)
}

// Requests returns copies of every request received so far, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, len(s.requests))
	for i, r := range s.requests {
		out[i] = r.clone()
	}
	return out
}

// Pending is the number of turns not yet played.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.turns) - s.next
}

// AllowExhaustion stops cleanup from failing the test when requests arrive
// after the script ran out; use it to test how a client handles that 500.
func (s *Server) AllowExhaustion() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.allowExhausted = true
}

// route kinds
const (
	routeNone = iota
	routeOpenAI
	routeAzure
)

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.active.Add(1)
	defer s.active.Add(-1)
	req := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Turn: -1}
	kind := routeNone
	switch {
	case r.URL.Path == "/v1/chat/completions" || r.URL.Path == "/chat/completions":
		kind = routeOpenAI
	default:
		if d, ok := azureDeployment(r.URL.EscapedPath()); ok {
			kind = routeAzure
			req.Deployment = d
			req.APIVersion = r.URL.Query().Get("api-version")
		}
	}

	switch {
	case kind == routeNone:
		s.record(req)
		writeError(w, http.StatusNotFound, fmt.Sprintf("Invalid URL (%s %s)", r.Method, r.URL.Path), "invalid_request_error", "")
		return
	case r.Method != http.MethodPost:
		s.record(req)
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, fmt.Sprintf("Method %s not allowed on %s", r.Method, r.URL.Path), "invalid_request_error", "")
		return
	case kind == routeAzure && req.APIVersion == "":
		s.record(req)
		writeJSON(w, http.StatusNotFound, map[string]any{"error": map[string]any{"code": "404", "message": "Resource not found"}})
		return
	}

	raw, err := io.ReadAll(r.Body)
	if err == nil {
		err = json.Unmarshal(raw, &req.Body)
	}
	if err != nil {
		s.record(req)
		writeError(w, http.StatusBadRequest, "modeltest: request body is not a JSON object: "+err.Error(), "invalid_request_error", "")
		return
	}
	req.decodeBody()

	s.mu.Lock()
	n := len(s.requests) + 1
	turn, ok := Turn{}, s.next < len(s.turns)
	if ok {
		turn, req.Turn = s.turns[s.next], s.next
		s.next++
	} else {
		s.exhausted = append(s.exhausted, fmt.Sprintf("request %d: %s %s, model %q, last message %s",
			n, req.Method, req.Path, req.Model, lastMessage(req.Messages)))
	}
	s.requests = append(s.requests, req)
	scripted := len(s.turns)
	s.mu.Unlock()

	if !ok {
		writeError(w, http.StatusInternalServerError,
			fmt.Sprintf("modeltest: no scripted turn left for request %d (%d scripted, all played)", n, scripted),
			"server_error", "modeltest_no_turn_left")
		return
	}

	if !s.wait(r.Context(), turn.Delay) {
		return
	}
	if turn.Respond != nil {
		turn = turn.Respond(req.clone())
		if !s.wait(r.Context(), turn.Delay) {
			return
		}
	}

	if turn.Status != 0 {
		if turn.RetryAfter != "" {
			w.Header().Set("Retry-After", turn.RetryAfter)
		}
		msg := turn.ErrorMessage
		if msg == "" {
			msg = http.StatusText(turn.Status)
		}
		typ := turn.ErrorType
		if typ == "" {
			typ = errorType(turn.Status)
		}
		writeError(w, turn.Status, msg, typ, turn.ErrorCode)
		return
	}

	model := req.Model
	if model == "" {
		model = req.Deployment
	}
	p := s.prepare(turn, req, model)
	if req.Stream {
		s.stream(w, r.Context(), p, includeUsage(req.Body))
	} else {
		writeJSON(w, http.StatusOK, p.completion())
	}
}

func (s *Server) record(req Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, req)
}

// wait sleeps for d; it reports false if the client or the server went away first.
func (s *Server) wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	case <-s.done:
		return false
	}
}

// azureDeployment matches /openai/deployments/{deployment}/chat/completions.
func azureDeployment(escapedPath string) (string, bool) {
	rest, ok := strings.CutPrefix(escapedPath, "/openai/deployments/")
	if !ok {
		return "", false
	}
	d, ok := strings.CutSuffix(rest, "/chat/completions")
	if !ok || d == "" || strings.Contains(d, "/") {
		return "", false
	}
	d, err := url.PathUnescape(d)
	return d, err == nil
}

func errorType(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return "authentication_error"
	case status == http.StatusTooManyRequests:
		return "rate_limit_error"
	case status >= 500:
		return "server_error"
	default:
		return "invalid_request_error"
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers in the OpenAI error shape.
func writeError(w http.ResponseWriter, status int, message, typ, code string) {
	var c any
	if code != "" {
		c = code
	}
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"message": message, "type": typ, "param": nil, "code": c,
	}})
}

// played is a turn made ready to send: defaults filled in.
type played struct {
	id, model  string
	created    int64
	text       string
	calls      []ToolCall
	finish     string
	usage      Usage
	chunkSize  int
	chunkDelay time.Duration
	omitIndex  bool
}

func (s *Server) prepare(turn Turn, req Request, model string) played {
	s.mu.Lock()
	s.responses++
	p := played{
		id:         "chatcmpl-modeltest-" + strconv.Itoa(s.responses),
		model:      model,
		created:    time.Now().Unix(),
		text:       turn.Text,
		calls:      append([]ToolCall(nil), turn.ToolCalls...),
		finish:     turn.FinishReason,
		chunkSize:  turn.ChunkSize,
		chunkDelay: turn.ChunkDelay,
		omitIndex:  turn.OmitIndex,
	}
	for i := range p.calls {
		if p.calls[i].ID == "" {
			s.calls++
			p.calls[i].ID = "call_" + strconv.Itoa(s.calls)
		}
	}
	s.mu.Unlock()

	if p.finish == "" {
		p.finish = "stop"
		if len(p.calls) > 0 {
			p.finish = "tool_calls"
		}
	}
	if p.chunkSize <= 0 {
		p.chunkSize = 4
	}
	if turn.Usage != nil {
		p.usage = *turn.Usage
	} else {
		in := 0
		for _, m := range req.Messages {
			in += len(m.Content) + 4
			for _, c := range m.ToolCalls {
				in += len(c.Name) + len(c.Arguments)
			}
		}
		out := len(p.text)
		for _, c := range p.calls {
			out += len(c.Name) + len(c.Arguments)
		}
		p.usage = Usage{PromptTokens: max(1, in/4), CompletionTokens: max(1, out/4)}
	}
	return p
}

type wireUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

func (p played) wireUsage() *wireUsage {
	return &wireUsage{p.usage.PromptTokens, p.usage.CompletionTokens, p.usage.PromptTokens + p.usage.CompletionTokens}
}

type wireFunction struct {
	Name      string `json:"name,omitempty"`
	Arguments string `json:"arguments"`
}

type wireToolCall struct {
	Index    *int         `json:"index,omitempty"`
	ID       string       `json:"id,omitempty"`
	Type     string       `json:"type,omitempty"`
	Function wireFunction `json:"function"`
}

func (p played) completion() any {
	type message struct {
		Role      string         `json:"role"`
		Content   *string        `json:"content"`
		Refusal   *string        `json:"refusal"`
		ToolCalls []wireToolCall `json:"tool_calls,omitempty"`
	}
	type choice struct {
		Index        int     `json:"index"`
		Message      message `json:"message"`
		Logprobs     any     `json:"logprobs"`
		FinishReason string  `json:"finish_reason"`
	}
	m := message{Role: "assistant"}
	if p.text != "" {
		m.Content = &p.text
	}
	for _, c := range p.calls {
		m.ToolCalls = append(m.ToolCalls, wireToolCall{ID: c.ID, Type: "function", Function: wireFunction{Name: c.Name, Arguments: c.Arguments}})
	}
	return struct {
		ID      string     `json:"id"`
		Object  string     `json:"object"`
		Created int64      `json:"created"`
		Model   string     `json:"model"`
		Choices []choice   `json:"choices"`
		Usage   *wireUsage `json:"usage"`
	}{p.id, "chat.completion", p.created, p.model, []choice{{Message: m, FinishReason: p.finish}}, p.wireUsage()}
}

type chunkDelta struct {
	Role      string         `json:"role,omitempty"`
	Content   *string        `json:"content,omitempty"`
	ToolCalls []wireToolCall `json:"tool_calls,omitempty"`
}

type chunkChoice struct {
	Index        int        `json:"index"`
	Delta        chunkDelta `json:"delta"`
	Logprobs     any        `json:"logprobs"`
	FinishReason *string    `json:"finish_reason"`
}

type chunk struct {
	ID      string        `json:"id"`
	Object  string        `json:"object"`
	Created int64         `json:"created"`
	Model   string        `json:"model"`
	Choices []chunkChoice `json:"choices"`
	Usage   *wireUsage    `json:"usage,omitempty"`
}

// stream writes the turn as server-sent chat.completion.chunk events.
func (s *Server) stream(w http.ResponseWriter, ctx context.Context, p played, withUsage bool) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)

	first := true
	send := func(c chunk) bool {
		if !first && !s.wait(ctx, p.chunkDelay) {
			return false
		}
		first = false
		c.ID, c.Object, c.Created, c.Model = p.id, "chat.completion.chunk", p.created, p.model
		if c.Choices == nil {
			c.Choices = []chunkChoice{}
		}
		b, err := json.Marshal(c)
		if err != nil {
			panic(err) // our own types always marshal
		}
		if _, err := fmt.Fprintf(w, "data: %s\n\n", b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	delta := func(d chunkDelta) bool {
		return send(chunk{Choices: []chunkChoice{{Delta: d}}})
	}

	start := chunkDelta{Role: "assistant"}
	if p.text != "" {
		empty := ""
		start.Content = &empty
	}
	if !delta(start) {
		return
	}
	for _, piece := range split(p.text, p.chunkSize) {
		if !delta(chunkDelta{Content: &piece}) {
			return
		}
	}
	for i, c := range p.calls {
		index := &i
		if p.omitIndex {
			index = nil
		}
		head := wireToolCall{Index: index, ID: c.ID, Type: "function", Function: wireFunction{Name: c.Name}}
		if !delta(chunkDelta{ToolCalls: []wireToolCall{head}}) {
			return
		}
		for _, piece := range split(c.Arguments, p.chunkSize) {
			if !delta(chunkDelta{ToolCalls: []wireToolCall{{Index: index, Function: wireFunction{Arguments: piece}}}}) {
				return
			}
		}
	}
	if !send(chunk{Choices: []chunkChoice{{Delta: chunkDelta{}, FinishReason: &p.finish}}}) {
		return
	}
	if withUsage && !send(chunk{Usage: p.wireUsage()}) {
		return
	}
	if _, err := io.WriteString(w, "data: [DONE]\n\n"); err == nil {
		_ = rc.Flush()
	}
}

// split cuts s into pieces of at most size bytes, never inside a UTF-8
// character (a piece holds at least one character).
func split(s string, size int) []string {
	var out []string
	for len(s) > 0 {
		n := 0
		for n < len(s) {
			_, w := utf8.DecodeRuneInString(s[n:])
			if n > 0 && n+w > size {
				break
			}
			n += w
		}
		out = append(out, s[:n])
		s = s[n:]
	}
	return out
}

func includeUsage(body map[string]any) bool {
	opts, _ := body["stream_options"].(map[string]any)
	v, _ := opts["include_usage"].(bool)
	return v
}

func lastMessage(ms []Message) string {
	if len(ms) == 0 {
		return "(none)"
	}
	m := ms[len(ms)-1]
	c := m.Content
	if len(c) > 80 {
		c = c[:80] + "…"
	}
	return fmt.Sprintf("%s: %q", m.Role, c)
}

// decodeBody fills the typed fields from Body.
func (r *Request) decodeBody() {
	r.Model, _ = r.Body["model"].(string)
	r.Stream, _ = r.Body["stream"].(bool)
	r.ToolChoice = r.Body["tool_choice"]
	msgs, _ := r.Body["messages"].([]any)
	for _, v := range msgs {
		m, _ := v.(map[string]any)
		var msg Message
		msg.Role, _ = m["role"].(string)
		msg.Name, _ = m["name"].(string)
		msg.ToolCallID, _ = m["tool_call_id"].(string)
		switch c := m["content"].(type) {
		case string:
			msg.Content = c
		case []any:
			var b strings.Builder
			for _, part := range c {
				p, _ := part.(map[string]any)
				if t, _ := p["type"].(string); t == "text" {
					text, _ := p["text"].(string)
					b.WriteString(text)
				}
			}
			msg.Content = b.String()
		}
		calls, _ := m["tool_calls"].([]any)
		for _, cv := range calls {
			c, _ := cv.(map[string]any)
			f, _ := c["function"].(map[string]any)
			var tc ToolCall
			tc.ID, _ = c["id"].(string)
			tc.Name, _ = f["name"].(string)
			tc.Arguments, _ = f["arguments"].(string)
			msg.ToolCalls = append(msg.ToolCalls, tc)
		}
		r.Messages = append(r.Messages, msg)
	}
	tools, _ := r.Body["tools"].([]any)
	for _, v := range tools {
		t, _ := v.(map[string]any)
		if typ, _ := t["type"].(string); typ != "function" && typ != "" {
			continue
		}
		f, _ := t["function"].(map[string]any)
		var d ToolDef
		d.Name, _ = f["name"].(string)
		d.Description, _ = f["description"].(string)
		d.Parameters, _ = f["parameters"].(map[string]any)
		r.Tools = append(r.Tools, d)
	}
}

// clone deep-copies r, so callers cannot disturb the record.
func (r Request) clone() Request {
	c := r
	c.Header = r.Header.Clone()
	c.Body, _ = deepCopy(r.Body).(map[string]any)
	c.ToolChoice = deepCopy(r.ToolChoice)
	if r.Messages != nil {
		c.Messages = make([]Message, len(r.Messages))
		for i, m := range r.Messages {
			m.ToolCalls = append([]ToolCall(nil), m.ToolCalls...)
			c.Messages[i] = m
		}
	}
	if r.Tools != nil {
		c.Tools = make([]ToolDef, len(r.Tools))
		for i, t := range r.Tools {
			t.Parameters, _ = deepCopy(t.Parameters).(map[string]any)
			c.Tools[i] = t
		}
	}
	return c
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		if v == nil {
			return v
		}
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		if v == nil {
			return v
		}
		s := make([]any, len(v))
		for i, e := range v {
			s[i] = deepCopy(e)
		}
		return s
	default:
		return v
	}
}

// PythonCall is a model turn that runs code with the python tool.
func PythonCall(code string) Turn {
	args, _ := json.Marshal(map[string]string{"code": code})
	return Turn{ToolCalls: []ToolCall{{Name: "python", Arguments: string(args)}}}
}
