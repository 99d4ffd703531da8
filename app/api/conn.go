package api

import (
	"context"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// The defaults of Limits. A connection is held only as long as its client
// keeps it busy with something the server asked for: an unknown client
// gets its headers read and one answer, a known one the time its body
// needs.
const (
	// defaultHeaderTimeout bounds reading a request line and headers,
	// which clients send at once: 10 s is ample over any network, and it
	// is all the time a client gets before its key is checked.
	defaultHeaderTimeout = 10 * time.Second
	// defaultReadTimeout bounds reading a whole request, headers and
	// body. JSON bodies are at most 32 MB, which 30 s carries over any
	// link the API is meant for.
	defaultReadTimeout = 30 * time.Second
	// defaultUploadTimeout is what an upload gets once it passed auth,
	// in place of the read timeout: an hour moves the largest file
	// (512 MB) at 150 KB/s.
	defaultUploadTimeout = time.Hour
	// defaultIdleTimeout closes a keep-alive connection that waits this
	// long for its next request: clients reuse connections within
	// seconds, and an idle one only holds a descriptor.
	defaultIdleTimeout = 90 * time.Second
	// defaultMaxHeaderBytes bounds a request's headers (larger ones get
	// 431): clients send a few hundred bytes, browsers a few KiB with
	// cookies; 64 KiB bounds what an unknown client makes the server keep.
	defaultMaxHeaderBytes = 64 << 10
	// defaultMaxUnauthenticated caps the connections that have not sent
	// a valid key yet. Clients send their key as soon as they connect, so
	// a handful are unauthenticated at a time (the SDKs under load: about
	// one per request in flight); 64 bounds what a flood of idle or slow
	// connections holds.
	defaultMaxUnauthenticated = 64
)

// refusalLinger is how long, after a refused request's answer, the server
// still reads what the client sends before closing: long enough that the
// client reads the answer before the close resets the connection, short
// enough that a refused client holds nothing.
const refusalLinger = 500 * time.Millisecond

// Limits bound what a connection may take from the server. Zero fields
// take Plotline's defaults.
type Limits struct {
	// HeaderTimeout bounds reading a request's line and headers.
	HeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included. Only an
	// upload that passed auth gets longer: UploadTimeout.
	ReadTimeout time.Duration
	// UploadTimeout bounds reading an authenticated upload.
	UploadTimeout time.Duration
	// IdleTimeout closes a keep-alive connection that waits this long for
	// its next request.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request's headers; larger ones get 431.
	MaxHeaderBytes int
	// MaxUnauthenticated caps the connections none of whose requests has
	// passed auth yet. A new connection beyond it closes the oldest, so
	// that a flood of idle connections cannot lock out a client with the
	// key.
	MaxUnauthenticated int
}

func (l Limits) withDefaults() Limits {
	def := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.HeaderTimeout, defaultHeaderTimeout)
	def(&l.ReadTimeout, defaultReadTimeout)
	def(&l.UploadTimeout, defaultUploadTimeout)
	def(&l.IdleTimeout, defaultIdleTimeout)
	if l.MaxHeaderBytes <= 0 {
		l.MaxHeaderBytes = defaultMaxHeaderBytes
	}
	if l.MaxUnauthenticated <= 0 {
		l.MaxUnauthenticated = defaultMaxUnauthenticated
	}
	return l
}

// HTTPServer returns an http.Server that serves the API within its
// Limits. Serve the API with it, not a bare http.Server: the timeouts and
// the cap on unauthenticated connections are set there. There is no write
// timeout, so that streamed runs last as long as their run.
func (s *Server) HTTPServer() *http.Server {
	return &http.Server{
		Handler:           s,
		ReadHeaderTimeout: s.limits.HeaderTimeout,
		ReadTimeout:       s.limits.ReadTimeout,
		IdleTimeout:       s.limits.IdleTimeout,
		MaxHeaderBytes:    s.limits.MaxHeaderBytes,
		ConnState:         s.conns.state,
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connKey, &gatedConn{conn: c})
		},
	}
}

const connKey ctxKey = 1

// gatedConn is a connection as its requests see it.
type gatedConn struct {
	conn     net.Conn
	admitted atomic.Bool // a request passed auth
}

// connGate tracks the connections that have not passed auth yet, oldest
// first, and closes the oldest when a new one would exceed max.
type connGate struct {
	max     int
	mu      sync.Mutex
	waiting []net.Conn
}

// state is the http.Server's ConnState hook. StateNew is reported from
// the accept loop, before the connection is served, so a connection is
// counted before any of its bytes is read.
func (g *connGate) state(c net.Conn, st http.ConnState) {
	switch st {
	case http.StateNew:
		g.mu.Lock()
		var oldest net.Conn
		if len(g.waiting) >= g.max {
			oldest = g.waiting[0]
			g.waiting = slices.Delete(g.waiting, 0, 1)
		}
		g.waiting = append(g.waiting, c)
		g.mu.Unlock()
		if oldest != nil {
			oldest.Close()
		}
	case http.StateHijacked, http.StateClosed:
		g.forget(c)
	}
}

// admit marks the connection of r, which passed auth, as authenticated.
// A kept-alive connection is admitted once, not on each request.
func (g *connGate) admit(r *http.Request) {
	if c, ok := r.Context().Value(connKey).(*gatedConn); ok && !c.admitted.Swap(true) {
		g.forget(c.conn)
	}
}

func (g *connGate) forget(c net.Conn) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if i := slices.Index(g.waiting, c); i >= 0 {
		g.waiting = slices.Delete(g.waiting, i, i+1)
	}
}

// refuse readies the answer to a request that did not pass the checks:
// the connection closes after it, and what is left of the request's body
// is read (and dropped) for at most refusalLinger, not the read timeout.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Connection", "close")
	if r.ContentLength != 0 {
		linger := min(refusalLinger, s.limits.ReadTimeout)
		http.NewResponseController(w).SetReadDeadline(time.Now().Add(linger))
	}
}
