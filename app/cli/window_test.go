package cli

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"plotline/app"
	"plotline/app/cli/wiring"
	"plotline/app/modeltest"
	"plotline/app/openai"
	"plotline/app/settings"
	"plotline/app/ui"
	"plotline/interpreter"
)

func switchTo(t *testing.T, base string) *modelSwitch {
	t.Helper()
	m, err := openai.New(openai.Config{Provider: openai.ProviderCompatible, BaseURL: base, APIKey: "sk-test-secret-key-123456", MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	sw := &modelSwitch{}
	sw.set(m, "")
	return sw
}

func chat(sw *modelSwitch, model string) error {
	_, err := sw.Chat(context.Background(), app.ChatRequest{Model: model, Messages: []app.ChatMessage{{Role: "user", Content: "Hi"}},
		Tools: []app.ChatTool{{Name: "python", Parameters: []byte(`{"type":"object"}`)}}}, nil)
	return err
}

// The window's model fails in plain words, which a failed run keeps as its
// last_error; the status stays, for the run's error code.
func TestModelSwitchFailsInPlainWords(t *testing.T) {
	addr := modeltest.ClosedAddr(t)
	err := chat(switchTo(t, "http://"+addr+"/v1"), "llama3.1")
	var me *app.ModelError
	if !errors.As(err, &me) || me.Status != 0 || me.Message != "Can't reach the model server at "+addr+". Is the server running?" {
		t.Fatalf("refused: %#v", err)
	}

	srv := modeltest.NewServer(t,
		modeltest.Turn{Status: 401, ErrorCode: "invalid_api_key", ErrorMessage: "Incorrect API key provided: sk-test-secret-key-123456."},
		modeltest.Turn{Status: 404, ErrorMessage: `model "llama3.1" not found, try pulling it first`},
		modeltest.Turn{Status: 400, ErrorMessage: "registry.ollama.ai/library/gemma:2b does not support tools"},
	)
	sw := switchTo(t, srv.BaseURL())
	err = chat(sw, "llama3.1")
	if !errors.As(err, &me) || me.Status != 401 || me.Message != "The API key was refused." || me.LastErrorCode() != app.ErrCodeServer {
		t.Fatalf("401: %#v", err)
	}
	err = chat(sw, "llama3.1")
	if !errors.As(err, &me) || me.Status != 404 || me.Message != "The model 'llama3.1' doesn't exist on this server." {
		t.Fatalf("404: %#v", err)
	}
	// The engine answers a refusal of tools by running without them: it
	// keeps the server's words.
	err = chat(sw, "gemma:2b")
	if !openai.ToolsUnsupported(err) {
		t.Fatalf("tools refused: %#v", err)
	}

	// Without a model, the run fails with the words that send the user to
	// the settings.
	none := &modelSwitch{}
	none.set(nil, ui.NoModelText)
	if err := chat(none, "x"); !errors.As(err, &me) || me.Message != ui.NoModelText || app.ErrorCode(err) != app.EMODEL {
		t.Fatalf("no model: %#v", err)
	}
}

// testConnection tries once: against a server that never answers it ends
// with the caller's deadline, and against a closed port at once.
func TestTestConnectionTriesOnce(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	}))
	defer srv.Close()
	s := settings.Settings{Provider: settings.ProviderCompatible, Endpoint: srv.URL + "/v1", Model: "m"}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := testConnection(ctx, s, "")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("silent server: %v after %v", err, time.Since(start))
	}

	s.Endpoint = "http://" + modeltest.ClosedAddr(t) + "/v1"
	start = time.Now()
	_, err = testConnection(context.Background(), s, "")
	var me *app.ModelError
	// With retries, the SDK would wait about a second and a half first.
	if !errors.As(err, &me) || !strings.Contains(me.Message, "connection refused") || time.Since(start) > time.Second {
		t.Fatalf("closed port: %v after %v", err, time.Since(start))
	}
}

func TestHasDisplay(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i+1 < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	for _, tc := range []struct {
		goos string
		env  func(string) string
		want bool
	}{
		{"linux", env(), false},
		{"linux", env("DISPLAY", ":0"), true},
		{"linux", env("WAYLAND_DISPLAY", "wayland-0"), true},
		{"freebsd", env("DISPLAY", ""), false},
		{"darwin", env(), true},
		{"windows", env(), true},
	} {
		if got := hasDisplay(tc.goos, tc.env); got != tc.want {
			t.Errorf("hasDisplay(%s) = %v", tc.goos, got)
		}
	}
}

// Without a display, plotline says so in one line and points to the
// commands that need none.
func TestWindowWithoutDisplay(t *testing.T) {
	t.Setenv("DISPLAY", "")
	t.Setenv("WAYLAND_DISPLAY", "")
	t.Setenv("PLOTLINE_DATA", t.TempDir())
	code, stdout, stderr := run(t, "")
	if code == 0 || stdout != "" || strings.Count(stderr, "\n") != 1 {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	for _, want := range []string{"graphical session", "plotline ask", "plotline serve", "plotline exec"} {
		if !strings.Contains(stderr, want) {
			t.Fatalf("stderr %q does not say %q", stderr, want)
		}
	}
}

// The log filter drops Fyne's reports that need no action, with their
// Cause and At lines, and keeps every other line.
func TestFyneLogFilter(t *testing.T) {
	var out bytes.Buffer
	l := log.New(&fyneLogFilter{w: &out}, "", log.LstdFlags)
	fyneError := func(reason string, cause error) { // as fyne.LogError writes
		l.Println("Fyne error: ", reason)
		if cause != nil {
			l.Println("  Cause:", cause)
		}
		l.Printf("  At: %s:%d", "/fyne/x.go", 1)
	}
	fyneError("Preferences load error:", io.EOF)
	fyneError("Getting favorite locations", errors.New("this computer does not define a VIDEOS folder"))
	fyneError("Failed to load theme", errors.New("bad font"))
	l.Println("PlatformError: X11: Failed to open display :93")
	fyneError("Getting favorite locations", nil)
	got := out.String()
	for _, gone := range []string{"Preferences", "EOF", "favorite", "VIDEOS"} {
		if strings.Contains(got, gone) {
			t.Errorf("%q was not filtered:\n%s", gone, got)
		}
	}
	for _, kept := range []string{"Fyne error:  Failed to load theme", "Cause: bad font", "At: /fyne/x.go:1", "PlatformError"} {
		if !strings.Contains(got, kept) {
			t.Errorf("%q was dropped:\n%s", kept, got)
		}
	}
	if n := strings.Count(got, "\n"); n != 4 {
		t.Errorf("%d lines kept, want 4:\n%s", n, got)
	}
}

// Settings shows the bundled runtime's packages, and a system Python's
// path and required modules.
func TestRuntimeReport(t *testing.T) {
	bundled := &interpreter.Python{System: "/opt/plotline/runtime", Executable: "/usr/bin/python3", Version: "3.11.2",
		Modules: map[string]string{"numpy": "1.24.2", "pandas": "1.5.3", "matplotlib": "3.6.3", "docx": "0.8.11"}}
	got := runtimeReport(wiring.Runtime{Name: wiring.RuntimePython, Python: bundled, Why: "why"})
	if !strings.Contains(got, "Packages: docx 0.8.11, matplotlib 3.6.3, numpy 1.24.2, pandas 1.5.3\n") {
		t.Errorf("bundled:\n%s", got)
	}
	system := &interpreter.Python{Executable: "/usr/bin/python3", Version: "3.11.2", Modules: map[string]string{"numpy": "1.24.2"}}
	got = runtimeReport(wiring.Runtime{Name: wiring.RuntimePython, Python: system, Why: "why"})
	if !strings.Contains(got, "Python 3.11.2 at /usr/bin/python3\nnumpy: 1.24.2\npandas: missing\n") {
		t.Errorf("system:\n%s", got)
	}
}
