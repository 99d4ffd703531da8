package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/packages/ssestream"

	"plotline/app"
)

// mapError turns what the SDK returned into the engine's terms: the
// context's own error when ctx is done, *app.ModelError otherwise.
func mapError(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return ctxErr
	}
	var me *app.ModelError
	if errors.As(err, &me) {
		return me
	}
	var apiErr *openai.Error
	if errors.As(err, &apiErr) {
		e := &app.ModelError{
			Status:  apiErr.StatusCode,
			Code:    apiErr.Code,
			Message: strings.TrimSpace(apiErr.Message),
		}
		if e.Code == "" {
			e.Code = apiErr.Type
		}
		if e.Message == "" {
			e.Message = http.StatusText(apiErr.StatusCode)
		}
		if apiErr.Response != nil {
			e.RetryAfter = retryAfter(apiErr.Response.Header, time.Now())
		}
		return e
	}
	var streamErr *ssestream.StreamError
	if errors.As(err, &streamErr) {
		return streamError(streamErr.Event.Data)
	}
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &syntaxErr) || errors.As(err, &typeErr) {
		return &app.ModelError{Message: "the model server sent a malformed chunk: " + err.Error()}
	}
	msg := err.Error()
	if errors.Is(err, context.DeadlineExceeded) || strings.Contains(msg, "timeout awaiting response headers") {
		msg = "no response from the model server in time: " + msg
	}
	return &app.ModelError{Message: msg}
}

// streamError describes an error event that arrived in place of a chunk,
// after the 200: it has no HTTP status of its own, so Status stays 0 unless
// the event carries one.
func streamError(data []byte) *app.ModelError {
	var ev struct {
		Error json.RawMessage `json:"error"`
	}
	_ = json.Unmarshal(data, &ev)
	body := canonicalError(ev.Error, 0)
	e := &app.ModelError{Code: body.Code, Message: body.Message}
	if e.Code == "" {
		e.Code = body.Type
	}
	if body.status >= 400 {
		e.Status = body.status
	}
	if e.Message == "" {
		e.Message = "the model server reported an error mid-stream"
	}
	e.Message = "stream failed: " + e.Message
	return e
}

// retryAfter reads Retry-After-Ms or Retry-After (seconds or an HTTP date).
func retryAfter(h http.Header, now time.Time) time.Duration {
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s > 0 {
			return time.Duration(s * float64(time.Second))
		}
		return 0
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// errorBody is an error in OpenAI's shape.
type errorBody struct {
	Message string `json:"message"`
	Type    string `json:"type"`
	Param   any    `json:"param"`
	Code    string `json:"code"`
	status  int
}

// canonicalError reads an error in any of the shapes servers use —
// OpenAI's {"error":{…}} (already unwrapped here), Ollama's {"error":"…"},
// vLLM's top-level {"message":…,"code":400}, FastAPI's {"detail":…}, or
// plain text — into OpenAI's shape. raw is the value of "error", or the
// whole body when it has none.
func canonicalError(raw []byte, status int) errorBody {
	out := errorBody{status: status}
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return out
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		out.Message = truncate(string(raw), 500)
		return out
	}
	switch v := v.(type) {
	case string:
		out.Message = v
	case map[string]any:
		if inner, ok := v["error"]; ok {
			b, _ := json.Marshal(inner)
			return canonicalError(b, status)
		}
		out.Message = stringish(v["message"])
		if out.Message == "" {
			out.Message = stringish(v["detail"])
		}
		out.Type = stringish(v["type"])
		out.Code = stringish(v["code"])
		out.Param = v["param"]
		if n, err := strconv.Atoi(out.Code); err == nil && n >= 400 && n < 600 {
			out.status = n
		}
		if s, ok := v["status"].(float64); ok && s >= 400 && s < 600 {
			out.status = int(s)
		}
	default:
		out.Message = truncate(string(raw), 500)
	}
	return out
}

// stringish renders a JSON value as text: strings as they are, other
// values (numbers, lists of validation errors) as JSON.
func stringish(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	default:
		b, _ := json.Marshal(v)
		return string(b)
	}
}

func truncate(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// normalizeErrors is middleware that rewrites the body of every error
// response into OpenAI's {"error":{…}} shape before the SDK reads it. The
// SDK only understands that shape: given Ollama's {"error":"…"} or a plain
// text body, it returns a JSON decoding error in place of an *openai.Error,
// and the status is lost.
func normalizeErrors(req *http.Request, next func(*http.Request) (*http.Response, error)) (*http.Response, error) {
	res, err := next(req)
	if err != nil || res == nil || res.StatusCode < 400 || res.Body == nil {
		return res, err
	}
	raw, readErr := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	_ = res.Body.Close()
	if readErr != nil {
		raw = []byte(readErr.Error())
	}
	body := canonicalError(raw, res.StatusCode)
	if body.Message == "" {
		body.Message = http.StatusText(res.StatusCode)
	}
	b, _ := json.Marshal(map[string]any{"error": body})
	res.Body = io.NopCloser(bytes.NewReader(b))
	res.ContentLength = int64(len(b))
	res.Header.Set("Content-Type", "application/json")
	res.Header.Del("Content-Encoding")
	return res, nil
}

// toolsUnsupported matches the ways servers say a model cannot take tools:
// Ollama's "registry.ollama.ai/library/gemma:2b does not support tools",
// LM Studio's "tools is not supported", "tool_choice 'required' is not
// supported", OpenAI's "Unsupported parameter: 'tools' is not supported
// with this model.", Azure's "Unrecognized request argument supplied:
// tools", llama.cpp's "tools param requires --jinja flag" and vLLM's
// "\"auto\" tool choice requires --enable-auto-tool-choice …". The subject
// and the "not supported" must sit in one clause, so that a schema error
// such as "tools[0].function.parameters: 'format' is not supported" does
// not count.
var toolsUnsupported = func() *regexp.Regexp {
	const subject = `['"]?\b(tools?|tool[_ ]choice|tool[_ ]calling|tool[_ ]calls?|tool[_ ]use|function[_ ]calling|function[_ ]calls?|functions)\b['"]?`
	return regexp.MustCompile(`(?i)` +
		`(does not|doesn't|do not|don't|cannot|can't) support ` + subject +
		`|` + subject + `[^.;:\[\]]{0,40}?\b((is|are) )?(not|un)[ -]?supported` +
		`|(unsupported|unrecognized|unknown) (request )?(param|parameter|argument|field)s?( supplied)?:? ` + subject +
		`|requires --jinja|--enable-auto-tool-choice`)
}()

// ToolsUnsupported reports whether err is a model server refusing tools
// (a 400, 404 or 422 saying so). The engine then drops the tools and runs
// the fenced Python blocks the model writes instead.
func ToolsUnsupported(err error) bool {
	var me *app.ModelError
	if !errors.As(err, &me) {
		return false
	}
	switch me.Status {
	case http.StatusBadRequest, http.StatusNotFound, http.StatusUnprocessableEntity:
	default:
		return false
	}
	return toolsUnsupported.MatchString(me.Message) || toolsUnsupported.MatchString(strings.ReplaceAll(me.Code, "_", " "))
}

// errNoModel is returned when neither the request nor the Config names a model.
var errNoModel = errors.New("model: no model named: set PLOTLINE_MODEL, or name one on the assistant (on Azure, the deployment)")

// incomplete is the error for a stream that stopped before the model said
// it was done.
func incomplete(why string) *app.ModelError {
	return &app.ModelError{Message: fmt.Sprintf("the stream ended early (%s); the answer is incomplete", why)}
}
