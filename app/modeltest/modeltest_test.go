package modeltest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/azure"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"
)

// newClient is an OpenAI client aimed at s, ignoring the environment's
// OPENAI_* variables and never retrying unless a test asks.
func newClient(s *Server, opts ...option.RequestOption) *openai.Client {
	c := openai.NewClient(append([]option.RequestOption{
		option.WithBaseURL(s.BaseURL()),
		option.WithAPIKey("sk-test"),
		option.WithMaxRetries(0),
	}, opts...)...)
	return &c
}

func userParams(text string) openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{
		Model:    "gpt-4o",
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(text)},
	}
}

// accumulate drains a stream into an accumulator, failing on any error.
func accumulate(t *testing.T, stream interface {
	Next() bool
	Current() openai.ChatCompletionChunk
	Err() error
}) (openai.ChatCompletionAccumulator, []openai.ChatCompletionChunk) {
	t.Helper()
	var acc openai.ChatCompletionAccumulator
	var chunks []openai.ChatCompletionChunk
	for stream.Next() {
		c := stream.Current()
		chunks = append(chunks, c)
		if !acc.AddChunk(c) {
			t.Fatalf("accumulator rejected chunk %d: %s", len(chunks), c.RawJSON())
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatalf("stream: %v", err)
	}
	return acc, chunks
}

func TestNonStreamingText(t *testing.T) {
	s := NewServer(t, Turn{Text: "Hello, analyst.", Usage: &Usage{PromptTokens: 12, CompletionTokens: 5}})
	resp, err := newClient(s).Chat.Completions.New(context.Background(), userParams("hi"))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Choices) != 1 {
		t.Fatalf("choices = %d, want 1", len(resp.Choices))
	}
	c := resp.Choices[0]
	if c.Message.Content != "Hello, analyst." || c.FinishReason != "stop" || string(c.Message.Role) != "assistant" || len(c.Message.ToolCalls) != 0 {
		t.Errorf("choice = %+v", c)
	}
	if resp.Model != "gpt-4o" || resp.ID != "chatcmpl-modeltest-1" || string(resp.Object) != "chat.completion" || resp.Created == 0 {
		t.Errorf("id %q object %q model %q created %d", resp.ID, resp.Object, resp.Model, resp.Created)
	}
	if resp.Usage.PromptTokens != 12 || resp.Usage.CompletionTokens != 5 || resp.Usage.TotalTokens != 17 {
		t.Errorf("usage = %+v", resp.Usage)
	}

	reqs := s.Requests()
	if len(reqs) != 1 {
		t.Fatalf("requests = %d, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != "POST" || r.Path != "/v1/chat/completions" || r.Model != "gpt-4o" || r.Stream || r.Turn != 0 || r.Deployment != "" {
		t.Errorf("request = %+v", r)
	}
	if got := r.Header.Get("Authorization"); got != "Bearer sk-test" {
		t.Errorf("Authorization = %q", got)
	}
	if want := []Message{{Role: "user", Content: "hi"}}; !reflect.DeepEqual(r.Messages, want) {
		t.Errorf("messages = %+v, want %+v", r.Messages, want)
	}
	if s.Pending() != 0 {
		t.Errorf("Pending = %d, want 0", s.Pending())
	}
}

func TestNonStreamingToolCalls(t *testing.T) {
	s := NewServer(t,
		Turn{ToolCalls: []ToolCall{{Name: "python", Arguments: `{"code":"1+1"}`}, {ID: "call_mine", Name: "python", Arguments: `{}`}}},
		Turn{ToolCalls: []ToolCall{{Name: "python", Arguments: `{"code":"2"}`}}, FinishReason: "length"},
	)
	client := newClient(s)
	resp, err := client.Chat.Completions.New(context.Background(), userParams("go"))
	if err != nil {
		t.Fatal(err)
	}
	c := resp.Choices[0]
	got := toolCalls(c.Message.ToolCalls)
	want := []ToolCall{{"call_1", "python", `{"code":"1+1"}`}, {"call_mine", "python", `{}`}}
	if !reflect.DeepEqual(got, want) || c.FinishReason != "tool_calls" || c.Message.Content != "" {
		t.Errorf("got %+v finish %q content %q, want %+v", got, c.FinishReason, c.Message.Content, want)
	}
	for _, tc := range c.Message.ToolCalls {
		if tc.Type != "function" {
			t.Errorf("type = %q", tc.Type)
		}
	}
	if !strings.Contains(c.Message.RawJSON(), `"content":null`) {
		t.Errorf("content should be null when empty: %s", c.Message.RawJSON())
	}

	// Default IDs keep counting across turns; FinishReason overrides.
	resp, err = client.Chat.Completions.New(context.Background(), userParams("again"))
	if err != nil {
		t.Fatal(err)
	}
	if id, fr := resp.Choices[0].Message.ToolCalls[0].ID, resp.Choices[0].FinishReason; id != "call_2" || fr != "length" {
		t.Errorf("id %q finish %q, want call_2 length", id, fr)
	}
}

func toolCalls(calls []openai.ChatCompletionMessageToolCallUnion) []ToolCall {
	var out []ToolCall
	for _, c := range calls {
		out = append(out, ToolCall{c.ID, c.Function.Name, c.Function.Arguments})
	}
	return out
}

func TestStreamingText(t *testing.T) {
	const text = "Plotting the data, ünïcode ✓ included."
	for _, tc := range []struct {
		name       string
		chunkSize  int
		wantPieces int
	}{
		// 42 bytes: "Plot" "ting" " the" " dat" "a, " "ün" "ïco" "de " "✓ " "incl" "uded" "."
		{"default size", 0, 12},
		{"size 1", 1, 38}, // one piece per character
		{"size 1000", 1000, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewServer(t, Turn{Text: text, ChunkSize: tc.chunkSize, Usage: &Usage{PromptTokens: 3, CompletionTokens: 9}})
			params := userParams("plot")
			params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
			acc, chunks := accumulate(t, newClient(s).Chat.Completions.NewStreaming(context.Background(), params))

			if got := acc.Choices[0].Message.Content; got != text {
				t.Errorf("content = %q, want %q", got, text)
			}
			if acc.Choices[0].FinishReason != "stop" || acc.Model != "gpt-4o" || acc.ID != "chatcmpl-modeltest-1" {
				t.Errorf("finish %q model %q id %q", acc.Choices[0].FinishReason, acc.Model, acc.ID)
			}
			if acc.Usage.PromptTokens != 3 || acc.Usage.CompletionTokens != 9 || acc.Usage.TotalTokens != 12 {
				t.Errorf("usage = %+v", acc.Usage)
			}
			// role chunk + pieces + finish chunk + usage chunk
			if want := 1 + tc.wantPieces + 2; len(chunks) != want {
				t.Errorf("chunks = %d, want %d", len(chunks), want)
			}
			for i, c := range chunks[1 : 1+tc.wantPieces] {
				if len(c.Choices) != 1 || len(c.Choices[0].Delta.Content) == 0 {
					t.Errorf("chunk %d is not a content piece: %s", i+1, c.RawJSON())
				} else if size := max(tc.chunkSize, 4); tc.chunkSize != 1 && len(c.Choices[0].Delta.Content) > size {
					t.Errorf("piece %q longer than %d", c.Choices[0].Delta.Content, size)
				}
			}
			if last := chunks[len(chunks)-1]; len(last.Choices) != 0 || last.Usage.TotalTokens != 12 {
				t.Errorf("last chunk should carry only usage: %s", last.RawJSON())
			}
			if r := s.Requests()[0]; !r.Stream {
				t.Errorf("request not recorded as streaming")
			}
		})
	}
}

func TestStreamingWithoutIncludeUsageSendsNoUsageChunk(t *testing.T) {
	s := NewServer(t, Turn{Text: "ok"})
	acc, chunks := accumulate(t, newClient(s).Chat.Completions.NewStreaming(context.Background(), userParams("x")))
	if len(chunks) != 3 || acc.Usage.TotalTokens != 0 {
		t.Errorf("chunks %d usage %+v; want 3 chunks (role, piece, finish) and no usage", len(chunks), acc.Usage)
	}
}

func TestStreamingToolCalls(t *testing.T) {
	calls := []ToolCall{
		{Name: "python", Arguments: `{"code": "import pandas as pd\ndf = pd.read_csv('/mnt/data/a.csv')"}`},
		{ID: "call_second", Name: "python", Arguments: `{"code": "df.describe()"}`},
	}
	s := NewServer(t, Turn{Text: "Let me look.", ToolCalls: calls, ChunkSize: 5})
	stream := newClient(s).Chat.Completions.NewStreaming(context.Background(), userParams("describe a.csv"))

	var acc openai.ChatCompletionAccumulator
	var finished []openai.FinishedChatCompletionToolCall
	argPieces := 0
	for stream.Next() {
		c := stream.Current()
		if !acc.AddChunk(c) {
			t.Fatalf("rejected chunk %s", c.RawJSON())
		}
		if tc, ok := acc.JustFinishedToolCall(); ok {
			finished = append(finished, tc)
		}
		for _, ch := range c.Choices {
			for _, d := range ch.Delta.ToolCalls {
				if d.ID == "" && d.Function.Arguments != "" {
					argPieces++
				}
			}
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	msg := acc.Choices[0].Message
	want := []ToolCall{{"call_1", "python", calls[0].Arguments}, {"call_second", "python", calls[1].Arguments}}
	if got := toolCalls(msg.ToolCalls); !reflect.DeepEqual(got, want) {
		t.Errorf("tool calls = %+v\nwant %+v", got, want)
	}
	if msg.Content != "Let me look." || acc.Choices[0].FinishReason != "tool_calls" {
		t.Errorf("content %q finish %q", msg.Content, acc.Choices[0].FinishReason)
	}
	if want := (len(calls[0].Arguments)+4)/5 + (len(calls[1].Arguments)+4)/5; argPieces != want {
		t.Errorf("argument pieces = %d, want %d", argPieces, want)
	}
	// The accumulator reports each call once it is complete, in order.
	if len(finished) != 2 || finished[0].ID != "call_1" || finished[0].Index != 0 || finished[1].ID != "call_second" || finished[1].Index != 1 ||
		finished[1].Arguments != calls[1].Arguments {
		t.Errorf("JustFinishedToolCall events = %+v", finished)
	}
}

// rawStream posts a streaming request with plain net/http and returns the
// decoded data events (without [DONE]) and whether [DONE] ended the stream.
func rawStream(t *testing.T, url string, body string, header http.Header) (events []map[string]any, done bool, resp *http.Response) {
	t.Helper()
	req, err := http.NewRequest("POST", url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	maps := header.Clone()
	if maps == nil {
		maps = http.Header{}
	}
	req.Header = maps
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			t.Fatalf("unexpected SSE line %q", line)
		}
		if done {
			t.Fatalf("event after [DONE]: %q", line)
		}
		if data == "[DONE]" {
			done = true
			continue
		}
		var ev map[string]any
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			t.Fatalf("event %q: %v", data, err)
		}
		events = append(events, ev)
	}
	return events, done, resp
}

func TestOmitIndexWireFormat(t *testing.T) {
	for _, omit := range []bool{false, true} {
		t.Run(fmt.Sprintf("OmitIndex=%v", omit), func(t *testing.T) {
			s := NewServer(t, Turn{OmitIndex: omit, ToolCalls: []ToolCall{
				{Name: "python", Arguments: `{"code":"a"}`},
				{Name: "python", Arguments: `{"code":"b"}`},
			}})
			events, done, resp := rawStream(t, s.BaseURL()+"/chat/completions",
				`{"model":"llama3","stream":true,"messages":[{"role":"user","content":"x"}]}`, nil)
			if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
				t.Errorf("Content-Type = %q", ct)
			}
			if !done {
				t.Error("stream did not end with [DONE]")
			}
			deltas := 0
			for _, ev := range events {
				if ev["object"] != "chat.completion.chunk" || ev["model"] != "llama3" || ev["id"] != "chatcmpl-modeltest-1" {
					t.Errorf("chunk header: %v", ev)
				}
				for _, ch := range ev["choices"].([]any) {
					delta := ch.(map[string]any)["delta"].(map[string]any)
					tcs, _ := delta["tool_calls"].([]any)
					for _, tc := range tcs {
						deltas++
						_, has := tc.(map[string]any)["index"]
						if has == omit {
							t.Errorf("tool call delta %v: has index = %v", tc, has)
						}
					}
				}
			}
			// each call: a head delta plus ceil(12/4) = 3 argument pieces
			if deltas != 8 {
				t.Errorf("tool call deltas = %d, want 8", deltas)
			}
		})
	}
}

// TestOmitIndexAccumulator pins down what openai-go's accumulator does with
// index-less tool call deltas: a missing index decodes as 0, so a single call
// accumulates correctly, but several calls all merge into call 0 (names and
// arguments concatenated, the last ID wins). Engines that talk to such
// servers must split calls themselves, e.g. start a new call whenever a
// delta carries an id.
func TestOmitIndexAccumulator(t *testing.T) {
	t.Run("one call", func(t *testing.T) {
		s := NewServer(t, Turn{OmitIndex: true, ToolCalls: []ToolCall{{Name: "python", Arguments: `{"code":"print(42)"}`}}})
		acc, _ := accumulate(t, newClient(s).Chat.Completions.NewStreaming(context.Background(), userParams("x")))
		want := []ToolCall{{"call_1", "python", `{"code":"print(42)"}`}}
		if got := toolCalls(acc.Choices[0].Message.ToolCalls); !reflect.DeepEqual(got, want) {
			t.Errorf("got %+v, want %+v", got, want)
		}
	})
	t.Run("two calls merge", func(t *testing.T) {
		s := NewServer(t, Turn{OmitIndex: true, ToolCalls: []ToolCall{
			{Name: "python", Arguments: `{"code":"a"}`},
			{Name: "python", Arguments: `{"code":"b"}`},
		}})
		acc, chunks := accumulate(t, newClient(s).Chat.Completions.NewStreaming(context.Background(), userParams("x")))
		want := []ToolCall{{"call_2", "pythonpython", `{"code":"a"}{"code":"b"}`}}
		if got := toolCalls(acc.Choices[0].Message.ToolCalls); !reflect.DeepEqual(got, want) {
			t.Errorf("got %+v, want %+v", got, want)
		}
		// The chunk itself shows the index as absent, which an engine can test.
		head := chunks[1].Choices[0].Delta.ToolCalls[0]
		if head.JSON.Index.Valid() || head.Index != 0 || head.ID != "call_1" {
			t.Errorf("head delta index valid=%v index=%d id=%q", head.JSON.Index.Valid(), head.Index, head.ID)
		}
	})
}

func TestAzure(t *testing.T) {
	s := NewServer(t, Turn{Text: "from azure"}, Turn{Text: "streamed from azure"})
	client := openai.NewClient(
		azure.WithEndpoint(s.AzureEndpoint(), "2024-05-01-preview"),
		azure.WithAPIKey("k"),
		azure.WithUnsafeAllowHTTP(), // Azure credentials over plain http need this, even on loopback
		option.WithMaxRetries(0),
	)
	params := userParams("hi")
	params.Model = "my-gpt4o"
	resp, err := client.Chat.Completions.New(context.Background(), params)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Choices[0].Message.Content != "from azure" || resp.Model != "my-gpt4o" {
		t.Errorf("content %q model %q", resp.Choices[0].Message.Content, resp.Model)
	}
	acc, _ := accumulate(t, client.Chat.Completions.NewStreaming(context.Background(), params))
	if acc.Choices[0].Message.Content != "streamed from azure" {
		t.Errorf("streamed content %q", acc.Choices[0].Message.Content)
	}

	for i, r := range s.Requests() {
		if r.Path != "/openai/deployments/my-gpt4o/chat/completions" || r.Deployment != "my-gpt4o" ||
			r.APIVersion != "2024-05-01-preview" || r.Model != "my-gpt4o" || r.Turn != i {
			t.Errorf("request %d = path %q deployment %q version %q model %q turn %d", i, r.Path, r.Deployment, r.APIVersion, r.Model, r.Turn)
		}
		if r.Header.Get("Api-Key") != "k" || r.Header.Get("Authorization") != "" {
			t.Errorf("request %d: api-key %q authorization %q", i, r.Header.Get("Api-Key"), r.Header.Get("Authorization"))
		}
	}
}

// TestAzureRefusesPlainHTTP pins down that openai-go will not send Azure
// credentials over http without azure.WithUnsafeAllowHTTP: the request never
// leaves the client.
func TestAzureRefusesPlainHTTP(t *testing.T) {
	s := NewServer(t, Turn{Text: "unreachable"})
	client := openai.NewClient(azure.WithEndpoint(s.AzureEndpoint(), "2024-05-01-preview"), azure.WithAPIKey("k"), option.WithMaxRetries(0))
	_, err := client.Chat.Completions.New(context.Background(), userParams("hi"))
	if err == nil {
		t.Fatal("want an error")
	}
	var apiErr *openai.Error
	if errors.As(err, &apiErr) || len(s.Requests()) != 0 || s.Pending() != 1 {
		t.Errorf("err %v (api error: %v), requests %d; want a client-side refusal", err, apiErr != nil, len(s.Requests()))
	}
	t.Logf("openai-go says: %v", err)
}

func TestRetryAfter429(t *testing.T) {
	s := NewServer(t,
		Turn{Status: 429, ErrorMessage: "Rate limit reached", ErrorCode: "rate_limit_exceeded", RetryAfter: "0"},
		Turn{Status: 429, ErrorMessage: "Rate limit reached", ErrorCode: "rate_limit_exceeded", RetryAfter: "0"},
		Turn{Text: "finally"},
	)
	start := time.Now()
	resp, err := newClient(s, option.WithMaxRetries(2)).Chat.Completions.New(context.Background(), userParams("hi"))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Choices[0].Message.Content != "finally" {
		t.Errorf("content %q", resp.Choices[0].Message.Content)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v; Retry-After: 0 should retry at once", d)
	}
	reqs := s.Requests()
	if len(reqs) != 3 {
		t.Fatalf("requests = %d, want 3", len(reqs))
	}
	for i, r := range reqs {
		if got := r.Header.Get("X-Stainless-Retry-Count"); got != fmt.Sprint(i) || r.Turn != i {
			t.Errorf("request %d: retry count header %q turn %d", i, got, r.Turn)
		}
	}
}

func TestRetriesExhausted(t *testing.T) {
	s := NewServer(t,
		Turn{Status: 429, ErrorCode: "rate_limit_exceeded", RetryAfter: "0"},
		Turn{Status: 503, RetryAfter: "0"},
		Turn{Text: "not reached"},
	)
	_, err := newClient(s, option.WithMaxRetries(1)).Chat.Completions.New(context.Background(), userParams("hi"))
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 || apiErr.Type != "server_error" || apiErr.Message != "Service Unavailable" || apiErr.Code != "" {
		t.Fatalf("err = %#v", err)
	}
	if len(s.Requests()) != 2 || s.Pending() != 1 {
		t.Errorf("requests %d pending %d, want 2 and 1", len(s.Requests()), s.Pending())
	}
}

func TestErrorTurns(t *testing.T) {
	for _, tc := range []struct {
		name       string
		turn       Turn
		stream     bool
		wantType   string
		wantCode   string
		wantStatus int
	}{
		{"400 context length", Turn{Status: 400, ErrorMessage: "This model's maximum context length is 128000 tokens.", ErrorCode: "context_length_exceeded"},
			false, "invalid_request_error", "context_length_exceeded", 400},
		{"400 while streaming", Turn{Status: 400, ErrorMessage: "bad tools", ErrorCode: "invalid_value", ErrorType: "custom_type"},
			true, "custom_type", "invalid_value", 400},
		{"401", Turn{Status: 401, ErrorMessage: "Incorrect API key provided", ErrorCode: "invalid_api_key"},
			false, "authentication_error", "invalid_api_key", 401},
		{"429 streaming no retry", Turn{Status: 429, ErrorMessage: "slow down", ErrorCode: "rate_limit_exceeded", RetryAfter: "1"},
			true, "rate_limit_error", "rate_limit_exceeded", 429},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewServer(t, tc.turn)
			client := newClient(s)
			var err error
			if tc.stream {
				// Streaming errors that come as an HTTP status surface from
				// stream.Err(), not from NewStreaming.
				stream := client.Chat.Completions.NewStreaming(context.Background(), userParams("x"))
				if stream.Next() {
					t.Error("stream yielded a chunk")
				}
				err = stream.Err()
			} else {
				_, err = client.Chat.Completions.New(context.Background(), userParams("x"))
			}
			var apiErr *openai.Error
			if !errors.As(err, &apiErr) {
				t.Fatalf("err = %v (%T), want *openai.Error", err, err)
			}
			if apiErr.StatusCode != tc.wantStatus || apiErr.Code != tc.wantCode || apiErr.Type != tc.wantType || apiErr.Message != tc.turn.ErrorMessage {
				t.Errorf("error status %d code %q type %q message %q", apiErr.StatusCode, apiErr.Code, apiErr.Type, apiErr.Message)
			}
			if got := apiErr.Response.Header.Get("Retry-After"); got != tc.turn.RetryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tc.turn.RetryAfter)
			}
			if apiErr.JSON.Param.Raw() != "null" {
				t.Errorf("param should be sent as null: %s", apiErr.RawJSON())
			}
			if len(s.Requests()) != 1 {
				t.Errorf("requests = %d, want 1", len(s.Requests()))
			}
		})
	}
}

func TestRequestDecoding(t *testing.T) {
	tools := []openai.ChatCompletionToolUnionParam{openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
		Name:        "python",
		Description: openai.String("Run Python in a persistent kernel."),
		Parameters: shared.FunctionParameters{
			"type":       "object",
			"properties": map[string]any{"code": map[string]any{"type": "string"}},
			"required":   []string{"code"},
		},
	})}
	assistant := openai.ChatCompletionAssistantMessageParam{
		Content: openai.ChatCompletionAssistantMessageParamContentUnion{OfString: openai.String("Running it.")},
		ToolCalls: []openai.ChatCompletionMessageToolCallUnionParam{{OfFunction: &openai.ChatCompletionMessageFunctionToolCallParam{
			ID:       "call_7",
			Function: openai.ChatCompletionMessageFunctionToolCallFunctionParam{Name: "python", Arguments: `{"code":"1+1"}`},
		}}},
	}
	messages := []openai.ChatCompletionMessageParamUnion{
		openai.SystemMessage("You are a data analyst."),
		openai.UserMessage([]openai.ChatCompletionContentPartUnionParam{
			openai.TextContentPart("first part, "),
			openai.ImageContentPart(openai.ChatCompletionContentPartImageImageURLParam{URL: "https://example.com/a.png"}),
			openai.TextContentPart("second part"),
		}),
		{OfAssistant: &assistant},
		openai.ToolMessage("2", "call_7"),
	}
	wantMessages := []Message{
		{Role: "system", Content: "You are a data analyst."},
		{Role: "user", Content: "first part, second part"},
		{Role: "assistant", Content: "Running it.", ToolCalls: []ToolCall{{ID: "call_7", Name: "python", Arguments: `{"code":"1+1"}`}}},
		{Role: "tool", Content: "2", ToolCallID: "call_7"},
	}
	wantTools := []ToolDef{{
		Name:        "python",
		Description: "Run Python in a persistent kernel.",
		Parameters: map[string]any{
			"type":       "object",
			"properties": map[string]any{"code": map[string]any{"type": "string"}},
			"required":   []any{"code"},
		},
	}}

	for _, tc := range []struct {
		name   string
		choice openai.ChatCompletionToolChoiceOptionUnionParam
		want   any
	}{
		{"auto", openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String("required")}, "required"},
		{"named", openai.ToolChoiceOptionFunctionToolChoice(openai.ChatCompletionNamedToolChoiceFunctionParam{Name: "python"}),
			map[string]any{"type": "function", "function": map[string]any{"name": "python"}}},
		{"absent", openai.ChatCompletionToolChoiceOptionUnionParam{}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewServer(t, Turn{Text: "done"})
			_, err := newClient(s).Chat.Completions.New(context.Background(), openai.ChatCompletionNewParams{
				Model: "gpt-4o", Messages: messages, Tools: tools, ToolChoice: tc.choice,
			})
			if err != nil {
				t.Fatal(err)
			}
			r := s.Requests()[0]
			if !reflect.DeepEqual(r.Messages, wantMessages) {
				t.Errorf("messages:\n got %+v\nwant %+v", r.Messages, wantMessages)
			}
			if !reflect.DeepEqual(r.Tools, wantTools) {
				t.Errorf("tools:\n got %+v\nwant %+v", r.Tools, wantTools)
			}
			if !reflect.DeepEqual(r.ToolChoice, tc.want) {
				t.Errorf("tool_choice = %#v, want %#v", r.ToolChoice, tc.want)
			}
			if r.Body["model"] != "gpt-4o" || len(r.Body["messages"].([]any)) != 4 {
				t.Errorf("raw body: %v", r.Body)
			}

			// Requests hands out copies.
			r.Body["model"] = "changed"
			r.Messages[0].Content = "changed"
			r.Tools[0].Parameters["type"] = "changed"
			r.Header.Set("Authorization", "changed")
			again := s.Requests()[0]
			if again.Body["model"] != "gpt-4o" || again.Messages[0].Content != wantMessages[0].Content ||
				again.Tools[0].Parameters["type"] != "object" || again.Header.Get("Authorization") != "Bearer sk-test" {
				t.Error("Requests shares memory with the record")
			}
		})
	}
}

// TestRespondToolLoop runs the loop the engine runs: the model calls python,
// the client sends the tool's output back, and a Respond turn answers from it.
func TestRespondToolLoop(t *testing.T) {
	s := NewServer(t, Turn{ToolCalls: []ToolCall{{Name: "python", Arguments: `{"code":"6*7"}`}}})
	s.Add(Turn{Respond: func(r Request) Turn {
		last := r.Messages[len(r.Messages)-1]
		if last.Role != "tool" {
			return Turn{Status: 400, ErrorMessage: "expected a tool message, got " + last.Role}
		}
		return Turn{Text: fmt.Sprintf("The kernel said %s (for %s).", last.Content, last.ToolCallID)}
	}})
	if s.Pending() != 2 {
		t.Fatalf("Pending = %d, want 2", s.Pending())
	}
	client := newClient(s)
	params := userParams("what is 6*7?")
	resp, err := client.Chat.Completions.New(context.Background(), params)
	if err != nil {
		t.Fatal(err)
	}
	call := resp.Choices[0].Message.ToolCalls[0]
	params.Messages = append(params.Messages, resp.Choices[0].Message.ToParam(), openai.ToolMessage("42", call.ID))
	acc, _ := accumulate(t, client.Chat.Completions.NewStreaming(context.Background(), params))
	if got, want := acc.Choices[0].Message.Content, "The kernel said 42 (for call_1)."; got != want {
		t.Errorf("content = %q, want %q", got, want)
	}
	if s.Pending() != 0 {
		t.Errorf("Pending = %d", s.Pending())
	}
	if m := s.Requests()[1].Messages[1]; m.Role != "assistant" || len(m.ToolCalls) != 1 || m.ToolCalls[0].ID != "call_1" {
		t.Errorf("assistant message sent back: %+v", m)
	}
}

func TestNoTurnLeft(t *testing.T) {
	s := NewServer(t)
	s.AllowExhaustion()
	_, err := newClient(s).Chat.Completions.New(context.Background(), userParams("anyone?"))
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 500 || apiErr.Code != "modeltest_no_turn_left" ||
		!strings.Contains(apiErr.Message, "no scripted turn left") {
		t.Fatalf("err = %#v", err)
	}
	if r := s.Requests(); len(r) != 1 || r[0].Turn != -1 {
		t.Errorf("requests = %+v", r)
	}
}

// fakeTB records what the Server reports at cleanup.
type fakeTB struct {
	testing.TB
	cleanups []func()
	errors   []string
}

func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }
func (f *fakeTB) Errorf(format string, args ...any) {
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}
func (f *fakeTB) cleanup() {
	for i := len(f.cleanups) - 1; i >= 0; i-- {
		f.cleanups[i]()
	}
}

func TestNoTurnLeftFailsTestAtCleanup(t *testing.T) {
	for _, allow := range []bool{false, true} {
		f := &fakeTB{TB: t}
		s := NewServer(f, Turn{Text: "one"})
		if allow {
			s.AllowExhaustion()
		}
		client := newClient(s)
		for range 2 {
			_, _ = client.Chat.Completions.New(context.Background(), userParams("again"))
		}
		f.cleanup()
		if allow {
			if len(f.errors) != 0 {
				t.Errorf("AllowExhaustion: cleanup reported %q", f.errors)
			}
			continue
		}
		if len(f.errors) != 1 || !strings.Contains(f.errors[0], "1 request(s) arrived with no scripted turn left (1 scripted)") ||
			!strings.Contains(f.errors[0], `request 2: POST /v1/chat/completions, model "gpt-4o", last message user: "again"`) {
			t.Errorf("cleanup reported %q", f.errors)
		}
	}
}

func TestRouting(t *testing.T) {
	s := NewServer(t, Turn{Text: "no v1"}, Turn{Text: "azure raw"})
	body := `{"model":"m","messages":[{"role":"user","content":"x"}]}`
	for _, tc := range []struct {
		name, method, path string
		header             http.Header
		wantStatus         int
		wantBody           string // exact JSON
	}{
		{"base URL without /v1", "POST", "/chat/completions", http.Header{"Api-Key": {"raw"}}, 200, ""},
		{"azure", "POST", "/openai/deployments/dep%201/chat/completions?api-version=2024-10-21", nil, 200, ""},
		{"azure without api-version", "POST", "/openai/deployments/dep/chat/completions", nil, 404,
			`{"error":{"code":"404","message":"Resource not found"}}`},
		{"unknown path", "POST", "/v1/completions", nil, 404,
			`{"error":{"code":null,"message":"Invalid URL (POST /v1/completions)","param":null,"type":"invalid_request_error"}}`},
		{"wrong method", "GET", "/v1/chat/completions", nil, 405,
			`{"error":{"code":null,"message":"Method GET not allowed on /v1/chat/completions","param":null,"type":"invalid_request_error"}}`},
		{"not JSON", "POST", "/v1/chat/completions", nil, 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := body
			if tc.name == "not JSON" {
				b = "{"
			}
			req, _ := http.NewRequest(tc.method, s.AzureEndpoint()+tc.path, strings.NewReader(b))
			for k, v := range tc.header {
				req.Header[k] = v
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status %d, want %d: %s", resp.StatusCode, tc.wantStatus, got)
			}
			if tc.wantBody != "" && strings.TrimSpace(string(got)) != tc.wantBody {
				t.Errorf("body %s\nwant %s", got, tc.wantBody)
			}
			if tc.wantStatus == 405 && resp.Header.Get("Allow") != "POST" {
				t.Errorf("Allow = %q", resp.Header.Get("Allow"))
			}
			if tc.wantStatus == 400 && !strings.Contains(string(got), "not a JSON object") {
				t.Errorf("body %s", got)
			}
		})
	}
	reqs := s.Requests()
	if len(reqs) != 6 || s.Pending() != 0 {
		t.Fatalf("requests %d pending %d", len(reqs), s.Pending())
	}
	if r := reqs[0]; r.Path != "/chat/completions" || r.Header.Get("Api-Key") != "raw" || r.Turn != 0 {
		t.Errorf("request 0: %+v", r)
	}
	if r := reqs[1]; r.Deployment != "dep 1" || r.APIVersion != "2024-10-21" || r.Turn != 1 {
		t.Errorf("request 1: deployment %q version %q", r.Deployment, r.APIVersion)
	}
	for _, r := range reqs[2:] {
		if r.Turn != -1 {
			t.Errorf("%s %s consumed turn %d", r.Method, r.Path, r.Turn)
		}
	}
}

func TestDelayHonoursClientCancel(t *testing.T) {
	responded := false
	s := NewServer(t,
		Turn{Delay: time.Minute, Respond: func(Request) Turn { responded = true; return Turn{Text: "too late"} }},
		Turn{Delay: 5 * time.Millisecond, Text: "in time"},
	)
	client := newClient(s)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := client.Chat.Completions.New(ctx, userParams("x"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want deadline exceeded", err)
	}
	// The delayed handler must give up once its client is gone, long before
	// its minute is up (and before cleanup, which would also stop it).
	for deadline := time.Now().Add(2 * time.Second); len(s.Requests()) != 1 || s.active.Load() != 0; {
		if time.Now().After(deadline) {
			t.Fatalf("handler still running: %d active, %d requests", s.active.Load(), len(s.Requests()))
		}
		time.Sleep(time.Millisecond)
	}
	if responded {
		t.Error("Respond ran for a request whose client had gone")
	}
	resp, err := client.Chat.Completions.New(context.Background(), userParams("y"))
	if err != nil || resp.Choices[0].Message.Content != "in time" {
		t.Fatalf("second request: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestChunkDelayAndStreamCancel(t *testing.T) {
	s := NewServer(t, Turn{Text: strings.Repeat("x", 400), ChunkSize: 1, ChunkDelay: 5 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream := newClient(s).Chat.Completions.NewStreaming(ctx, userParams("x"))
	n := 0
	for stream.Next() {
		if n++; n == 3 {
			cancel()
		}
	}
	if n >= 400 || stream.Err() == nil {
		t.Errorf("read %d chunks, err %v; want the stream cut short by cancel", n, stream.Err())
	}
}

func TestConcurrentRequests(t *testing.T) {
	const n = 16
	var turns []Turn
	var want []string
	for i := range n {
		turns = append(turns, Turn{Text: fmt.Sprintf("answer %02d", i), ChunkSize: 2})
		want = append(want, fmt.Sprintf("answer %02d", i))
	}
	s := NewServer(t, turns...)
	client := newClient(s)
	var mu sync.Mutex
	var got []string
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			params := userParams(fmt.Sprint(i))
			var text string
			if i%2 == 0 {
				resp, err := client.Chat.Completions.New(context.Background(), params)
				if err != nil {
					t.Error(err)
					return
				}
				text = resp.Choices[0].Message.Content
			} else {
				var acc openai.ChatCompletionAccumulator
				stream := client.Chat.Completions.NewStreaming(context.Background(), params)
				for stream.Next() {
					acc.AddChunk(stream.Current())
				}
				if err := stream.Err(); err != nil {
					t.Error(err)
					return
				}
				text = acc.Choices[0].Message.Content
			}
			mu.Lock()
			got = append(got, text)
			mu.Unlock()
			_ = s.Requests()
			_ = s.Pending()
		})
	}
	wg.Wait()
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("answers = %q", got)
	}
	turnsSeen := map[int]bool{}
	for _, r := range s.Requests() {
		turnsSeen[r.Turn] = true
	}
	if len(turnsSeen) != n || turnsSeen[-1] {
		t.Errorf("turns played: %v", turnsSeen)
	}
}

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		s    string
		size int
		want []string
	}{
		{"", 4, nil},
		{"abcdefghij", 4, []string{"abcd", "efgh", "ij"}},
		{"aé✓b", 2, []string{"a", "é", "✓", "b"}}, // é is 2 bytes, ✓ is 3: never cut inside
		{"aé✓b", 4, []string{"aé", "✓b"}},
	} {
		if got := split(tc.s, tc.size); !slices.Equal(got, tc.want) {
			t.Errorf("split(%q, %d) = %q, want %q", tc.s, tc.size, got, tc.want)
		}
	}
}
