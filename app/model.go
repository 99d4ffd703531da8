package app

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// ChatMessage is one message of a model request, in the provider-neutral
// shape of chat completions.
type ChatMessage struct {
	Role       string // system, user, assistant or tool
	Content    string
	ToolCalls  []ChatToolCall // an assistant's calls
	ToolCallID string         // the call a tool message answers
}

// ChatToolCall is a function call the model made.
type ChatToolCall struct {
	ID        string
	Name      string
	Arguments string
}

// ChatTool is a function the model may call.
type ChatTool struct {
	Name        string
	Description string
	Parameters  json.RawMessage
	Strict      *bool
}

// ChatRequest is one request to the model.
type ChatRequest struct {
	Model    string
	Messages []ChatMessage
	Tools    []ChatTool
	// ToolChoice is "", "none", "auto", "required", or a function name to force.
	ToolChoice          string
	ForceFunction       string
	Temperature         *float64
	TopP                *float64
	MaxCompletionTokens *int64
	ResponseFormat      json.RawMessage
	// NoParallelToolCalls asks for one tool call per answer at most (the
	// run's parallel_tool_calls: false); the model's default is several.
	NoParallelToolCalls bool
}

// ChatDelta is a piece of the model's answer as it streams.
type ChatDelta struct {
	Text string
	// Call is set for a piece of a tool call; Index is the call's position
	// in the answer, stable across its pieces.
	Call *ChatCallDelta
	// Retry, when set, is no piece of the answer: the model's service
	// refused the call for now, and it is made again after a wait.
	Retry *ChatRetry
}

// ChatRetry tells that a call to the model is made again after After,
// because its service answered Status (429: rate limited; 5xx: trouble
// on its side; 0: no answer at all).
type ChatRetry struct {
	After  time.Duration
	Status int
}

// ChatCallDelta is a piece of one tool call.
type ChatCallDelta struct {
	Index     int
	ID        string
	Name      string
	Arguments string
}

// ChatResult is the model's whole answer.
type ChatResult struct {
	Text         string
	ToolCalls    []ChatToolCall
	FinishReason string
	Usage        Usage
}

// Model is the remote model. Chat streams an answer, calling onDelta for
// each piece (from the calling goroutine), and returns it whole.
type Model interface {
	Chat(ctx context.Context, req ChatRequest, onDelta func(ChatDelta)) (*ChatResult, error)
}

// ModelError is a model failure the engine can explain: an HTTP status
// from the provider, or a transport problem (Status 0).
type ModelError struct {
	Status     int
	Code       string
	Message    string
	RetryAfter time.Duration
}

func (e *ModelError) Error() string {
	if e.Status == 0 {
		return "model: " + e.Message
	}
	return fmt.Sprintf("model: %d %s", e.Status, e.Message)
}

// ErrorCode is EMODEL.
func (e *ModelError) ErrorCode() Code { return EMODEL }

// LastErrorCode maps the failure onto a run's last_error code.
func (e *ModelError) LastErrorCode() string {
	switch {
	case e.Status == 429:
		return ErrCodeRateLimit
	case e.Status == 400 || e.Status == 404 || e.Status == 413 || e.Status == 422:
		return ErrCodeInvalid
	}
	return ErrCodeServer
}
