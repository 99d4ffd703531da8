package openai

import (
	"bytes"
	"crypto/rand"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/openai/openai-go/v3"

	"plotline/app"
)

// accumulator builds the whole answer from a stream of chunks, passing each
// piece on as it comes.
//
// Tool calls are matched to their pieces by the chunk's index when the
// server sends one, and otherwise by id and position, because local servers
// (Ollama, older LM Studio, some llama.cpp builds) stream tool calls with
// no "index" at all. The SDK decodes a missing index as 0, so the JSON
// metadata (JSON.Index.Valid) tells the two apart. The rules:
//
//   - a piece whose id is known continues that call (some servers repeat
//     the id on every piece);
//   - a piece with a known index continues that call, unless it brings a
//     different id (some servers number every call 0);
//   - a piece with a new id or a new index starts a call;
//   - a piece with neither id nor index continues the last call, unless
//     it follows another piece in the same delta.
//
// Each call's Index in ChatCallDelta is its position in the answer, so it is
// stable whatever the wire said. A call that arrives without an id gets one.
type accumulator struct {
	onDelta func(app.ChatDelta)
	text    strings.Builder
	calls   []*callState
	byWire  map[int64]int  // the server's index → position
	byID    map[string]int // the server's id → position
	finish  string
	usage   app.Usage
	chunks  int
}

type callState struct {
	id, name string
	args     strings.Builder
	serverID bool // the server has named this call
}

func newAccumulator(onDelta func(app.ChatDelta)) *accumulator {
	if onDelta == nil {
		onDelta = func(app.ChatDelta) {}
	}
	return &accumulator{onDelta: onDelta, byWire: map[int64]int{}, byID: map[string]int{}}
}

func (a *accumulator) add(c openai.ChatCompletionChunk) {
	a.chunks++
	if c.JSON.Usage.Valid() {
		u := c.Usage
		a.usage = app.Usage{PromptTokens: u.PromptTokens, CompletionTokens: u.CompletionTokens, TotalTokens: u.TotalTokens}
		if a.usage.TotalTokens == 0 {
			a.usage.TotalTokens = u.PromptTokens + u.CompletionTokens
		}
	}
	for _, ch := range c.Choices {
		if ch.Index != 0 { // we ask for one choice; ignore any other
			continue
		}
		d := ch.Delta
		if text := d.Content + d.Refusal; text != "" {
			a.text.WriteString(text)
			a.onDelta(app.ChatDelta{Text: text})
		}
		for i, tc := range d.ToolCalls {
			a.call(tc, i > 0)
		}
		if ch.FinishReason != "" {
			a.finish = ch.FinishReason
		}
	}
}

// call takes one piece of a tool call; sibling is set for every piece but
// the first of a delta, which cannot belong to the same call as the first.
func (a *accumulator) call(tc openai.ChatCompletionChunkChoiceDeltaToolCall, sibling bool) {
	pos, started := a.locate(tc, sibling)
	st := a.calls[pos]
	if tc.ID != "" {
		a.byID[tc.ID] = pos
		st.serverID = true
	}
	name := tc.Function.Name
	switch {
	case name == "" || name == st.name:
		// Some servers repeat the whole name on every piece.
		name = ""
	default:
		st.name += name
	}
	args := tc.Function.Arguments
	st.args.WriteString(args)
	if started || name != "" || args != "" {
		a.onDelta(app.ChatDelta{Call: &app.ChatCallDelta{Index: pos, ID: st.id, Name: name, Arguments: args}})
	}
}

// locate finds the call a piece belongs to, starting one if need be.
func (a *accumulator) locate(tc openai.ChatCompletionChunkChoiceDeltaToolCall, sibling bool) (pos int, started bool) {
	if tc.ID != "" {
		if pos, ok := a.byID[tc.ID]; ok {
			return pos, false
		}
	}
	if tc.JSON.Index.Valid() {
		if pos, ok := a.byWire[tc.Index]; ok && (tc.ID == "" || !a.calls[pos].serverID) {
			return pos, false
		}
		pos := a.start(tc.ID)
		a.byWire[tc.Index] = pos
		return pos, true
	}
	if tc.ID != "" || sibling || len(a.calls) == 0 {
		return a.start(tc.ID), true
	}
	return len(a.calls) - 1, false
}

func (a *accumulator) start(id string) int {
	if id == "" {
		id = newCallID()
	}
	a.calls = append(a.calls, &callState{id: id})
	return len(a.calls) - 1
}

func (a *accumulator) result() *app.ChatResult {
	r := &app.ChatResult{Text: a.text.String(), FinishReason: a.finish, Usage: a.usage}
	for _, c := range a.calls {
		r.ToolCalls = append(r.ToolCalls, app.ChatToolCall{ID: c.id, Name: c.name, Arguments: c.args.String()})
	}
	return r
}

const idAlphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// newCallID makes an id in the style of OpenAI's: call_ and 24 letters and digits.
func newCallID() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return "call_" + string(b)
}

// watchDone is per-request middleware that wraps a successful response's
// body to notice the "data: [DONE]" line. The SDK's stream ends the same
// way at [DONE] and at a bare end of file, so without this a connection cut
// mid-answer would look like a short answer.
func watchDone(done *atomic.Bool) func(*http.Request, func(*http.Request) (*http.Response, error)) (*http.Response, error) {
	return func(req *http.Request, next func(*http.Request) (*http.Response, error)) (*http.Response, error) {
		res, err := next(req)
		if err == nil && res != nil && res.StatusCode < 300 && res.Body != nil {
			res.Body = &doneWatcher{rc: res.Body, done: done}
		}
		return res, err
	}
}

// doneWatcher passes a server-sent-event stream through, setting done when
// a line reads exactly "data: [DONE]". A model's text cannot fake it: the
// text travels inside JSON strings, where a newline is escaped.
type doneWatcher struct {
	rc   io.ReadCloser
	done *atomic.Bool
	line []byte // the start of the current line
	long bool   // the current line is longer than any [DONE] line
}

const maxDoneLine = 32

func (w *doneWatcher) Read(p []byte) (int, error) {
	n, err := w.rc.Read(p)
	for _, b := range p[:n] {
		if b == '\n' {
			w.endLine()
			continue
		}
		if len(w.line) < maxDoneLine {
			w.line = append(w.line, b)
		} else {
			w.long = true
		}
	}
	if err == io.EOF {
		w.endLine()
	}
	return n, err
}

func (w *doneWatcher) endLine() {
	if !w.long {
		l := bytes.TrimSpace(w.line)
		if v, ok := bytes.CutPrefix(l, []byte("data:")); ok && string(bytes.TrimSpace(v)) == "[DONE]" {
			w.done.Store(true)
		}
	}
	w.line, w.long = w.line[:0], false
}

func (w *doneWatcher) Close() error { return w.rc.Close() }

// watchRetries tells onDelta, before the SDK waits to make a call again,
// how long it will wait and why, so that the window can say "Rate
// limited; retrying in 20 s" instead of nothing. The wait is the SDK's
// rule: the server's Retry-After-Ms or Retry-After, else 0.5 s doubled
// on each attempt, up to 8 s (less a little jitter, which is not known
// here).
func watchRetries(retries int, onDelta func(app.ChatDelta)) func(*http.Request, func(*http.Request) (*http.Response, error)) (*http.Response, error) {
	attempt := 0
	return func(req *http.Request, next func(*http.Request) (*http.Response, error)) (*http.Response, error) {
		res, err := next(req)
		n := attempt
		attempt++
		if onDelta == nil || n >= retries || req.Context().Err() != nil {
			return res, err
		}
		status := 0
		switch {
		case err != nil:
		case res.StatusCode == http.StatusTooManyRequests || res.StatusCode >= 500:
			status = res.StatusCode
		default:
			return res, err
		}
		wait := retryWait(res, n)
		if wait < 0 {
			return res, err // longer than the SDK waits: it gives up
		}
		onDelta(app.ChatDelta{Retry: &app.ChatRetry{After: wait, Status: status}})
		return res, err
	}
}

// The SDK's limits: the longest backoff of its own, and the longest
// wait a server may ask for before the SDK gives up instead.
const (
	maxRetryWait      = 8 * time.Second
	maxRetryAfterWait = 2 * time.Minute
)

// retryWait is how long the SDK waits before attempt n+1 (n from 0), or
// -1 if the server asks for longer than it waits.
func retryWait(res *http.Response, n int) time.Duration {
	if res != nil {
		if v, err := strconv.ParseFloat(res.Header.Get("Retry-After-Ms"), 64); err == nil && v >= 0 {
			return checkWait(time.Duration(v * float64(time.Millisecond)))
		}
		if v, err := strconv.ParseFloat(res.Header.Get("Retry-After"), 64); err == nil && v >= 0 {
			return checkWait(time.Duration(v * float64(time.Second)))
		}
		if t, err := http.ParseTime(res.Header.Get("Retry-After")); err == nil {
			return checkWait(time.Until(t))
		}
	}
	return min(time.Duration(float64(500*time.Millisecond)*math.Pow(2, float64(n))), maxRetryWait)
}

func checkWait(d time.Duration) time.Duration {
	if d > maxRetryAfterWait {
		return -1
	}
	return max(d, 0)
}
