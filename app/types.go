// Package app is Plotline's domain: the objects of the Assistants API v2
// (assistants, threads, messages, runs, run steps, files) with their exact
// JSON shapes and parameters, errors with codes, the engine's events, the
// transcript (the one ordering of a thread), and the interfaces of what
// the engine uses: Store, Model and Interpreter. It imports nothing of
// Plotline's.
//
// The engine (app/engine) runs assistants on threads; the adapters are
// app/sqlite (Store), app/openai (Model) and the sandboxed kernels of
// package interpreter, wired together in app/cli/wiring; the window
// (app/ui), the local API (app/api) and the command line (app/cli) all
// drive the same engine.
package app

import "encoding/json"

// Object kinds, as the API's "object" field names them.
const (
	KindAssistant = "assistant"
	KindThread    = "thread"
	KindMessage   = "thread.message"
	KindRun       = "thread.run"
	KindRunStep   = "thread.run.step"
	KindFile      = "file"
)

// Metadata is up to 16 key-value pairs a client attaches to an object.
type Metadata map[string]string

// Tool is one tool of an assistant or run: code_interpreter, file_search
// (accepted and kept, not yet run) or a function.
type Tool struct {
	Type     string       `json:"type"`
	Function *FunctionDef `json:"function,omitempty"`
}

// FunctionDef describes a user-defined function tool.
type FunctionDef struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
}

// Tool types.
const (
	ToolCodeInterpreter = "code_interpreter"
	ToolFileSearch      = "file_search"
	ToolFunction        = "function"
)

// ToolResources are the files an assistant or thread gives its tools.
type ToolResources struct {
	CodeInterpreter *CodeInterpreterResources `json:"code_interpreter,omitempty"`
	FileSearch      json.RawMessage           `json:"file_search,omitempty"`
}

// CodeInterpreterResources lists the files present in /mnt/data.
type CodeInterpreterResources struct {
	FileIDs []string `json:"file_ids"`
}

// Assistant is an assistant: a model, its instructions and its tools.
type Assistant struct {
	ID             string          `json:"id"`
	Object         string          `json:"object"`
	CreatedAt      int64           `json:"created_at"`
	Name           *string         `json:"name"`
	Description    *string         `json:"description"`
	Model          string          `json:"model"`
	Instructions   *string         `json:"instructions"`
	Tools          []Tool          `json:"tools"`
	ToolResources  ToolResources   `json:"tool_resources"`
	Metadata       Metadata        `json:"metadata"`
	Temperature    *float64        `json:"temperature"`
	TopP           *float64        `json:"top_p"`
	ResponseFormat json.RawMessage `json:"response_format"`
}

// Thread is a conversation.
type Thread struct {
	ID            string        `json:"id"`
	Object        string        `json:"object"`
	CreatedAt     int64         `json:"created_at"`
	ToolResources ToolResources `json:"tool_resources"`
	Metadata      Metadata      `json:"metadata"`
}

// Attachment is a file attached to a message, with the tools to give it to.
type Attachment struct {
	FileID string `json:"file_id"`
	Tools  []Tool `json:"tools"`
}

// Message is a message of a thread.
type Message struct {
	ID                string             `json:"id"`
	Object            string             `json:"object"`
	CreatedAt         int64              `json:"created_at"`
	ThreadID          string             `json:"thread_id"`
	Status            string             `json:"status"`
	IncompleteDetails *IncompleteDetails `json:"incomplete_details"`
	CompletedAt       *int64             `json:"completed_at"`
	IncompleteAt      *int64             `json:"incomplete_at"`
	Role              string             `json:"role"`
	Content           []Content          `json:"content"`
	AssistantID       *string            `json:"assistant_id"`
	RunID             *string            `json:"run_id"`
	Attachments       []Attachment       `json:"attachments"`
	Metadata          Metadata           `json:"metadata"`
}

// Message statuses.
const (
	MessageInProgress = "in_progress"
	MessageIncomplete = "incomplete"
	MessageCompleted  = "completed"
)

// Content is one part of a message: text or an image file.
type Content struct {
	Type      string     `json:"type"`
	Text      *Text      `json:"text,omitempty"`
	ImageFile *ImageFile `json:"image_file,omitempty"`
}

// Text is a text part with its annotations.
type Text struct {
	Value       string       `json:"value"`
	Annotations []Annotation `json:"annotations"`
}

// ImageFile points at a stored image.
type ImageFile struct {
	FileID string `json:"file_id"`
	Detail string `json:"detail,omitempty"`
}

// Annotation marks a span of text. Plotline makes file_path annotations
// for sandbox:/mnt/data/NAME links; StartIndex and EndIndex count Unicode
// code points, as the hosted API (and Python's string indexing) does.
type Annotation struct {
	Type         string        `json:"type"`
	Text         string        `json:"text"`
	StartIndex   int           `json:"start_index"`
	EndIndex     int           `json:"end_index"`
	FilePath     *FileRef      `json:"file_path,omitempty"`
	FileCitation *FileCitation `json:"file_citation,omitempty"`
}

// FileRef names a stored file.
type FileRef struct {
	FileID string `json:"file_id"`
}

// FileCitation is kept for file_search annotations.
type FileCitation struct {
	FileID string `json:"file_id"`
}

// IncompleteDetails says why a message or run is incomplete.
type IncompleteDetails struct {
	Reason string `json:"reason"`
}

// Run is one execution of an assistant on a thread.
type Run struct {
	ID                  string              `json:"id"`
	Object              string              `json:"object"`
	CreatedAt           int64               `json:"created_at"`
	AssistantID         string              `json:"assistant_id"`
	ThreadID            string              `json:"thread_id"`
	Status              string              `json:"status"`
	StartedAt           *int64              `json:"started_at"`
	ExpiresAt           *int64              `json:"expires_at"`
	CancelledAt         *int64              `json:"cancelled_at"`
	FailedAt            *int64              `json:"failed_at"`
	CompletedAt         *int64              `json:"completed_at"`
	RequiredAction      *RequiredAction     `json:"required_action"`
	LastError           *LastError          `json:"last_error"`
	Model               string              `json:"model"`
	Instructions        string              `json:"instructions"`
	Tools               []Tool              `json:"tools"`
	Metadata            Metadata            `json:"metadata"`
	IncompleteDetails   *IncompleteDetails  `json:"incomplete_details"`
	Usage               *Usage              `json:"usage"`
	Temperature         *float64            `json:"temperature"`
	TopP                *float64            `json:"top_p"`
	MaxPromptTokens     *int64              `json:"max_prompt_tokens"`
	MaxCompletionTokens *int64              `json:"max_completion_tokens"`
	TruncationStrategy  *TruncationStrategy `json:"truncation_strategy"`
	ResponseFormat      json.RawMessage     `json:"response_format"`
	ToolChoice          json.RawMessage     `json:"tool_choice"`
	ParallelToolCalls   bool                `json:"parallel_tool_calls"`
}

// Run statuses.
const (
	RunQueued         = "queued"
	RunInProgress     = "in_progress"
	RunRequiresAction = "requires_action"
	RunCancelling     = "cancelling"
	RunCancelled      = "cancelled"
	RunFailed         = "failed"
	RunCompleted      = "completed"
	RunIncomplete     = "incomplete"
	RunExpired        = "expired"
)

// Terminal reports whether a run in this status will not change again.
func Terminal(status string) bool {
	switch status {
	case RunCancelled, RunFailed, RunCompleted, RunIncomplete, RunExpired:
		return true
	}
	return false
}

// RequiredAction is what a run waits for: the outputs of function calls.
type RequiredAction struct {
	Type              string            `json:"type"`
	SubmitToolOutputs SubmitToolOutputs `json:"submit_tool_outputs"`
}

// SubmitToolOutputs lists the calls whose outputs the run waits for.
type SubmitToolOutputs struct {
	ToolCalls []FunctionToolCall `json:"tool_calls"`
}

// FunctionToolCall is a call of a user-defined function.
type FunctionToolCall struct {
	ID       string       `json:"id"`
	Type     string       `json:"type"`
	Function FunctionCall `json:"function"`
}

// FunctionCall is a function's name and JSON arguments.
type FunctionCall struct {
	Name      string `json:"name"`
	Arguments string `json:"arguments"`
}

// LastError is why a run failed.
type LastError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error codes of LastError.
const (
	ErrCodeServer    = "server_error"
	ErrCodeRateLimit = "rate_limit_exceeded"
	ErrCodeInvalid   = "invalid_prompt"
)

// Usage counts tokens.
type Usage struct {
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
	TotalTokens      int64 `json:"total_tokens"`
}

// TruncationStrategy says how much of the thread the model sees.
type TruncationStrategy struct {
	Type         string `json:"type"`
	LastMessages *int   `json:"last_messages"`
}

// RunStep is one step of a run: creating a message, or calling tools.
type RunStep struct {
	ID          string      `json:"id"`
	Object      string      `json:"object"`
	CreatedAt   int64       `json:"created_at"`
	AssistantID string      `json:"assistant_id"`
	ThreadID    string      `json:"thread_id"`
	RunID       string      `json:"run_id"`
	Type        string      `json:"type"`
	Status      string      `json:"status"`
	StepDetails StepDetails `json:"step_details"`
	LastError   *LastError  `json:"last_error"`
	ExpiredAt   *int64      `json:"expired_at"`
	CancelledAt *int64      `json:"cancelled_at"`
	FailedAt    *int64      `json:"failed_at"`
	CompletedAt *int64      `json:"completed_at"`
	Metadata    Metadata    `json:"metadata"`
	Usage       *Usage      `json:"usage"`
}

// Run step types and statuses.
const (
	StepMessageCreation = "message_creation"
	StepToolCalls       = "tool_calls"

	StepInProgress = "in_progress"
	StepCancelled  = "cancelled"
	StepFailed     = "failed"
	StepCompleted  = "completed"
	StepExpired    = "expired"
)

// StepDetails is the body of a run step.
type StepDetails struct {
	Type            string           `json:"type"`
	MessageCreation *MessageCreation `json:"message_creation,omitempty"`
	ToolCalls       []ToolCall       `json:"tool_calls,omitempty"`
}

// MessageCreation names the message a step created.
type MessageCreation struct {
	MessageID string `json:"message_id"`
}

// ToolCall is one tool call of a step: code_interpreter or function.
type ToolCall struct {
	// Index is only set in deltas.
	Index           *int                 `json:"index,omitempty"`
	ID              string               `json:"id,omitempty"`
	Type            string               `json:"type"`
	CodeInterpreter *CodeInterpreterCall `json:"code_interpreter,omitempty"`
	Function        *FunctionCallOutput  `json:"function,omitempty"`
}

// CodeInterpreterCall is the code a step ran and what it produced.
type CodeInterpreterCall struct {
	Input   string       `json:"input"`
	Outputs []CodeOutput `json:"outputs"`
}

// CodeOutput is a code_interpreter output: logs, or an image.
type CodeOutput struct {
	// Index is only set in deltas.
	Index *int     `json:"index,omitempty"`
	Type  string   `json:"type"`
	Logs  string   `json:"logs,omitempty"`
	Image *FileRef `json:"image,omitempty"`
}

// FunctionCallOutput is a function call with the output submitted for it.
type FunctionCallOutput struct {
	Name      string  `json:"name"`
	Arguments string  `json:"arguments"`
	Output    *string `json:"output"`
}

// File is an uploaded or generated file.
type File struct {
	ID        string `json:"id"`
	Object    string `json:"object"`
	Bytes     int64  `json:"bytes"`
	CreatedAt int64  `json:"created_at"`
	Filename  string `json:"filename"`
	Purpose   string `json:"purpose"`
	Status    string `json:"status"`
}

// File purposes.
const (
	PurposeAssistants       = "assistants"
	PurposeAssistantsOutput = "assistants_output"
)

// List is a page of objects, as the API returns lists.
type List[T any] struct {
	Object  string  `json:"object"`
	Data    []T     `json:"data"`
	FirstID *string `json:"first_id"`
	LastID  *string `json:"last_id"`
	HasMore bool    `json:"has_more"`
}

// ListOptions page through a list.
type ListOptions struct {
	Limit  int    // 1–100, default 20
	Order  string // "asc" or "desc" (default)
	After  string // an object id: start after it
	Before string // an object id: end before it
}
