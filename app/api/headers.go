package api

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"
)

// openaiVersion is the openai-version header the hosted API sent.
const openaiVersion = "2020-10-01"

// stampHeaders sets the headers the hosted API sent with every answer,
// which clients log and pass to support: x-request-id (req_ and 32 hex
// digits) and openai-version now, and openai-processing-ms, the time until
// the answer's headers, when they are written.
func stampHeaders(w http.ResponseWriter) http.ResponseWriter {
	var id [16]byte
	rand.Read(id[:])
	w.Header().Set("X-Request-Id", "req_"+hex.EncodeToString(id[:]))
	w.Header().Set("Openai-Version", openaiVersion)
	return &stampWriter{ResponseWriter: w, start: time.Now()}
}

// stampWriter adds openai-processing-ms as the headers go out.
type stampWriter struct {
	http.ResponseWriter
	start time.Time
	sent  bool
}

func (w *stampWriter) stamp() {
	if !w.sent {
		w.sent = true
		w.Header().Set("Openai-Processing-Ms", strconv.FormatInt(time.Since(w.start).Milliseconds(), 10))
	}
}

func (w *stampWriter) WriteHeader(code int) {
	w.stamp()
	w.ResponseWriter.WriteHeader(code)
}

func (w *stampWriter) Write(b []byte) (int, error) {
	w.stamp()
	return w.ResponseWriter.Write(b)
}

// Flush keeps streaming working through the wrapper.
func (w *stampWriter) Flush() {
	w.stamp()
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *stampWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
