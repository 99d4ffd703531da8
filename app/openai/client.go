package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/azure"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/param"
	"github.com/openai/openai-go/v3/shared"

	"plotline/app"
)

// Client is the remote model behind app.Model: one provider, reached
// through openai-go's Chat Completions service. It is safe for concurrent
// use.
type Client struct {
	cfg     Config // as given, with defaults filled in
	retries int    // how often a failed call is made again
	chat    openai.ChatCompletionService
	// useMaxTokens is set once the server has refused max_completion_tokens;
	// from then on the limit goes out as max_tokens.
	useMaxTokens atomic.Bool
}

var _ app.Model = (*Client)(nil)

// New makes a Client. It checks the Config but does not contact the server.
func New(cfg Config) (*Client, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	if cfg.Provider == ProviderAzure && cfg.APIVersion == "" {
		cfg.APIVersion = DefaultAzureAPIVersion
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
		if cfg.Provider == ProviderCompatible {
			cfg.Timeout = DefaultLocalTimeout
		}
	}
	retries := cfg.MaxRetries
	switch {
	case retries == 0:
		retries = DefaultMaxRetries
	case retries < 0:
		retries = 0
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = newHTTPClient(cfg.Timeout)
	}

	opts := []option.RequestOption{
		option.WithHTTPClient(hc),
		option.WithMaxRetries(retries),
		option.WithMiddleware(normalizeErrors),
	}
	switch cfg.Provider {
	case ProviderAzure:
		opts = append(opts,
			azure.WithEndpoint(cfg.BaseURL, cfg.APIVersion),
			azure.WithAPIKey(cfg.APIKey))
		if isLoopbackHTTP(cfg.BaseURL) {
			// The SDK refuses to send an Azure key over plain http, except
			// to a loopback address when told to (local proxies and tests).
			opts = append(opts, azure.WithUnsafeAllowHTTP())
		}
	default:
		base, key := cfg.BaseURL, cfg.APIKey
		if base == "" {
			base = openAIBaseURL
		}
		if key == "" {
			key = placeholderKey
		}
		opts = append(opts, option.WithBaseURL(base), option.WithAPIKey(key))
	}
	// A service rather than openai.NewClient: NewClient also reads
	// OPENAI_* variables from the process environment, and the Config
	// should be the whole truth.
	return &Client{cfg: cfg, retries: retries, chat: openai.NewChatCompletionService(opts...)}, nil
}

// newHTTPClient bounds the wait for response headers but not the body, so
// a long answer streams for as long as it takes.
func newHTTPClient(ttfb time.Duration) *http.Client {
	t, ok := http.DefaultTransport.(*http.Transport)
	if !ok { // wrapped, e.g. for tracing: keep the wrapper, lose the bound
		return &http.Client{Transport: http.DefaultTransport}
	}
	t = t.Clone()
	t.ResponseHeaderTimeout = ttfb
	// Runs of many threads call one host at once: keep their connections
	// for the next turn rather than the default two.
	t.MaxIdleConnsPerHost = 32
	return &http.Client{Transport: t}
}

func isLoopbackHTTP(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" {
		return false
	}
	if strings.EqualFold(u.Hostname(), "localhost") {
		return true
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}

// Config returns the configuration in use, defaults filled in.
func (c *Client) Config() Config { return c.cfg }

// Chat streams one answer: see app.Model. Errors are *app.ModelError, the
// context's error when ctx ends, or a plain error for a request that could
// not be built.
func (c *Client) Chat(ctx context.Context, req app.ChatRequest, onDelta func(app.ChatDelta)) (*app.ChatResult, error) {
	params, err := c.params(req)
	if err != nil {
		return nil, err
	}
	delivered := false
	res, err := c.stream(ctx, params, func(d app.ChatDelta) {
		delivered = delivered || d.Retry == nil
		if onDelta != nil {
			onDelta(d)
		}
	})
	if err != nil && !delivered && params.MaxCompletionTokens.Valid() && refusesMaxCompletionTokens(err) {
		// Older Azure API versions and some servers know only max_tokens.
		// Nothing was delivered yet, so asking again is safe.
		c.useMaxTokens.Store(true)
		params.MaxTokens, params.MaxCompletionTokens = params.MaxCompletionTokens, param.Opt[int64]{}
		res, err = c.stream(ctx, params, onDelta)
	}
	return res, c.redact(err)
}

// redact removes the API key from an error message, for servers that echo
// the credentials they refused. Errors end up in runs' last_error, which
// is stored and shown.
func (c *Client) redact(err error) error {
	var me *app.ModelError
	if c.cfg.APIKey == "" || !errors.As(err, &me) {
		return err
	}
	me.Message = strings.ReplaceAll(me.Message, c.cfg.APIKey, "[redacted]")
	me.Code = strings.ReplaceAll(me.Code, c.cfg.APIKey, "[redacted]")
	return err
}

func refusesMaxCompletionTokens(err error) bool {
	var me *app.ModelError
	return errors.As(err, &me) && (me.Status == http.StatusBadRequest || me.Status == http.StatusUnprocessableEntity) &&
		strings.Contains(me.Message, "max_completion_tokens")
}

func (c *Client) stream(ctx context.Context, params openai.ChatCompletionNewParams, onDelta func(app.ChatDelta)) (*app.ChatResult, error) {
	var done atomic.Bool
	s := c.chat.NewStreaming(ctx, params, option.WithMiddleware(watchDone(&done), watchRetries(c.retries, onDelta)))
	defer s.Close()
	acc := newAccumulator(onDelta)
	for s.Next() {
		acc.add(s.Current())
	}
	if err := s.Err(); err != nil {
		return nil, mapError(ctx, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !done.Load() {
		// OpenAI and Azure always end with [DONE]; some compatible servers
		// stop after the chunk that carries finish_reason, which is
		// complete enough.
		switch {
		case acc.chunks == 0:
			return nil, incomplete("no chunks: the server did not stream")
		case c.cfg.Provider != ProviderCompatible:
			return nil, incomplete("no [DONE]")
		case acc.finish == "":
			return nil, incomplete("no finish_reason and no [DONE]")
		}
	}
	return acc.result(), nil
}

// params maps a request onto the SDK's.
func (c *Client) params(req app.ChatRequest) (openai.ChatCompletionNewParams, error) {
	var p openai.ChatCompletionNewParams
	p.Model = req.Model
	if p.Model == "" {
		p.Model = c.cfg.Model
	}
	if p.Model == "" {
		return p, errNoModel
	}
	p.StreamOptions.IncludeUsage = openai.Bool(true)

	for i, m := range req.Messages {
		mp, err := message(m)
		if err != nil {
			return p, fmt.Errorf("model: message %d: %w", i, err)
		}
		p.Messages = append(p.Messages, mp)
	}

	if len(req.Tools) > 0 {
		for _, t := range req.Tools {
			tp, err := tool(t)
			if err != nil {
				return p, fmt.Errorf("model: tool %q: %w", t.Name, err)
			}
			p.Tools = append(p.Tools, tp)
		}
		p.ToolChoice = toolChoice(req.ToolChoice, req.ForceFunction)
		// Only false is sent: it is the one value that changes what the
		// model does, and some compatible servers refuse the field.
		if req.NoParallelToolCalls {
			p.ParallelToolCalls = openai.Bool(false)
		}
	}

	if req.Temperature != nil {
		p.Temperature = openai.Float(*req.Temperature)
	}
	if req.TopP != nil {
		p.TopP = openai.Float(*req.TopP)
	}
	if req.MaxCompletionTokens != nil {
		// OpenAI deprecated max_tokens and its reasoning models refuse it;
		// compatible servers have long read max_tokens and may ignore
		// max_completion_tokens without a word.
		if c.cfg.Provider == ProviderCompatible || c.useMaxTokens.Load() {
			p.MaxTokens = openai.Int(*req.MaxCompletionTokens)
		} else {
			p.MaxCompletionTokens = openai.Int(*req.MaxCompletionTokens)
		}
	}
	if rf, err := responseFormat(req.ResponseFormat); err != nil {
		return p, err
	} else if rf != nil {
		p.ResponseFormat = param.Override[openai.ChatCompletionNewParamsResponseFormatUnion](rf)
	}
	return p, nil
}

func message(m app.ChatMessage) (openai.ChatCompletionMessageParamUnion, error) {
	switch m.Role {
	case "system":
		return openai.SystemMessage(m.Content), nil
	case "developer":
		return openai.DeveloperMessage(m.Content), nil
	case "user":
		return openai.UserMessage(m.Content), nil
	case "assistant":
		var a openai.ChatCompletionAssistantMessageParam
		if m.Content != "" || len(m.ToolCalls) == 0 {
			a.Content.OfString = openai.String(m.Content)
		}
		for _, tc := range m.ToolCalls {
			args := tc.Arguments
			if strings.TrimSpace(args) == "" {
				args = "{}" // Ollama parses arguments as JSON and refuses ""
			}
			a.ToolCalls = append(a.ToolCalls, openai.ChatCompletionMessageToolCallUnionParam{
				OfFunction: &openai.ChatCompletionMessageFunctionToolCallParam{
					ID:       tc.ID,
					Function: openai.ChatCompletionMessageFunctionToolCallFunctionParam{Name: tc.Name, Arguments: args},
				},
			})
		}
		return openai.ChatCompletionMessageParamUnion{OfAssistant: &a}, nil
	case "tool":
		if m.ToolCallID == "" {
			return openai.ChatCompletionMessageParamUnion{}, errors.New("a tool message needs the ToolCallID it answers")
		}
		return openai.ToolMessage(m.Content, m.ToolCallID), nil
	}
	return openai.ChatCompletionMessageParamUnion{}, fmt.Errorf("unknown role %q", m.Role)
}

func tool(t app.ChatTool) (openai.ChatCompletionToolUnionParam, error) {
	f := shared.FunctionDefinitionParam{Name: t.Name}
	if t.Description != "" {
		f.Description = openai.String(t.Description)
	}
	if t.Strict != nil {
		f.Strict = openai.Bool(*t.Strict)
	}
	raw := bytes.TrimSpace(t.Parameters)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		// Some servers refuse a function without parameters.
		raw = []byte(`{"type":"object","properties":{}}`)
	}
	// Keep each value as raw JSON, so the schema goes out as written
	// (decoding into any would turn big integers into floats).
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil || fields == nil {
		return openai.ChatCompletionToolUnionParam{}, fmt.Errorf("parameters are not a JSON object: %s", truncate(string(raw), 80))
	}
	f.Parameters = make(shared.FunctionParameters, len(fields))
	for k, v := range fields {
		f.Parameters[k] = v
	}
	return openai.ChatCompletionFunctionTool(f), nil
}

// toolChoice maps "none", "auto" and "required", or a function to force.
// ToolChoice may itself be a function's name (see app.ChatRequest).
func toolChoice(choice, force string) openai.ChatCompletionToolChoiceOptionUnionParam {
	switch {
	case force != "":
	case choice == "":
		return openai.ChatCompletionToolChoiceOptionUnionParam{}
	case choice == "none" || choice == "auto" || choice == "required":
		return openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String(choice)}
	default:
		force = choice
	}
	return openai.ToolChoiceOptionFunctionToolChoice(openai.ChatCompletionNamedToolChoiceFunctionParam{Name: force})
}

// responseFormat passes an Assistants-style response_format through: an
// object ({"type":"json_object"}, {"type":"json_schema",…}, {"type":"text"})
// as it is; "auto", null or nothing as no field at all, since Chat
// Completions has no "auto".
func responseFormat(raw json.RawMessage) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) || bytes.Equal(raw, []byte(`"auto"`)) {
		return nil, nil
	}
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("model: response_format must be \"auto\" or an object: %w", err)
	}
	return raw, nil
}
