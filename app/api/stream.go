package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"plotline/app"
)

// keepAlive is how long a stream may stay silent before a comment is
// sent: it keeps proxies from cutting a stream while a long cell runs.
const keepAlive = 15 * time.Second

// stream writes a run's events as server-sent events, as the hosted API
// did: "event: NAME" and "data: JSON" per event, until the run ends or
// waits for tool outputs, then "event: done" with "data: [DONE]". If the
// client goes away, the run goes on.
//
// Events that are already queued are written together and flushed once:
// a run publishes several at a time (the run created and queued, a step
// and its message), and each flush is a write to the socket.
func stream(w http.ResponseWriter, r *http.Request, runID string, sub *app.Subscription) {
	flusher, _ := w.(http.Flusher)
	flush := func() {
		if flusher != nil {
			flusher.Flush()
		}
	}
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	v1 := v1Shapes(apiVersion(r.Context()))
	buf := bufs.Get().(*bytes.Buffer)
	defer release(buf)
	send := func(name string, data any) bool {
		if v1 {
			data = toV1(data)
		}
		buf.Reset()
		buf.WriteString("event: ")
		buf.WriteString(name)
		buf.WriteString("\ndata: ")
		if err := json.NewEncoder(buf).Encode(data); err != nil { // Encode ends the line
			return false
		}
		buf.WriteByte('\n')
		_, err := w.Write(buf.Bytes())
		return err == nil
	}
	// queued has ended, so Next with it answers only what is queued.
	queued, cancel := context.WithCancel(context.Background())
	cancel()
	for {
		ev, err := sub.Next(queued)
		if err != nil {
			// Nothing more yet: send what was written, then wait.
			flush()
			ctx, cancel := context.WithTimeout(r.Context(), keepAlive)
			ev, err = sub.Next(ctx)
			cancel()
			if r.Context().Err() != nil || errors.Is(err, app.ErrSubscriptionClosed) {
				return
			}
			if err != nil {
				if _, err := io.WriteString(w, ": keep-alive\n\n"); err != nil {
					return
				}
				flush()
				continue
			}
		}
		if ev.RunID != "" && ev.RunID != runID || !strings.HasPrefix(ev.Name, "thread.") {
			continue // another run's, or one of Plotline's own events
		}
		if !send(ev.Name, ev.Data) {
			return
		}
		if ev.RunID == runID && ev.Final() {
			// A failed run ends with thread.run.failed, whose last_error
			// says why, and no "error" event: the hosted API streamed it
			// so, and the SDKs' stream helpers would otherwise either
			// raise (an error event in the error shape) or hand the
			// caller an event without a name (the bare error object).
			io.WriteString(w, "event: done\ndata: [DONE]\n\n")
			flush()
			return
		}
	}
}

type ctxKey int

const versionKey ctxKey = 0

func withAPIVersion(ctx context.Context, v string) context.Context {
	return context.WithValue(ctx, versionKey, v)
}

// apiVersion is the Azure api-version of the request, or "".
func apiVersion(ctx context.Context) string {
	v, _ := ctx.Value(versionKey).(string)
	return v
}

// toV1 adds the fields of the Assistants v1 shapes (file_ids on assistants
// and messages) for clients on Azure's 2024-02-15-preview.
func toV1(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return v
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return v
	}
	addV1(m)
	if data, ok := m["data"].([]any); ok {
		for _, d := range data {
			if dm, ok := d.(map[string]any); ok {
				addV1(dm)
			}
		}
	}
	return m
}

func addV1(m map[string]any) {
	switch m["object"] {
	case "assistant":
		ids := []any{}
		if tr, ok := m["tool_resources"].(map[string]any); ok {
			if ci, ok := tr["code_interpreter"].(map[string]any); ok {
				if f, ok := ci["file_ids"].([]any); ok {
					ids = f
				}
			}
		}
		m["file_ids"] = ids
	case "thread.message":
		ids := []any{}
		if atts, ok := m["attachments"].([]any); ok {
			for _, a := range atts {
				if am, ok := a.(map[string]any); ok {
					ids = append(ids, am["file_id"])
				}
			}
		}
		m["file_ids"] = ids
	}
}

func sortStrings(s []string) []string {
	sort.Strings(s)
	return s
}

func timeOf(unix int64) time.Time { return time.Unix(unix, 0) }
