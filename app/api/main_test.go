package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/azure"
	"github.com/openai/openai-go/v3/option"

	"plotline/app/api"
	"plotline/app/apptest"
	"plotline/app/engine"
	"plotline/app/modeltest"
	"plotline/interpreter"
	"plotline/interpreter/interptest"
)

// The API's tests drive a real server (api.New's HTTPServer) on a real
// engine: the SQLite store, sandboxed kernels and the model adapter talking
// to the scripted model server. Clients are the real openai-go SDK, or
// plain net/http where the SDK cannot make the request.

const testKey = "test-key"

var testPython *interpreter.Python

func TestMain(m *testing.M) {
	testPython = interptest.Setup()
	os.Exit(m.Run())
}

// rig is an API server on a real engine, with the scripted model behind it.
type rig struct {
	t     testing.TB
	eng   *engine.Engine
	model *modeltest.Server
	srv   *httptest.Server
	data  string // the data folder: store, blobs and work folders
}

// newRig starts a server. tune adjusts the engine's Config, opts the
// API's Options (Key is testKey unless opts changes it).
func newRig(t testing.TB, tune func(*engine.Config), opts func(*api.Options), turns ...modeltest.Turn) *rig {
	t.Helper()
	ms := modeltest.NewServer(t, turns...)
	data := t.TempDir()
	eng, closeAll, err := apptest.Build(testPython, data, ms.BaseURL(), apptest.Options{Engine: tune})
	if err != nil {
		t.Fatal(err)
	}
	o := api.Options{Key: testKey}
	if opts != nil {
		opts(&o)
	}
	srv := serve(api.New(eng, o))
	t.Cleanup(func() {
		// Streams end when the engine stops the runs; then the server can
		// close without waiting on them.
		eng.Close()
		srv.Close()
		closeAll()
	})
	return &rig{t: t, eng: eng, model: ms, srv: srv, data: data}
}

// serve starts h on a loopback port with the http.Server it makes, so
// that tests see the server's timeouts and connection limits.
func serve(h *api.Server) *httptest.Server {
	srv := httptest.NewUnstartedServer(nil)
	srv.Config = h.HTTPServer()
	srv.Start()
	return srv
}

// client is an openai-go client of the OpenAI paths.
func (r *rig) client(extra ...option.RequestOption) openai.Client {
	opts := append([]option.RequestOption{
		option.WithBaseURL(r.srv.URL + "/v1/"),
		option.WithAPIKey(testKey),
		option.WithMaxRetries(0),
		option.WithRequestTimeout(2 * time.Minute),
	}, extra...)
	return openai.NewClient(opts...)
}

// azureClient is an openai-go client of the Azure paths.
func (r *rig) azureClient(version string) openai.Client {
	return openai.NewClient(
		azure.WithEndpoint(r.srv.URL, version),
		azure.WithAPIKey(testKey),
		azure.WithUnsafeAllowHTTP(),
		option.WithMaxRetries(0),
		option.WithRequestTimeout(2*time.Minute),
	)
}

// do sends a raw request with the test key (unless header sets
// Authorization or api-key) and returns the status, headers and body.
func (r *rig) do(method, path string, body io.Reader, header map[string]string) (int, http.Header, []byte) {
	r.t.Helper()
	req, err := http.NewRequest(method, r.srv.URL+path, body)
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testKey)
	for k, v := range header {
		if strings.EqualFold(k, "Host") {
			req.Host = v
			continue
		}
		if v == "" {
			req.Header.Del(k)
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

// doJSON posts a JSON text.
func (r *rig) doJSON(method, path, body string) (int, []byte) {
	r.t.Helper()
	code, _, b := r.do(method, path, strings.NewReader(body), map[string]string{"Content-Type": "application/json"})
	return code, b
}

// apiErr is the decoded OpenAI error shape, with every key checked.
type apiErr struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

// decodeErr checks that b is exactly {"error":{"message","type","param","code"}}.
func decodeErr(t testing.TB, b []byte) apiErr {
	t.Helper()
	var raw map[string]map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatalf("error body is not the error shape: %v: %s", err, b)
	}
	body, ok := raw["error"]
	if !ok || len(raw) != 1 {
		t.Fatalf("error body has no single \"error\" key: %s", b)
	}
	for _, k := range []string{"message", "type", "param", "code"} {
		if _, ok := body[k]; !ok {
			t.Fatalf("error body lacks %q: %s", k, b)
		}
	}
	var e struct {
		Error apiErr `json:"error"`
	}
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatal(err)
	}
	if e.Error.Message == "" || e.Error.Type == "" {
		t.Fatalf("error without message or type: %s", b)
	}
	return e.Error
}

// asAPIError is errors.As for the SDK's error type.
func asAPIError(err error, target **openai.Error) bool { return errors.As(err, target) }

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// text is a plain text model turn.
func text(s string) modeltest.Turn { return modeltest.Turn{Text: s} }

var pythonCall = modeltest.PythonCall

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}
