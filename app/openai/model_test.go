package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"plotline/app"
	"plotline/app/modeltest"
)

const testKey = "sk-test-SECRET-7f3a9c"

// newClient is a Client aimed at s as OpenAI, never retrying unless a test
// changes cfg.
func newClient(t *testing.T, s *modeltest.Server, edit ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{Provider: ProviderOpenAI, BaseURL: s.BaseURL(), APIKey: testKey, Model: "gpt-test", MaxRetries: -1}
	for _, e := range edit {
		e(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func userAsks(text string) app.ChatRequest {
	return app.ChatRequest{Messages: []app.ChatMessage{{Role: "user", Content: text}}}
}

// recorder keeps every delta Chat delivered.
type recorder struct{ deltas []app.ChatDelta }

func (r *recorder) add(d app.ChatDelta) {
	if d.Call != nil {
		c := *d.Call
		d.Call = &c
	}
	r.deltas = append(r.deltas, d)
}

func (r *recorder) text() (string, int) {
	var b strings.Builder
	n := 0
	for _, d := range r.deltas {
		if d.Text != "" {
			b.WriteString(d.Text)
			n++
		}
	}
	return b.String(), n
}

// calls rebuilds the tool calls from the deltas alone, by Index.
func (r *recorder) calls(t *testing.T) []app.ChatToolCall {
	t.Helper()
	var out []app.ChatToolCall
	for _, d := range r.deltas {
		c := d.Call
		if c == nil {
			continue
		}
		switch {
		case c.Index == len(out):
			if c.ID == "" {
				t.Errorf("first delta of call %d has no ID", c.Index)
			}
			out = append(out, app.ChatToolCall{ID: c.ID})
		case c.Index < 0 || c.Index > len(out):
			t.Fatalf("delta for call %d before call %d started: %+v", c.Index, len(out), *c)
		}
		if c.ID != "" && c.ID != out[c.Index].ID {
			t.Errorf("call %d: ID changed from %q to %q", c.Index, out[c.Index].ID, c.ID)
		}
		out[c.Index].Name += c.Name
		out[c.Index].Arguments += c.Arguments
	}
	return out
}

func TestChatStreamsText(t *testing.T) {
	const text = "Hello, analyst! The mean of column B is 4.2 — see the chart."
	s := modeltest.NewServer(t, modeltest.Turn{Text: text, ChunkSize: 3, Usage: &modeltest.Usage{PromptTokens: 11, CompletionTokens: 7}})
	var rec recorder
	res, err := newClient(t, s).Chat(context.Background(), userAsks("hi"), rec.add)
	if err != nil {
		t.Fatal(err)
	}
	got, n := rec.text()
	if got != text {
		t.Errorf("deltas concatenated = %q, want %q", got, text)
	}
	if n < 2 {
		t.Errorf("%d text deltas, want the text in pieces", n)
	}
	if res.Text != text || res.FinishReason != "stop" || len(res.ToolCalls) != 0 {
		t.Errorf("result = %+v", res)
	}
	if want := (app.Usage{PromptTokens: 11, CompletionTokens: 7, TotalTokens: 18}); res.Usage != want {
		t.Errorf("usage = %+v, want %+v", res.Usage, want)
	}
	reqs := s.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if !r.Stream || r.Model != "gpt-test" || r.Path != "/v1/chat/completions" {
		t.Errorf("stream %v model %q path %q", r.Stream, r.Model, r.Path)
	}
	if opts, _ := r.Body["stream_options"].(map[string]any); opts["include_usage"] != true {
		t.Errorf("stream_options = %v, want include_usage", r.Body["stream_options"])
	}
	if got := r.Header.Get("Authorization"); got != "Bearer "+testKey {
		t.Errorf("Authorization = %q", got)
	}
}

func TestChatToolCalls(t *testing.T) {
	want := []app.ChatToolCall{
		{ID: "call_abc", Name: "python", Arguments: `{"code":"import pandas as pd\ndf = pd.read_csv('/mnt/data/a.csv')\ndf.describe()"}`},
		{ID: "call_def", Name: "python", Arguments: `{"code":"print(\"second — ünïcode\")"}`},
	}
	for _, omit := range []bool{false, true} {
		t.Run(fmt.Sprintf("OmitIndex=%v", omit), func(t *testing.T) {
			var calls []modeltest.ToolCall
			for _, c := range want {
				calls = append(calls, modeltest.ToolCall{ID: c.ID, Name: c.Name, Arguments: c.Arguments})
			}
			s := modeltest.NewServer(t, modeltest.Turn{Text: "Let me look.", ToolCalls: calls, ChunkSize: 5, OmitIndex: omit})
			var rec recorder
			res, err := newClient(t, s).Chat(context.Background(), userAsks("describe a.csv"), rec.add)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(res.ToolCalls, want) {
				t.Errorf("result calls =\n%+v\nwant\n%+v", res.ToolCalls, want)
			}
			if got := rec.calls(t); !reflect.DeepEqual(got, want) {
				t.Errorf("calls from deltas =\n%+v\nwant\n%+v", got, want)
			}
			pieces := 0
			for _, d := range rec.deltas {
				if d.Call != nil && d.Call.Arguments != "" {
					pieces++
				}
			}
			if pieces < 4 {
				t.Errorf("%d argument pieces, want the arguments in pieces", pieces)
			}
			if res.Text != "Let me look." || res.FinishReason != "tool_calls" {
				t.Errorf("text %q finish %q", res.Text, res.FinishReason)
			}
		})
	}
}

// sseServer serves one scripted stream of raw chunk JSON (each becomes a
// data: event), for quirks the scripted server does not produce.
func sseServer(t *testing.T, status int, events ...string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if status != http.StatusOK {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			io.WriteString(w, events[0])
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for _, e := range events {
			fmt.Fprintf(w, "data: %s\n\n", e)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func chunk(delta string, finish string) string {
	f := "null"
	if finish != "" {
		f = `"` + finish + `"`
	}
	return `{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":` + delta + `,"finish_reason":` + f + `}]}`
}

func rawClient(t *testing.T, provider, baseURL string) *Client {
	t.Helper()
	c, err := New(Config{Provider: provider, BaseURL: baseURL + "/v1", APIKey: testKey, Model: "m", MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestChatToolCallQuirks(t *testing.T) {
	tests := []struct {
		name   string
		events []string
		want   []app.ChatToolCall // an empty ID means "generated"
	}{{
		name: "no id and no index",
		events: []string{
			chunk(`{"role":"assistant","tool_calls":[{"type":"function","function":{"name":"python","arguments":""}}]}`, ""),
			chunk(`{"tool_calls":[{"function":{"arguments":"{\"code\":"}}]}`, ""),
			chunk(`{"tool_calls":[{"function":{"arguments":"\"1+1\"}"}}]}`, ""),
			chunk(`{}`, "tool_calls"), "[DONE]",
		},
		want: []app.ChatToolCall{{Name: "python", Arguments: `{"code":"1+1"}`}},
	}, {
		name: "whole calls in one delta, no id and no index",
		events: []string{
			chunk(`{"tool_calls":[{"function":{"name":"python","arguments":"{\"code\":\"1\"}"}},{"function":{"name":"python","arguments":"{\"code\":\"2\"}"}}]}`, ""),
			chunk(`{}`, "tool_calls"), "[DONE]",
		},
		want: []app.ChatToolCall{{Name: "python", Arguments: `{"code":"1"}`}, {Name: "python", Arguments: `{"code":"2"}`}},
	}, {
		name: "every call at index 0",
		events: []string{
			chunk(`{"tool_calls":[{"index":0,"id":"a","type":"function","function":{"name":"python","arguments":"{}"}}]}`, ""),
			chunk(`{"tool_calls":[{"index":0,"id":"b","type":"function","function":{"name":"plot","arguments":"{"}}]}`, ""),
			chunk(`{"tool_calls":[{"index":0,"function":{"arguments":"}"}}]}`, ""),
			chunk(`{}`, "tool_calls"), "[DONE]",
		},
		want: []app.ChatToolCall{{ID: "a", Name: "python", Arguments: "{}"}, {ID: "b", Name: "plot", Arguments: "{}"}},
	}, {
		name: "id and name repeated on every piece, no index",
		events: []string{
			chunk(`{"tool_calls":[{"id":"a","function":{"name":"python","arguments":"{\"code\""}}]}`, ""),
			chunk(`{"tool_calls":[{"id":"a","function":{"name":"python","arguments":":\"x\"}"}}]}`, ""),
			chunk(`{"tool_calls":[{"id":"b","function":{"name":"python","arguments":"{}"}}]}`, ""),
			chunk(`{}`, "tool_calls"), "[DONE]",
		},
		want: []app.ChatToolCall{{ID: "a", Name: "python", Arguments: `{"code":"x"}`}, {ID: "b", Name: "python", Arguments: "{}"}},
	}, {
		name: "indexed calls interleaved",
		events: []string{
			chunk(`{"tool_calls":[{"index":1,"id":"b","function":{"name":"plot","arguments":"{"}},{"index":0,"id":"a","function":{"name":"python","arguments":"{"}}]}`, ""),
			chunk(`{"tool_calls":[{"index":0,"function":{"arguments":"}"}},{"index":1,"function":{"arguments":"}"}}]}`, ""),
			chunk(`{}`, "tool_calls"), "[DONE]",
		},
		want: []app.ChatToolCall{{ID: "b", Name: "plot", Arguments: "{}"}, {ID: "a", Name: "python", Arguments: "{}"}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := sseServer(t, http.StatusOK, tt.events...)
			var rec recorder
			res, err := rawClient(t, ProviderCompatible, srv.URL).Chat(context.Background(), userAsks("go"), rec.add)
			if err != nil {
				t.Fatal(err)
			}
			got := res.ToolCalls
			if len(got) != len(tt.want) {
				t.Fatalf("calls = %+v, want %+v", got, tt.want)
			}
			for i := range got {
				w := tt.want[i]
				if w.ID == "" {
					if !strings.HasPrefix(got[i].ID, "call_") || len(got[i].ID) < 10 {
						t.Errorf("call %d: generated ID %q", i, got[i].ID)
					}
					w.ID = got[i].ID
				}
				if got[i] != w {
					t.Errorf("call %d = %+v, want %+v", i, got[i], w)
				}
			}
			if fromDeltas := rec.calls(t); !reflect.DeepEqual(fromDeltas, got) {
				t.Errorf("calls from deltas = %+v, result = %+v", fromDeltas, got)
			}
		})
	}
}

func TestChatStreamEnd(t *testing.T) {
	text := chunk(`{"role":"assistant","content":"Half an ans"}`, "")
	stop := chunk(`{}`, "stop")
	tests := []struct {
		name     string
		provider string
		events   []string
		wantErr  string // "" for success
	}{
		{"openai with [DONE]", ProviderOpenAI, []string{text, stop, "[DONE]"}, ""},
		{"openai cut after finish_reason", ProviderOpenAI, []string{text, stop}, "no [DONE]"},
		{"openai cut mid-answer", ProviderOpenAI, []string{text}, "no [DONE]"},
		{"compatible cut after finish_reason", ProviderCompatible, []string{text, stop}, ""},
		{"compatible cut mid-answer", ProviderCompatible, []string{text}, "no finish_reason"},
		{"nothing streamed", ProviderCompatible, nil, "did not stream"},
		{"error event", ProviderOpenAI, []string{text, `{"error":{"message":"The server had an error while processing your request.","type":"server_error","code":"overloaded"}}`}, "server had an error"},
		{"malformed chunk", ProviderOpenAI, []string{text, `{"choices": [`}, "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := sseServer(t, http.StatusOK, tt.events...)
			res, err := rawClient(t, tt.provider, srv.URL).Chat(context.Background(), userAsks("go"), nil)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if res.Text != "Half an ans" {
					t.Errorf("text = %q", res.Text)
				}
				return
			}
			var me *app.ModelError
			if !errors.As(err, &me) || !strings.Contains(me.Message, tt.wantErr) {
				t.Fatalf("res %+v, err = %v (%T), want *app.ModelError saying %q", res, err, err, tt.wantErr)
			}
			if tt.name == "error event" && me.Code != "overloaded" {
				t.Errorf("code = %q, want overloaded", me.Code)
			}
		})
	}
}

func TestRequestMapping(t *testing.T) {
	temp, topP, maxTok := 0.2, 0.9, int64(512)
	strict := true
	params := json.RawMessage(`{"type":"object","properties":{"code":{"type":"string","maxLength":100000}},"required":["code"]}`)
	format := json.RawMessage(`{"type":"json_schema","json_schema":{"name":"answer","schema":{"type":"object"}}}`)
	req := app.ChatRequest{
		Model: "gpt-4o-2024-08-06",
		Messages: []app.ChatMessage{
			{Role: "system", Content: "You are Plotline."},
			{Role: "user", Content: "Plot a.csv"},
			{Role: "assistant", Content: "Reading it.", ToolCalls: []app.ChatToolCall{
				{ID: "call_1", Name: "python", Arguments: `{"code":"df = pd.read_csv('a.csv')"}`},
				{ID: "call_2", Name: "python", Arguments: ""},
			}},
			{Role: "tool", ToolCallID: "call_1", Content: "ok"},
			{Role: "tool", ToolCallID: "call_2", Content: ""},
			{Role: "assistant", ToolCalls: []app.ChatToolCall{{ID: "call_3", Name: "python", Arguments: "{}"}}},
			{Role: "tool", ToolCallID: "call_3", Content: "done"},
		},
		Tools: []app.ChatTool{
			{Name: "python", Description: "Run Python in a persistent kernel.", Parameters: params, Strict: &strict},
			{Name: "noop"},
		},
		ToolChoice:          "auto",
		Temperature:         &temp,
		TopP:                &topP,
		MaxCompletionTokens: &maxTok,
		ResponseFormat:      format,
	}
	s := modeltest.NewServer(t, modeltest.Turn{Text: "ok"})
	if _, err := newClient(t, s).Chat(context.Background(), req, nil); err != nil {
		t.Fatal(err)
	}
	r := s.Requests()[0]
	if r.Model != "gpt-4o-2024-08-06" {
		t.Errorf("model = %q (the request's model wins over the Config's)", r.Model)
	}
	wantMsgs := []modeltest.Message{
		{Role: "system", Content: "You are Plotline."},
		{Role: "user", Content: "Plot a.csv"},
		{Role: "assistant", Content: "Reading it.", ToolCalls: []modeltest.ToolCall{
			{ID: "call_1", Name: "python", Arguments: `{"code":"df = pd.read_csv('a.csv')"}`},
			{ID: "call_2", Name: "python", Arguments: "{}"},
		}},
		{Role: "tool", ToolCallID: "call_1", Content: "ok"},
		{Role: "tool", ToolCallID: "call_2", Content: ""},
		{Role: "assistant", ToolCalls: []modeltest.ToolCall{{ID: "call_3", Name: "python", Arguments: "{}"}}},
		{Role: "tool", ToolCallID: "call_3", Content: "done"},
	}
	if !reflect.DeepEqual(r.Messages, wantMsgs) {
		t.Errorf("messages =\n%+v\nwant\n%+v", r.Messages, wantMsgs)
	}
	msgs := r.Body["messages"].([]any)
	if m := msgs[5].(map[string]any); m["content"] != nil {
		t.Errorf("assistant message with only tool calls sent content %v", m["content"])
	}
	if m := msgs[4].(map[string]any); m["content"] != "" {
		t.Errorf("empty tool result sent content %#v, want \"\"", m["content"])
	}

	if len(r.Tools) != 2 || r.Tools[0].Name != "python" || r.Tools[0].Description != "Run Python in a persistent kernel." {
		t.Fatalf("tools = %+v", r.Tools)
	}
	var wantParams map[string]any
	json.Unmarshal(params, &wantParams)
	if !reflect.DeepEqual(r.Tools[0].Parameters, wantParams) {
		t.Errorf("parameters = %#v, want %#v", r.Tools[0].Parameters, wantParams)
	}
	tools := r.Body["tools"].([]any)
	if f := tools[0].(map[string]any)["function"].(map[string]any); f["strict"] != true {
		t.Errorf("strict = %v", f["strict"])
	}
	if f := tools[1].(map[string]any)["function"].(map[string]any); f["strict"] != nil || f["description"] != nil || f["parameters"] == nil {
		t.Errorf("bare tool sent as %v", f)
	}
	if r.ToolChoice != "auto" {
		t.Errorf("tool_choice = %v", r.ToolChoice)
	}
	if r.Body["temperature"] != 0.2 || r.Body["top_p"] != 0.9 {
		t.Errorf("temperature %v top_p %v", r.Body["temperature"], r.Body["top_p"])
	}
	if r.Body["max_completion_tokens"] != float64(512) || r.Body["max_tokens"] != nil {
		t.Errorf("max_completion_tokens %v max_tokens %v", r.Body["max_completion_tokens"], r.Body["max_tokens"])
	}
	var wantFormat any
	json.Unmarshal(format, &wantFormat)
	if !reflect.DeepEqual(r.Body["response_format"], wantFormat) {
		t.Errorf("response_format = %v, want %v", r.Body["response_format"], wantFormat)
	}
}

func TestRequestOptionalFieldsAbsent(t *testing.T) {
	s := modeltest.NewServer(t, modeltest.Turn{Text: "ok"}, modeltest.Turn{Text: "ok"})
	c := newClient(t, s)
	for _, rf := range []json.RawMessage{nil, json.RawMessage(`"auto"`)} {
		req := userAsks("hi")
		req.ToolChoice = "auto" // no tools: no tool_choice either
		req.ResponseFormat = rf
		if _, err := c.Chat(context.Background(), req, nil); err != nil {
			t.Fatal(err)
		}
	}
	for i, r := range s.Requests() {
		for _, k := range []string{"tools", "tool_choice", "temperature", "top_p", "max_tokens", "max_completion_tokens", "response_format"} {
			if v, ok := r.Body[k]; ok {
				t.Errorf("request %d sent %s = %v", i, k, v)
			}
		}
	}
}

func TestToolChoice(t *testing.T) {
	forced := map[string]any{"type": "function", "function": map[string]any{"name": "python"}}
	tests := []struct {
		choice, force string
		want          any
	}{
		{"", "", nil},
		{"none", "", "none"},
		{"auto", "", "auto"},
		{"required", "", "required"},
		{"", "python", forced},
		{"auto", "python", forced}, // ForceFunction wins
		{"python", "", forced},     // a function's name in ToolChoice forces it too
	}
	for _, tt := range tests {
		t.Run(tt.choice+"/"+tt.force, func(t *testing.T) {
			s := modeltest.NewServer(t, modeltest.Turn{Text: "ok"})
			req := userAsks("hi")
			req.Tools = []app.ChatTool{{Name: "python", Parameters: json.RawMessage(`{"type":"object"}`)}}
			req.ToolChoice, req.ForceFunction = tt.choice, tt.force
			if _, err := newClient(t, s).Chat(context.Background(), req, nil); err != nil {
				t.Fatal(err)
			}
			r := s.Requests()[0]
			if !reflect.DeepEqual(r.ToolChoice, tt.want) {
				t.Errorf("tool_choice = %#v, want %#v", r.ToolChoice, tt.want)
			}
			if _, sent := r.Body["tool_choice"]; sent != (tt.want != nil) {
				t.Errorf("tool_choice sent = %v", sent)
			}
		})
	}
}

func TestMaxTokens(t *testing.T) {
	n := int64(100)
	req := userAsks("hi")
	req.MaxCompletionTokens = &n

	t.Run("compatible sends max_tokens", func(t *testing.T) {
		s := modeltest.NewServer(t, modeltest.Turn{Text: "ok"})
		c := newClient(t, s, func(c *Config) { c.Provider = ProviderCompatible })
		if _, err := c.Chat(context.Background(), req, nil); err != nil {
			t.Fatal(err)
		}
		b := s.Requests()[0].Body
		if b["max_tokens"] != float64(100) || b["max_completion_tokens"] != nil {
			t.Errorf("max_tokens %v max_completion_tokens %v", b["max_tokens"], b["max_completion_tokens"])
		}
	})

	t.Run("falls back when refused", func(t *testing.T) {
		s := modeltest.NewServer(t,
			modeltest.Turn{Status: 400, ErrorMessage: "Unrecognized request argument supplied: max_completion_tokens"},
			modeltest.Turn{Text: "ok"},
			modeltest.Turn{Text: "again"},
		)
		c := newClient(t, s)
		res, err := c.Chat(context.Background(), req, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Text != "ok" {
			t.Errorf("text = %q", res.Text)
		}
		if _, err := c.Chat(context.Background(), req, nil); err != nil {
			t.Fatal(err)
		}
		reqs := s.Requests()
		if len(reqs) != 3 {
			t.Fatalf("%d requests, want 3", len(reqs))
		}
		if reqs[0].Body["max_completion_tokens"] != float64(100) {
			t.Errorf("first request: max_completion_tokens = %v", reqs[0].Body["max_completion_tokens"])
		}
		for i, r := range reqs[1:] {
			if r.Body["max_tokens"] != float64(100) || r.Body["max_completion_tokens"] != nil {
				t.Errorf("request %d: max_tokens %v max_completion_tokens %v", i+2, r.Body["max_tokens"], r.Body["max_completion_tokens"])
			}
		}
	})
}

func TestAzure(t *testing.T) {
	const azureKey = "azure-SECRET-5d1e"
	s := modeltest.NewServer(t, modeltest.Turn{Text: "from azure"})
	c, err := New(Config{Provider: ProviderAzure, BaseURL: s.AzureEndpoint(), APIKey: azureKey, Model: "plotline-gpt4o", MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Chat(context.Background(), userAsks("hi"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != "from azure" {
		t.Errorf("text = %q", res.Text)
	}
	r := s.Requests()[0]
	if r.Deployment != "plotline-gpt4o" || r.APIVersion != DefaultAzureAPIVersion {
		t.Errorf("deployment %q api-version %q (path %s)", r.Deployment, r.APIVersion, r.Path)
	}
	if got := r.Header.Get("Api-Key"); got != azureKey {
		t.Errorf("api-key header = %q", got)
	}
	if got := r.Header.Get("Authorization"); got != "" {
		t.Errorf("Authorization = %q, want none", got)
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			if k != "Api-Key" && strings.Contains(v, azureKey) {
				t.Errorf("key leaked in header %s", k)
			}
		}
	}
	if strings.Contains(r.Path, azureKey) {
		t.Error("key leaked in path")
	}
}

func TestRetries(t *testing.T) {
	t.Run("429 twice then success", func(t *testing.T) {
		s := modeltest.NewServer(t,
			modeltest.Turn{Status: 429, ErrorCode: "rate_limit_exceeded", RetryAfter: "0"},
			modeltest.Turn{Status: 429, ErrorCode: "rate_limit_exceeded", RetryAfter: "0"},
			modeltest.Turn{Text: "finally"},
		)
		res, err := newClient(t, s, func(c *Config) { c.MaxRetries = 0 }).Chat(context.Background(), userAsks("hi"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Text != "finally" {
			t.Errorf("text = %q", res.Text)
		}
		if n := len(s.Requests()); n != 3 {
			t.Errorf("%d requests, want 3", n)
		}
	})
	t.Run("each retry is told before its wait", func(t *testing.T) {
		s := modeltest.NewServer(t,
			modeltest.Turn{Status: 429, ErrorCode: "rate_limit_exceeded", RetryAfter: "0"},
			modeltest.Turn{Status: 503},
			modeltest.Turn{Text: "finally"},
		)
		var got []string
		res, err := newClient(t, s, func(c *Config) { c.MaxRetries = 2 }).Chat(context.Background(), userAsks("hi"), func(d app.ChatDelta) {
			switch {
			case d.Retry != nil:
				got = append(got, fmt.Sprintf("retry %d after %v", d.Retry.Status, d.Retry.After))
			case d.Text != "":
				got = append(got, "text")
			}
		})
		if err != nil || res.Text != "finally" {
			t.Fatalf("%v %+v", err, res)
		}
		// The 503 is the second attempt: the SDK's own backoff, 0.5 s doubled.
		want := []string{"retry 429 after 0s", "retry 503 after 1s", "text"}
		if !reflect.DeepEqual(got[:2], want[:2]) || got[len(got)-1] != "text" {
			t.Fatalf("deltas %q, want %q", got, want)
		}
	})
	t.Run("no retry left: nothing told", func(t *testing.T) {
		s := modeltest.NewServer(t, modeltest.Turn{Status: 429, ErrorCode: "rate_limit_exceeded", RetryAfter: "0"})
		var retries int
		_, err := newClient(t, s).Chat(context.Background(), userAsks("hi"), func(d app.ChatDelta) {
			if d.Retry != nil {
				retries++
			}
		})
		if err == nil || retries != 0 {
			t.Fatalf("err %v, %d retries told", err, retries)
		}
	})
	t.Run("500 then success", func(t *testing.T) {
		s := modeltest.NewServer(t, modeltest.Turn{Status: 500}, modeltest.Turn{Text: "recovered"})
		res, err := newClient(t, s, func(c *Config) { c.MaxRetries = 1 }).Chat(context.Background(), userAsks("hi"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Text != "recovered" || len(s.Requests()) != 2 {
			t.Errorf("text %q after %d requests", res.Text, len(s.Requests()))
		}
	})
	t.Run("429 beyond retries", func(t *testing.T) {
		s := modeltest.NewServer(t, modeltest.Turn{Status: 429, ErrorCode: "rate_limit_exceeded", ErrorMessage: "Slow down.", RetryAfter: "7"})
		_, err := newClient(t, s).Chat(context.Background(), userAsks("hi"), nil)
		var me *app.ModelError
		if !errors.As(err, &me) {
			t.Fatalf("err = %v (%T)", err, err)
		}
		want := app.ModelError{Status: 429, Code: "rate_limit_exceeded", Message: "Slow down.", RetryAfter: 7 * time.Second}
		if *me != want {
			t.Errorf("err = %+v, want %+v", *me, want)
		}
		if me.LastErrorCode() != app.ErrCodeRateLimit {
			t.Errorf("last error code = %q", me.LastErrorCode())
		}
	})
	t.Run("400 is not retried", func(t *testing.T) {
		s := modeltest.NewServer(t, modeltest.Turn{Status: 400, ErrorCode: "context_length_exceeded", ErrorMessage: "This model's maximum context length is 128000 tokens."})
		_, err := newClient(t, s, func(c *Config) { c.MaxRetries = 3 }).Chat(context.Background(), userAsks("hi"), nil)
		var me *app.ModelError
		if !errors.As(err, &me) {
			t.Fatalf("err = %v (%T)", err, err)
		}
		if me.Status != 400 || me.Code != "context_length_exceeded" || !strings.Contains(me.Message, "maximum context length") {
			t.Errorf("err = %+v", *me)
		}
		if n := len(s.Requests()); n != 1 {
			t.Errorf("%d requests, want 1", n)
		}
	})
}

func TestErrorShapes(t *testing.T) {
	tests := []struct {
		name, body string
		status     int
		want       app.ModelError
		tools      bool
	}{
		{"ollama", `{"error":"registry.ollama.ai/library/gemma:2b does not support tools"}`, 400,
			app.ModelError{Status: 400, Message: "registry.ollama.ai/library/gemma:2b does not support tools"}, true},
		{"vllm", `{"object":"error","message":"\"auto\" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set","type":"BadRequestError","param":null,"code":400}`, 400,
			app.ModelError{Status: 400, Code: "400", Message: `"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set`}, true},
		{"plain text", `model "llama3" not found, try pulling it first`, 404,
			app.ModelError{Status: 404, Message: `model "llama3" not found, try pulling it first`}, false},
		{"fastapi", `{"detail":"Not Found"}`, 404, app.ModelError{Status: 404, Message: "Not Found"}, false},
		{"empty", ``, 422, app.ModelError{Status: 422, Message: "Unprocessable Entity"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := sseServer(t, tt.status, tt.body)
			_, err := rawClient(t, ProviderCompatible, srv.URL).Chat(context.Background(), userAsks("hi"), nil)
			var me *app.ModelError
			if !errors.As(err, &me) {
				t.Fatalf("err = %v (%T), want *app.ModelError", err, err)
			}
			if *me != tt.want {
				t.Errorf("err = %+v, want %+v", *me, tt.want)
			}
			if ToolsUnsupported(err) != tt.tools {
				t.Errorf("ToolsUnsupported = %v, want %v", !tt.tools, tt.tools)
			}
		})
	}
}

func TestErrorNeverCarriesKey(t *testing.T) {
	s := modeltest.NewServer(t, modeltest.Turn{Status: 401, ErrorCode: "invalid_api_key", ErrorMessage: "Incorrect API key provided: " + testKey + "."})
	_, err := newClient(t, s).Chat(context.Background(), userAsks("hi"), nil)
	var me *app.ModelError
	if !errors.As(err, &me) || me.Status != 401 {
		t.Fatalf("err = %v (%T)", err, err)
	}
	if strings.Contains(err.Error(), testKey) || !strings.Contains(me.Message, "Incorrect API key provided") {
		t.Errorf("message = %q", me.Message)
	}
}

func TestNetworkError(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now
	_, err := rawClient(t, ProviderCompatible, url).Chat(context.Background(), userAsks("hi"), nil)
	var me *app.ModelError
	if !errors.As(err, &me) || me.Status != 0 || me.Message == "" {
		t.Fatalf("err = %v (%T), want *app.ModelError with status 0", err, err)
	}
}

func TestTimeToFirstByte(t *testing.T) {
	// The server takes an hour to answer; the Client waits 50 ms.
	s := modeltest.NewServer(t, modeltest.Turn{Delay: time.Hour, Text: "too late"})
	_, err := newClient(t, s, func(c *Config) { c.Timeout = 50 * time.Millisecond }).Chat(context.Background(), userAsks("hi"), nil)
	var me *app.ModelError
	if !errors.As(err, &me) || me.Status != 0 || !strings.Contains(me.Message, "in time") {
		t.Fatalf("err = %v (%T), want *app.ModelError saying the server did not answer in time", err, err)
	}
}

func TestCancel(t *testing.T) {
	// wait runs Chat and fails, rather than hanging, if it does not return.
	wait := func(t *testing.T, f func() error) error {
		t.Helper()
		done := make(chan error, 1)
		go func() { done <- f() }()
		select {
		case err := <-done:
			return err
		case <-time.After(time.Minute):
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("Chat did not return after its context was cancelled\n%s", buf[:n])
			return nil
		}
	}

	t.Run("before the headers", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		s := modeltest.NewServer(t, modeltest.Turn{Respond: func(modeltest.Request) modeltest.Turn {
			cancel() // the request has arrived; the answer never will
			return modeltest.Turn{Delay: time.Hour, Text: "too late"}
		}})
		err := wait(t, func() error {
			_, err := newClient(t, s, func(c *Config) { c.MaxRetries = 2 }).Chat(ctx, userAsks("hi"), nil)
			return err
		})
		if err != context.Canceled {
			t.Errorf("err = %v (%T), want context.Canceled itself", err, err)
		}
		if n := len(s.Requests()); n != 1 {
			t.Errorf("%d requests, want 1 (no retry after cancel)", n)
		}
	})

	t.Run("mid-stream", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		// The scripted server sends its first chunk at once and waits an
		// hour before each of the others; the cancel comes as Chat reads
		// that first chunk.
		s := modeltest.NewServer(t, modeltest.Turn{Text: "a long answer that will never finish", ChunkSize: 2, ChunkDelay: time.Hour})
		hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			res, err := http.DefaultTransport.RoundTrip(r)
			if err == nil {
				res.Body = &cancelOnRead{ReadCloser: res.Body, cancel: cancel}
			}
			return res, err
		})}
		err := wait(t, func() error {
			_, err := newClient(t, s, func(c *Config) { c.HTTPClient = hc }).Chat(ctx, userAsks("hi"), nil)
			return err
		})
		if err != context.Canceled {
			t.Errorf("err = %v (%T), want context.Canceled itself", err, err)
		}
	})
}

// cancelOnRead cancels once the first bytes of the body have been read.
type cancelOnRead struct {
	io.ReadCloser
	cancel func()
	once   sync.Once
}

func (c *cancelOnRead) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	if n > 0 {
		c.once.Do(c.cancel)
	}
	return n, err
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestNoModel(t *testing.T) {
	s := modeltest.NewServer(t)
	_, err := newClient(t, s, func(c *Config) { c.Model = "" }).Chat(context.Background(), userAsks("hi"), nil)
	if err == nil || !strings.Contains(err.Error(), "PLOTLINE_MODEL") {
		t.Errorf("err = %v", err)
	}
	if n := len(s.Requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestBadRequests(t *testing.T) {
	s := modeltest.NewServer(t)
	c := newClient(t, s)
	for name, req := range map[string]app.ChatRequest{
		"unknown role":      {Messages: []app.ChatMessage{{Role: "wizard", Content: "hi"}}},
		"tool without id":   {Messages: []app.ChatMessage{{Role: "tool", Content: "1"}}},
		"bad parameters":    {Messages: []app.ChatMessage{{Role: "user"}}, Tools: []app.ChatTool{{Name: "f", Parameters: json.RawMessage(`[1]`)}}},
		"bad format":        {Messages: []app.ChatMessage{{Role: "user"}}, ResponseFormat: json.RawMessage(`"json"`)},
		"bad format syntax": {Messages: []app.ChatMessage{{Role: "user"}}, ResponseFormat: json.RawMessage(`{`)},
	} {
		if _, err := c.Chat(context.Background(), req, nil); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if n := len(s.Requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    Config
		wantErr []string // substrings of the error
	}{{
		name: "openai",
		env:  map[string]string{"OPENAI_API_KEY": "sk-1", "PLOTLINE_MODEL": "gpt-4o"},
		want: Config{Provider: ProviderOpenAI, APIKey: "sk-1", Model: "gpt-4o"},
	}, {
		name: "openai with its own base URL",
		env:  map[string]string{"OPENAI_API_KEY": "sk-1", "OPENAI_BASE_URL": "https://api.openai.com/v1"},
		want: Config{Provider: ProviderOpenAI, APIKey: "sk-1", BaseURL: "https://api.openai.com/v1"},
	}, {
		name: "azure",
		env: map[string]string{"AZURE_OPENAI_API_KEY": "az-1", "AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com",
			"PLOTLINE_MODEL": "gpt4o-deploy", "OPENAI_API_KEY": "sk-ignored"},
		want: Config{Provider: ProviderAzure, APIKey: "az-1", BaseURL: "https://res.openai.azure.com", APIVersion: DefaultAzureAPIVersion, Model: "gpt4o-deploy"},
	}, {
		name: "azure with api version",
		env:  map[string]string{"AZURE_OPENAI_API_KEY": "az-1", "AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com", "OPENAI_API_VERSION": "2025-04-01-preview"},
		want: Config{Provider: ProviderAzure, APIKey: "az-1", BaseURL: "https://res.openai.azure.com", APIVersion: "2025-04-01-preview"},
	}, {
		name:    "azure without key",
		env:     map[string]string{"AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com"},
		wantErr: []string{"AZURE_OPENAI_API_KEY"},
	}, {
		name: "compatible without key",
		env:  map[string]string{"OPENAI_BASE_URL": "http://localhost:11434/v1", "PLOTLINE_MODEL": "qwen2.5-coder"},
		want: Config{Provider: ProviderCompatible, BaseURL: "http://localhost:11434/v1", Model: "qwen2.5-coder"},
	}, {
		name: "compatible with key",
		env:  map[string]string{"OPENAI_BASE_URL": "http://10.0.0.5:8000/v1", "OPENAI_API_KEY": "vllm-key"},
		want: Config{Provider: ProviderCompatible, BaseURL: "http://10.0.0.5:8000/v1", APIKey: "vllm-key"},
	}, {
		name: "provider override",
		env:  map[string]string{"OPENAI_BASE_URL": "https://gateway.example.com/v1", "OPENAI_API_KEY": "sk-1", "PLOTLINE_PROVIDER": "openai"},
		want: Config{Provider: ProviderOpenAI, BaseURL: "https://gateway.example.com/v1", APIKey: "sk-1"},
	}, {
		name:    "bad provider",
		env:     map[string]string{"OPENAI_API_KEY": "sk-1", "PLOTLINE_PROVIDER": "anthropic"},
		wantErr: []string{"PLOTLINE_PROVIDER"},
	}, {
		name:    "bad base URL",
		env:     map[string]string{"OPENAI_BASE_URL": "localhost:11434"},
		wantErr: []string{"not an http(s) URL"},
	}, {
		name:    "nothing set",
		env:     map[string]string{"PLOTLINE_MODEL": "gpt-4o"},
		wantErr: []string{"OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", "OPENAI_BASE_URL"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := ConfigFromEnv(func(k string) string { return tt.env[k] })
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("no error; config %v", cfg)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not name %s", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(cfg, tt.want) {
				t.Errorf("config = %#v, want %#v", cfg, tt.want) // GoString: no keys
				if cfg.APIKey != tt.want.APIKey {
					t.Errorf("wrong API key")
				}
			}
			if _, err := New(cfg); err != nil {
				t.Errorf("New: %v", err)
			}
		})
	}
}

func TestNewRejects(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no provider":        {APIKey: "k"},
		"openai without key": {Provider: ProviderOpenAI},
		"azure without URL":  {Provider: ProviderAzure, APIKey: "k"},
		"compatible no URL":  {Provider: ProviderCompatible},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestConfigNeverPrintsKey(t *testing.T) {
	for _, cfg := range []Config{
		{Provider: ProviderOpenAI, APIKey: testKey, Model: "gpt-4o"},
		{Provider: ProviderAzure, APIKey: testKey, BaseURL: "https://res.openai.azure.com", APIVersion: "2024-10-21"},
		{Provider: ProviderCompatible, APIKey: testKey, BaseURL: "http://user:" + testKey + "@localhost:8080/v1"},
	} {
		var logged bytes.Buffer
		slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "cfg", cfg)
		for _, s := range []string{
			cfg.String(),
			//lint:ignore S1025 the test checks every way a config can be formatted
			fmt.Sprint(cfg), fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprintf("%s", &cfg),
			logged.String(),
		} {
			if strings.Contains(s, testKey) || strings.Contains(s, "SECRET") {
				t.Errorf("key printed: %s", s)
			}
			if !strings.Contains(s, cfg.Provider) {
				t.Errorf("%q does not say the provider", s)
			}
		}
	}
	if s := (Config{Provider: ProviderOpenAI, APIKey: testKey}).String(); !strings.Contains(s, "key=set") {
		t.Errorf("String = %q, want it to say a key is set", s)
	}
}

func TestToolsUnsupported(t *testing.T) {
	me := func(status int, msg string) error { return &app.ModelError{Status: status, Message: msg} }
	tests := []struct {
		err  error
		want bool
	}{
		{me(400, "registry.ollama.ai/library/gemma:2b does not support tools"), true},
		{me(400, "llama2:latest does not support tools"), true},
		{me(400, "tools is not supported"), true},
		{me(400, "Model does not support tool use."), true},
		{me(400, "tool_choice 'required' is not supported"), true},
		{me(422, "tool_choice is not supported for this model"), true},
		{me(400, "Unsupported parameter: 'tools' is not supported with this model."), true},
		{me(400, "Unrecognized request argument supplied: tools"), true},
		{me(400, "tools param requires --jinja flag"), true},
		{me(404, "This model does not support function calling."), true},
		{me(400, `"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set`), true},
		{fmt.Errorf("run: %w", me(400, "does not support tools")), true},
		{&app.ModelError{Status: 400, Code: "tools_not_supported", Message: "Bad request"}, true},

		{me(500, "does not support tools"), false},
		{me(0, "does not support tools"), false},
		{me(429, "tools is not supported"), false},
		{me(400, "Invalid schema for function 'python': 'format' is not supported"), false},
		{me(400, "tools[0].function.parameters: keyword 'format' is not supported"), false},
		{me(400, "This model's maximum context length is 8192 tokens."), false},
		{me(400, "Invalid value for 'tool_choice': 'python' is not a function in tools."), false},
		{me(404, "model 'llama3' not found, try pulling it first"), false},
		{errors.New("does not support tools"), false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := ToolsUnsupported(tt.err); got != tt.want {
			t.Errorf("ToolsUnsupported(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		h    http.Header
		want time.Duration
	}{
		{http.Header{"Retry-After": {"3"}}, 3 * time.Second},
		{http.Header{"Retry-After": {"0.5"}}, 500 * time.Millisecond},
		{http.Header{"Retry-After-Ms": {"250"}, "Retry-After": {"9"}}, 250 * time.Millisecond},
		{http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}, 90 * time.Second},
		{http.Header{"Retry-After": {"soon"}}, 0},
		{http.Header{}, 0},
	} {
		if got := retryAfter(tt.h, now); got != tt.want {
			t.Errorf("retryAfter(%v) = %v, want %v", tt.h, got, tt.want)
		}
	}
}
