package ui

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"plotline/app"
	"plotline/app/apptest"
	"plotline/app/modeltest"
	"plotline/app/settings"
)

// refused is the error a request to a port nothing listens on returns, as
// the openai adapter passes it on.
func refused(base string) error {
	u, _ := url.Parse(base)
	return &app.ModelError{Message: fmt.Sprintf(`Post "%s/chat/completions": dial tcp %s: connect: connection refused`, base, u.Host)}
}

func TestExplainModelErrors(t *testing.T) {
	local := ModelTarget{Endpoint: "http://127.0.0.1:11434/v1", Provider: settings.ProviderCompatible, Model: "llama3.1"}
	lmstudio := ModelTarget{Endpoint: "http://localhost:1234/v1", Provider: settings.ProviderCompatible, Model: "qwen"}
	other := ModelTarget{Endpoint: "http://10.1.2.3:8000/v1", Provider: settings.ProviderCompatible, Model: "m"}
	openai := ModelTarget{Endpoint: "https://api.openai.com/v1", Provider: settings.ProviderOpenAI, Model: "gpt-4o", Timeout: 60 * time.Second}
	azure := ModelTarget{Endpoint: "https://res.openai.azure.com", Provider: settings.ProviderAzure, Model: "prod-4o"}
	const key = "sk-proj-abcdefghijklmnop1234"
	for _, tc := range []struct {
		name   string
		err    error
		t      ModelTarget
		want   string
		action errorAction
	}{
		{"refused, Ollama's port", refused("http://127.0.0.1:11434/v1"), local,
			"Can't reach the model server at 127.0.0.1:11434. Is Ollama running?", actSettings},
		{"refused, LM Studio's port", refused("http://localhost:1234/v1"), lmstudio,
			"Can't reach the model server at localhost:1234. Is LM Studio running?", actSettings},
		{"refused, another server", refused("http://10.1.2.3:8000/v1"), other,
			"Can't reach the model server at 10.1.2.3:8000. Is the server running?", actSettings},
		{"refused, host from the settings", &app.ModelError{Message: "connect: connection refused"}, local,
			"Can't reach the model server at 127.0.0.1:11434. Is Ollama running?", actSettings},
		{"refused, hosted", refused("https://api.openai.com/v1"), openai,
			"Can't reach the model server at api.openai.com. Check your internet connection.", actSettings},
		{"unknown host", &app.ModelError{Message: `Post "http://ollama.lan:11434/v1/chat/completions": dial tcp: lookup ollama.lan on 127.0.0.53:53: no such host`}, local,
			"Can't find the model server ollama.lan. Check the endpoint in Settings.", actSettings},
		{"a bare net error", &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}, other,
			"Can't reach the model server at 10.1.2.3:8000. Is the server running?", actSettings},
		{"401", &app.ModelError{Status: 401, Code: "invalid_api_key", Message: "Incorrect API key provided: " + key}, openai,
			"The API key was refused.", actSettings},
		{"403", &app.ModelError{Status: 403, Message: "Access denied due to invalid subscription key."}, azure,
			"The API key was refused.", actSettings},
		{"Ollama's missing model", &app.ModelError{Status: 404, Message: `model "llama3.1" not found, try pulling it first`}, local,
			"The model 'llama3.1' doesn't exist on this server.", actSettings},
		{"OpenAI's missing model", &app.ModelError{Status: 404, Code: "model_not_found", Message: "The model `gpt-5o` does not exist or you do not have access to it."}, openai,
			"The model 'gpt-5o' doesn't exist on this server.", actSettings},
		{"Azure's missing deployment", &app.ModelError{Status: 404, Code: "DeploymentNotFound", Message: "The API deployment for this resource does not exist."}, azure,
			"The deployment 'prod-4o' doesn't exist on this Azure resource.", actSettings},
		{"404 without a model", &app.ModelError{Status: 404, Message: "404 page not found"}, local,
			"The server at 127.0.0.1:11434 has no chat API at that path. Check the endpoint in Settings.", actSettings},
		{"rate limited", &app.ModelError{Status: 429, Code: "rate_limit_exceeded", Message: "Slow down."}, openai,
			"The model's service is rate limiting requests. Try again in a moment.", actRetry},
		{"rate limited, with Retry-After", &app.ModelError{Status: 429, Message: "Slow down.", RetryAfter: 20 * time.Second}, openai,
			"The model's service is rate limiting requests. Try again in 20 s.", actRetry},
		{"quota", &app.ModelError{Status: 429, Code: "insufficient_quota", Message: "You exceeded your current quota, please check your plan and billing details."}, openai,
			"The account has no quota left with the model's service. Check its plan and billing, or use another key.", actSettings},
		{"header timeout", &app.ModelError{Message: `no response from the model server in time: Post "https://api.openai.com/v1/chat/completions": net/http: timeout awaiting response headers`}, openai,
			"The model server at api.openai.com didn't answer in 60 s.", actRetry},
		{"deadline of the caller", fmt.Errorf("testing: %w", context.DeadlineExceeded), ModelTarget{Endpoint: "http://10.1.2.3:8000/v1", Timeout: 10 * time.Second},
			"The model server at 10.1.2.3:8000 didn't answer in 10 s.", actRetry},
		{"timeout, wait unknown", &app.ModelError{Status: 504, Message: "Gateway Timeout"}, ModelTarget{},
			"The model server didn't answer in time.", actRetry},
		{"5xx", &app.ModelError{Status: 503, Message: "upstream overloaded"}, openai,
			"The model server had a problem (error 503). Try again in a moment.", actRetry},
		{"400 says why", &app.ModelError{Status: 400, Code: "context_length_exceeded", Message: "Too long."}, openai,
			"The model refused the request: Too long.", actNone},
		{"an unknown failure keeps no key", &app.ModelError{Message: "the server echoed " + key}, openai,
			"The model server failed: the server echoed [key].", actRetry},
		{"words already plain stay", &app.ModelError{Message: "The API key was refused."}, ModelTarget{},
			"The API key was refused.", actSettings},
		{"no model set up", &app.ModelError{Message: NoModelText}, ModelTarget{}, NoModelText, actSettings},
		{"cancelled", context.Canceled, openai, "Cancelled.", actNone},
		{"a missing key is not a refused one", errors.New("model: OpenAI needs an API key: set OPENAI_API_KEY"), openai,
			"model: OpenAI needs an API key: set OPENAI_API_KEY", actNone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := explain(tc.err, tc.t)
			if got.text != tc.want || got.action != tc.action {
				t.Fatalf("explain(%v)\n got %q (action %d)\nwant %q (action %d)", tc.err, got.text, got.action, tc.want, tc.action)
			}
			if strings.Contains(got.text, key) || strings.Contains(got.text, "abcdefghijklmnop") {
				t.Fatalf("the key shows: %q", got.text)
			}
			// What the window's model writes into a run's last_error is
			// shown as it is, with the same action.
			var me *app.ModelError
			le := &app.LastError{Code: app.ErrCodeServer, Message: got.text}
			if p := explainLastError(le, ModelTarget{}); errors.As(tc.err, &me) && (p.text != got.text || p.action != got.action) {
				t.Fatalf("again from a last_error: %q (action %d)", p.text, p.action)
			}
		})
	}
}

// A run's last_error keeps only a code and a message: the words come from
// the message the openai adapter wrote.
func TestExplainRunLastErrors(t *testing.T) {
	for _, tc := range []struct {
		le     app.LastError
		want   string
		action errorAction
	}{
		{app.LastError{Code: app.ErrCodeServer, Message: `Post "http://127.0.0.1:11434/v1/chat/completions": dial tcp 127.0.0.1:11434: connect: connection refused`},
			"Can't reach the model server at 127.0.0.1:11434. Is Ollama running?", actSettings},
		{app.LastError{Code: app.ErrCodeServer, Message: "Incorrect API key provided: sk-abc***xyz. You can find your API key at https://platform.openai.com/account/api-keys."},
			"The API key was refused.", actSettings},
		{app.LastError{Code: app.ErrCodeInvalid, Message: `model "mistral" not found, try pulling it first`},
			"The model 'mistral' doesn't exist on this server.", actSettings},
		{app.LastError{Code: app.ErrCodeRateLimit, Message: "Slow down."},
			"The model's service is rate limiting requests. Try again in a moment.", actRetry},
		{app.LastError{Code: app.ErrCodeServer, Message: `no response from the model server in time: Post "http://gpu.lan:8000/v1/chat/completions": net/http: timeout awaiting response headers`},
			"The model server at gpu.lan:8000 didn't answer in time.", actRetry},
		{app.LastError{Code: app.ErrCodeInvalid, Message: "Too long."},
			"The model refused the request: Too long.", actNone},
		{app.LastError{Code: app.ErrCodeServer, Message: "Plotline stopped while this run was in progress; its files are kept. Start a new run to continue."},
			"The answer failed: Plotline stopped while this run was in progress; its files are kept. Start a new run to continue.", actRetry},
	} {
		le := tc.le
		if got := explainLastError(&le, ModelTarget{}); got.text != tc.want || got.action != tc.action {
			t.Errorf("%+v\n got %q (action %d)\nwant %q (action %d)", tc.le, got.text, got.action, tc.want, tc.action)
		}
		if got := explainError(&le); got != tc.want {
			t.Errorf("explainError(%+v) = %q", tc.le, got)
		}
	}
}

func TestSecondsSaysWaits(t *testing.T) {
	for d, want := range map[time.Duration]string{
		10 * time.Second: "10 s", 1500 * time.Millisecond: "2 s", 300 * time.Millisecond: "0.3 s",
		5 * time.Minute: "5 min", 90 * time.Second: "90 s",
	} {
		if got := seconds(d); got != want {
			t.Errorf("seconds(%v) = %q, want %q", d, got, want)
		}
	}
}

// newWindowAt is newWindow with the model at modelURL, tried once.
func newWindowAt(t *testing.T, modelURL string) *window {
	return openWindow(t, modelURL, apptest.Options{MaxRetries: -1})
}

// A run against a server that refuses the connection fails with a banner
// in plain words, naming the server, with Retry and Open settings.
func TestRefusedConnectionShowsPlainBanner(t *testing.T) {
	addr := modeltest.ClosedAddr(t)
	w := newWindowAt(t, "http://"+addr+"/v1")
	w.ask("Hello?")
	w.waitIdle()
	want := "Can't reach the model server at " + addr + ". Is the server running?"
	if got := w.u.bannerText(); got != want {
		t.Fatalf("banner = %q, want %q", got, want)
	}
	findButton(t, w.u.banner, "Retry")
	findButton(t, w.u.banner, "Open settings")
}
