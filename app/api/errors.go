package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"

	"plotline/app"
)

// apiError is the OpenAI error shape.
type apiError struct {
	Error errorBody `json:"error"`
}

type errorBody struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

func writeError(w http.ResponseWriter, status int, typ, param, code, msg string) {
	b := errorBody{Message: msg, Type: typ}
	if param != "" {
		b.Param = &param
	}
	if code != "" {
		b.Code = &code
	}
	writeJSON(w, status, apiError{Error: b})
}

// writeAzureError answers in Azure's error style.
func writeAzureError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

// writeJSON answers v as JSON. The body is encoded whole first, so that
// it goes out with a Content-Length in as few writes as it takes, not
// in chunks of the connection's buffer.
func writeJSON(w http.ResponseWriter, status int, v any) {
	buf, err := encode(v)
	defer release(buf)
	if err != nil {
		// Only the API's own types are encoded, so this is a bug: the
		// client gets an error in the API's shape, not half a body.
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error":{"message":"The server could not encode its answer.","type":"server_error","param":null,"code":null}}` + "\n")
	}
	writeBody(w, status, buf)
}

// writeBody sends a whole JSON answer in one write, with its length.
func writeBody(w http.ResponseWriter, status int, buf *bytes.Buffer) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// writeStored answers one object that is already JSON, as the store
// holds it.
func writeStored(w http.ResponseWriter, data json.RawMessage) {
	buf := bufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer release(buf)
	buf.Write(data)
	buf.WriteByte('\n')
	writeBody(w, http.StatusOK, buf)
}

// writeStoredList answers a page of objects that are already JSON, as
// the store holds them: only the list around them is written here.
func writeStoredList(w http.ResponseWriter, l *app.List[json.RawMessage]) {
	buf := bufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer release(buf)
	buf.WriteString(`{"object":"list","data":[`)
	for i, d := range l.Data {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(d)
	}
	buf.WriteString(`],"first_id":`)
	writeID(buf, l.FirstID)
	buf.WriteString(`,"last_id":`)
	writeID(buf, l.LastID)
	if l.HasMore {
		buf.WriteString(`,"has_more":true}` + "\n")
	} else {
		buf.WriteString(`,"has_more":false}` + "\n")
	}
	writeBody(w, http.StatusOK, buf)
}

// writeID writes an id as a JSON string, or null.
func writeID(buf *bytes.Buffer, id *string) {
	if id == nil {
		buf.WriteString("null")
		return
	}
	b, _ := json.Marshal(*id)
	buf.Write(b)
}

// bufs are encoding buffers, reused: a page of 100 messages is hundreds
// of KB, and growing a new buffer to that for each answer costs more
// than encoding it.
var bufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// encode encodes v as JSON, with a newline, into a buffer from bufs.
func encode(v any) (*bytes.Buffer, error) {
	buf := bufs.Get().(*bytes.Buffer)
	buf.Reset()
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	return buf, enc.Encode(v)
}

// release returns buf to bufs, unless it grew past 4 MB for one huge
// answer: that memory is not kept.
func release(buf *bytes.Buffer) {
	if buf.Cap() <= 4<<20 {
		bufs.Put(buf)
	}
}

// fail answers an engine error with the right status and shape.
func fail(w http.ResponseWriter, r *http.Request, err error) {
	var ie *app.InputError
	var me *app.ModelError
	switch {
	case errors.As(err, &ie):
		writeError(w, http.StatusBadRequest, "invalid_request_error", ie.Param, "", ie.Message)
	case errors.Is(err, app.ErrNotFound):
		writeError(w, http.StatusNotFound, "invalid_request_error", notFoundParam(err), "", notFoundMessage(err))
	case errors.Is(err, app.ErrThreadLocked):
		writeError(w, http.StatusBadRequest, "invalid_request_error", "", "", lockedMessage(err))
	case errors.Is(err, app.ErrTooLarge):
		writeError(w, http.StatusRequestEntityTooLarge, "invalid_request_error", "file", "file_too_large", "The file is larger than the limit.")
	case errors.As(err, &me) && me.Status == http.StatusTooManyRequests:
		writeError(w, http.StatusTooManyRequests, "rate_limit_error", "", "rate_limit_exceeded", me.Message)
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads the answer.
	default:
		writeError(w, http.StatusInternalServerError, "server_error", "", "", "The server had an error while processing your request: "+err.Error())
	}
}

func notFoundMessage(err error) string {
	var nf *app.NotFoundError
	if errors.As(err, &nf) {
		return nf.Message()
	}
	return "Not found."
}

// notFoundParam is the param of a 404: the Files API names the id.
func notFoundParam(err error) string {
	var nf *app.NotFoundError
	if errors.As(err, &nf) && nf.Kind == app.KindFile {
		return "id"
	}
	return ""
}

func lockedMessage(err error) string {
	var le *app.LockedError
	if errors.As(err, &le) {
		return le.Error()
	}
	return "The thread has an active run."
}
