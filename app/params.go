package app

import (
	"encoding/json"
	"strings"
)

// AssistantParams create or modify an assistant. Nil fields are left as
// they are (or take their defaults on create).
type AssistantParams struct {
	Model          *string         `json:"model"`
	Name           *string         `json:"name"`
	Description    *string         `json:"description"`
	Instructions   *string         `json:"instructions"`
	Tools          *[]Tool         `json:"tools"`
	ToolResources  *ToolResources  `json:"tool_resources"`
	Metadata       *Metadata       `json:"metadata"`
	Temperature    *float64        `json:"temperature"`
	TopP           *float64        `json:"top_p"`
	ResponseFormat json.RawMessage `json:"response_format"`
	// FileIDs is the v1 (2024-02-15-preview) way to give files.
	FileIDs []string `json:"file_ids"`
}

// ThreadParams create or modify a thread.
type ThreadParams struct {
	Messages      []MessageParams `json:"messages"`
	ToolResources *ToolResources  `json:"tool_resources"`
	Metadata      *Metadata       `json:"metadata"`
}

// MessageParams create a message. Content is a string or an array of
// parts ({"type":"text","text":"…"} or {"type":"image_file",…}).
type MessageParams struct {
	Role        string          `json:"role"`
	Content     json.RawMessage `json:"content"`
	Attachments []Attachment    `json:"attachments"`
	Metadata    *Metadata       `json:"metadata"`
	// FileIDs is the v1 way to attach files.
	FileIDs []string `json:"file_ids"`
}

// RunParams create a run.
type RunParams struct {
	AssistantID            string              `json:"assistant_id"`
	Model                  *string             `json:"model"`
	Instructions           *string             `json:"instructions"`
	AdditionalInstructions *string             `json:"additional_instructions"`
	AdditionalMessages     []MessageParams     `json:"additional_messages"`
	Tools                  *[]Tool             `json:"tools"`
	Metadata               *Metadata           `json:"metadata"`
	Temperature            *float64            `json:"temperature"`
	TopP                   *float64            `json:"top_p"`
	Stream                 bool                `json:"stream"`
	MaxPromptTokens        *int64              `json:"max_prompt_tokens"`
	MaxCompletionTokens    *int64              `json:"max_completion_tokens"`
	TruncationStrategy     *TruncationStrategy `json:"truncation_strategy"`
	ToolChoice             json.RawMessage     `json:"tool_choice"`
	ParallelToolCalls      *bool               `json:"parallel_tool_calls"`
	ResponseFormat         json.RawMessage     `json:"response_format"`
}

// ThreadRunParams create a thread and run it at once.
type ThreadRunParams struct {
	RunParams
	Thread        *ThreadParams  `json:"thread"`
	ToolResources *ToolResources `json:"tool_resources"`
}

// ToolOutput is the output a client submits for a function call.
type ToolOutput struct {
	ToolCallID string `json:"tool_call_id"`
	Output     string `json:"output"`
}

// TextOf joins the text parts of content.
func TextOf(content []Content) string {
	var b strings.Builder
	for _, c := range content {
		if c.Text != nil {
			if b.Len() > 0 {
				b.WriteString("\n")
			}
			b.WriteString(c.Text.Value)
		}
	}
	return b.String()
}
