// Package api serves Plotline's engine as the OpenAI Assistants REST API
// (v2, with the v1 shapes of Azure's 2024-02-15-preview accepted), under
// the OpenAI paths (/v1/…) and the Azure OpenAI paths (/openai/…?api-version=…),
// with server-sent events for streamed runs. Code written for the retired
// hosted API runs against it with only the base URL changed.
//
// The handlers only translate HTTP to engine calls and back: every
// decision about runs, messages and files is the engine's.
package api

import (
	"crypto/subtle"
	"net"
	"net/http"
	"regexp"
	"strings"

	"plotline/app/engine"
)

// Options configure a Server.
type Options struct {
	// Key is the API key clients must send (Authorization: Bearer, or
	// api-key). It must not be empty.
	Key string
	// Hosts are the Host header values accepted besides loopback names,
	// against DNS rebinding (e.g. "plotline.local:8765").
	Hosts []string
	// Origins are the browser origins allowed to call the API; any other
	// cross-origin request is refused.
	Origins []string
	// Limits bound the connections of the server HTTPServer makes.
	Limits Limits
}

// Server is the HTTP handler of the API.
type Server struct {
	eng    *engine.Engine
	opts   Options
	limits Limits
	conns  *connGate
	mux    *http.ServeMux
}

// New makes the API's handler.
func New(eng *engine.Engine, opts Options) *Server {
	limits := opts.Limits.withDefaults()
	s := &Server{eng: eng, opts: opts, limits: limits, conns: &connGate{max: limits.MaxUnauthenticated}, mux: http.NewServeMux()}
	for _, prefix := range []string{"/v1", "/openai"} {
		s.routes(prefix)
	}
	return s
}

func (s *Server) routes(p string) {
	h := func(pattern string, fn http.HandlerFunc) {
		method, path, _ := strings.Cut(pattern, " ")
		s.mux.HandleFunc(method+" "+p+path, fn)
	}
	h("POST /assistants", s.createAssistant)
	h("GET /assistants", s.listAssistants)
	h("GET /assistants/{id}", s.getAssistant)
	h("POST /assistants/{id}", s.updateAssistant)
	h("DELETE /assistants/{id}", s.deleteAssistant)

	h("POST /threads", s.createThread)
	h("GET /threads/{thread}", s.getThread)
	h("POST /threads/{thread}", s.updateThread)
	h("DELETE /threads/{thread}", s.deleteThread)

	h("POST /threads/{thread}/messages", s.createMessage)
	h("GET /threads/{thread}/messages", s.listMessages)
	h("GET /threads/{thread}/messages/{id}", s.getMessage)
	h("POST /threads/{thread}/messages/{id}", s.updateMessage)
	h("DELETE /threads/{thread}/messages/{id}", s.deleteMessage)

	h("POST /threads/runs", s.createThreadAndRun)
	h("POST /threads/{thread}/runs", s.createRun)
	h("GET /threads/{thread}/runs", s.listRuns)
	h("GET /threads/{thread}/runs/{run}", s.getRun)
	h("POST /threads/{thread}/runs/{run}", s.updateRun)
	h("POST /threads/{thread}/runs/{run}/cancel", s.cancelRun)
	h("POST /threads/{thread}/runs/{run}/submit_tool_outputs", s.submitToolOutputs)
	h("GET /threads/{thread}/runs/{run}/steps", s.listRunSteps)
	h("GET /threads/{thread}/runs/{run}/steps/{id}", s.getRunStep)

	h("POST /files", s.createFile)
	h("GET /files", s.listFiles)
	h("GET /files/{id}", s.getFile)
	h("DELETE /files/{id}", s.deleteFile)
	h("GET /files/{id}/content", s.fileContent)
}

// ServeHTTP checks where a request comes from and who sends it, then
// routes it. No body is read before the key is checked, and a refused
// request's connection is closed.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w = stampHeaders(w)
	defer func() {
		if v := recover(); v != nil {
			// A bug must not take the server down, nor answer with a trace.
			writeError(w, http.StatusInternalServerError, "server_error", "", "", "The server had an error while processing your request.")
		}
	}()
	if !s.hostAllowed(r.Host) {
		s.refuse(w, r)
		writeError(w, http.StatusForbidden, "invalid_request_error", "", "host_not_allowed",
			"This server only answers requests addressed to localhost. Add the host name to the server's allowed hosts to use another.")
		return
	}
	if origin := r.Header.Get("Origin"); origin != "" && !s.originAllowed(origin) {
		s.refuse(w, r)
		writeError(w, http.StatusForbidden, "invalid_request_error", "", "origin_not_allowed",
			"Cross-origin requests from "+origin+" are not allowed.")
		return
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Set("Vary", "Origin")
		if r.Method == http.MethodOptions {
			w.Header().Set("Access-Control-Allow-Methods", "GET, POST, DELETE")
			w.Header().Set("Access-Control-Allow-Headers", "Authorization, Api-Key, Content-Type, OpenAI-Beta, OpenAI-Organization, OpenAI-Project")
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	azure := strings.HasPrefix(r.URL.Path, "/openai/")
	if !s.authorized(r) {
		s.refuse(w, r)
		if azure {
			writeAzureError(w, http.StatusUnauthorized, "401", "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.")
			return
		}
		writeError(w, http.StatusUnauthorized, "invalid_request_error", "", "invalid_api_key",
			"Incorrect API key provided. You can find the key in the file 'plotline serve' printed, or set PLOTLINE_API_KEY.")
		return
	}
	s.conns.admit(r)
	if azure {
		v := r.URL.Query().Get("api-version")
		if v == "" {
			writeAzureError(w, http.StatusNotFound, "404", "Resource not found")
			return
		}
		if !apiVersionSupported(v) {
			writeAzureError(w, http.StatusBadRequest, "BadRequest", "API version not supported")
			return
		}
		r = r.WithContext(withAPIVersion(r.Context(), v))
	}
	if _, pattern := s.mux.Handler(r); pattern == "" {
		s.notRouted(w, r)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// notRouted answers a path no route has (404) or a method the path does
// not take (405), in the API's error shape.
func (s *Server) notRouted(w http.ResponseWriter, r *http.Request) {
	var allowed []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		r2 := r.Clone(r.Context())
		r2.Method = m
		if _, p := s.mux.Handler(r2); p != "" {
			allowed = append(allowed, m)
		}
	}
	if len(allowed) > 0 {
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		writeError(w, http.StatusMethodNotAllowed, "invalid_request_error", "", "method_not_allowed",
			"Method "+r.Method+" is not allowed for "+r.URL.Path+"; use "+strings.Join(allowed, " or ")+".")
		return
	}
	writeError(w, http.StatusNotFound, "invalid_request_error", "", "unknown_url",
		"Unknown request URL: "+r.Method+" "+r.URL.Path+".")
}

func (s *Server) authorized(r *http.Request) bool {
	if s.opts.Key == "" {
		return false
	}
	got := r.Header.Get("Api-Key")
	// The scheme is case-insensitive (RFC 9110): "bearer KEY" is as good.
	if auth := r.Header.Get("Authorization"); got == "" && len(auth) > 7 && strings.EqualFold(auth[:7], "Bearer ") {
		got = auth[7:]
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(s.opts.Key)) == 1
}

// hostAllowed accepts loopback hosts (any port) and the configured ones.
func (s *Server) hostAllowed(host string) bool {
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	name = strings.Trim(strings.ToLower(name), "[]")
	if name == "localhost" || strings.HasSuffix(name, ".localhost") {
		return true
	}
	if ip := net.ParseIP(name); ip != nil && ip.IsLoopback() {
		return true
	}
	for _, h := range s.opts.Hosts {
		if strings.EqualFold(h, host) || strings.EqualFold(h, name) {
			return true
		}
	}
	return false
}

func (s *Server) originAllowed(origin string) bool {
	for _, o := range s.opts.Origins {
		if o == "*" || strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}

var versionRe = regexp.MustCompile(`^(\d{4}-\d{2}-\d{2})(-preview)?$`)

// apiVersionSupported accepts the Azure versions that have Assistants:
// 2024-02-15-preview (v1 shapes) and every later dated version.
func apiVersionSupported(v string) bool {
	m := versionRe.FindStringSubmatch(v)
	if m == nil {
		return false
	}
	return m[1] >= "2024-02-15" && !(m[1] == "2024-02-15" && m[2] == "")
}

// v1Shapes reports whether the request's Azure api-version predates
// Assistants v2.
func v1Shapes(v string) bool {
	return v != "" && v < "2024-05-01"
}
