package app

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// CodeTool is the function through which models run code, for a language.
type CodeTool struct {
	// Name is the function's name: "python", the name models were trained
	// on for the hosted code interpreter, or "starlark".
	Name string
	// Language names the language in what the model reads ("Python").
	Language string
	// Description is the function's description for the model.
	Description string
	// Fences are the info strings of the fenced blocks that a model
	// without tools writes for code to run; the first is the one Plotline
	// writes.
	Fences []string
}

// PythonCode is the code tool of the sandboxed Python kernel.
var PythonCode = CodeTool{
	Name:     "python",
	Language: "Python",
	Description: "Run Python code in a stateful Jupyter-like kernel and get its output. " +
		"Variables and imports persist between calls. The working directory is /mnt/data, which holds the user's files; " +
		"save files there for the user. numpy, pandas and matplotlib are available; figures left open are shown to the user. " +
		"There is no internet access.",
	Fences: []string{"python", "py", "python3"},
}

// Parameters is the JSON Schema of the tool's one parameter, code.
func (t CodeTool) Parameters() []byte {
	return []byte(`{"type":"object","properties":{"code":{"type":"string","description":"The ` + t.Language + ` code to run."}},"required":["code"]}`)
}

// BlockOutput is how a model without tools is told the output of the i-th
// block (from 1) of its answer.
func (t CodeTool) BlockOutput(i int, out string) string {
	return fmt.Sprintf("Output of %s block %d:\n%s", t.Fences[0], i, out)
}

// Or gives t, or PythonCode when t is unset.
func (t CodeTool) Or() CodeTool {
	if t.Name == "" {
		return PythonCode
	}
	return t
}

// Entry is one entry of a thread's transcript: a message, or a run's
// tool_calls step (a message_creation step is its message's entry).
// Exactly one of Message and Step is set.
type Entry struct {
	// Seq is the store's sequence number of the message or step: the
	// order in which they were made.
	Seq     int64
	Message *Message
	Step    *RunStep
}

// Transcript is a thread's conversation: its messages and tool calls in
// the order they happened. It is the one ordering of a thread: what the
// model is sent, what the window shows and what the export writes. Its
// entries are ordered by the store's sequence, never by timestamps, which
// have one-second resolution; so the steps of a run that was cancelled,
// expired or failed stay where they happened, before the next question.
type Transcript []Entry

// NewTranscript orders a thread's messages and steps. Each comes with
// its store sequence number (seqs[i] for msgs[i], stepSeqs[i] for
// steps[i]). Steps other than tool_calls are left out.
func NewTranscript(msgs []Message, seqs []int64, steps []RunStep, stepSeqs []int64) Transcript {
	t := make(Transcript, 0, len(msgs)+len(steps))
	for i := range msgs {
		t = append(t, Entry{Seq: seqs[i], Message: &msgs[i]})
	}
	for i := range steps {
		if steps[i].Type == StepToolCalls {
			t = append(t, Entry{Seq: stepSeqs[i], Step: &steps[i]})
		}
	}
	sort.SliceStable(t, func(i, j int) bool { return t[i].Seq < t[j].Seq })
	return t
}

// Extend returns t followed by the entries of more, which must all be
// newer than t's last.
func (t Transcript) Extend(more Transcript) Transcript {
	if len(more) == 0 {
		return t
	}
	return append(t[:len(t):len(t)], more...)
}

// LastSeq is the sequence number of t's newest entry, or 0.
func (t Transcript) LastSeq() int64 {
	if len(t) == 0 {
		return 0
	}
	return t[len(t)-1].Seq
}

// HasCode reports whether code ran in the thread: whether the model must
// be told when the variables that code made are gone.
func (t Transcript) HasCode() bool {
	for _, e := range t {
		if e.Step == nil {
			continue
		}
		for _, tc := range e.Step.StepDetails.ToolCalls {
			if tc.CodeInterpreter != nil {
				return true
			}
		}
	}
	return false
}

// Attachments lists the file ids attached to the thread's messages, each
// once, in the order they were attached.
func (t Transcript) Attachments() []string {
	var ids []string
	seen := map[string]bool{}
	for _, e := range t {
		if e.Message == nil {
			continue
		}
		for _, a := range e.Message.Attachments {
			if !seen[a.FileID] {
				seen[a.FileID] = true
				ids = append(ids, a.FileID)
			}
		}
	}
	return ids
}

// ChatOptions say how a transcript is shown to the model.
type ChatOptions struct {
	// Attached names, for an attached file id, its path in /mnt/data;
	// nil when the run has no code interpreter.
	Attached func(fileID string) (string, bool)
	// NoTools is for models that cannot call tools: code steps are shown
	// as fenced code blocks, and their output as the next user message,
	// as such models ran them.
	NoTools bool
	// Code is the tool code steps are shown as calls of (PythonCode when
	// unset).
	Code CodeTool
}

// Chat renders the transcript as the model's conversation, without the
// system prompt.
func (t Transcript) Chat(o ChatOptions) []ChatMessage {
	out := make([]ChatMessage, 0, len(t))
	for _, e := range t {
		out = append(out, e.Chat(o)...)
	}
	return out
}

// Chat renders one entry as the model's messages.
func (e Entry) Chat(o ChatOptions) []ChatMessage {
	if e.Step != nil {
		if o.NoTools {
			return fencedStep(e.Step, o.Code.Or())
		}
		return stepMessages(e.Step, o.Code.Or())
	}
	m := e.Message
	text := TextOf(m.Content)
	for _, c := range m.Content {
		if c.ImageFile != nil {
			text += fmt.Sprintf("\n[image %s shown to the user]", c.ImageFile.FileID)
		}
	}
	if o.Attached != nil && len(m.Attachments) > 0 && m.Role == "user" {
		var names []string
		for _, at := range m.Attachments {
			if n, ok := o.Attached(at.FileID); ok {
				names = append(names, "/mnt/data/"+n)
			}
		}
		if len(names) > 0 {
			text += "\n\n(Attached: " + strings.Join(names, ", ") + ")"
		}
	}
	return []ChatMessage{{Role: m.Role, Content: text}}
}

// stepMessages renders a tool_calls step as the assistant's calls and
// their results. A call without output (its run stopped) still gets one:
// the chat API requires an answer to every call.
func stepMessages(s *RunStep, code CodeTool) []ChatMessage {
	call := ChatMessage{Role: "assistant"}
	var results []ChatMessage
	for _, tc := range s.StepDetails.ToolCalls {
		switch {
		case tc.CodeInterpreter != nil:
			args, _ := json.Marshal(map[string]string{"code": tc.CodeInterpreter.Input})
			call.ToolCalls = append(call.ToolCalls, ChatToolCall{ID: tc.ID, Name: code.Name, Arguments: string(args)})
			results = append(results, ChatMessage{Role: "tool", ToolCallID: tc.ID, Content: codeOutput(s, tc.CodeInterpreter)})
		case tc.Function != nil:
			call.ToolCalls = append(call.ToolCalls, ChatToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: tc.Function.Arguments})
			out := "(no output was submitted)"
			if tc.Function.Output != nil {
				out = *tc.Function.Output
			}
			results = append(results, ChatMessage{Role: "tool", ToolCallID: tc.ID, Content: out})
		}
	}
	if len(call.ToolCalls) == 0 {
		return nil
	}
	return append([]ChatMessage{call}, results...)
}

// fencedStep renders a code step for a model without tools: the code as
// the assistant's fenced block, the output as the user's reply.
func fencedStep(s *RunStep, tool CodeTool) []ChatMessage {
	var code, outs []string
	for _, tc := range s.StepDetails.ToolCalls {
		if ci := tc.CodeInterpreter; ci != nil {
			code = append(code, "```"+tool.Fences[0]+"\n"+strings.TrimRight(ci.Input, "\n")+"\n```")
			outs = append(outs, tool.BlockOutput(len(outs)+1, codeOutput(s, ci)))
		}
	}
	if len(code) == 0 {
		return stepMessages(s, tool)
	}
	return []ChatMessage{{Role: "assistant", Content: strings.Join(code, "\n\n")},
		{Role: "user", Content: strings.Join(outs, "\n\n")}}
}

// codeOutput is what the model reads of a finished code call.
func codeOutput(s *RunStep, ci *CodeInterpreterCall) string {
	var out []string
	for _, o := range ci.Outputs {
		switch o.Type {
		case "logs":
			out = append(out, o.Logs)
		case "image":
			out = append(out, "[an image was shown to the user]")
		}
	}
	text := strings.Join(out, "\n")
	if text == "" {
		text = "(no output)"
		if s.Status != StepCompleted {
			text = "(the run stopped before this code finished)"
		}
	}
	return text
}

// DefaultContextTokens is the context window assumed for truncation
// "auto" when the run gives no max_prompt_tokens: what current models
// have, less room for the answer.
const DefaultContextTokens = 100_000

// EstimateTokens guesses a message's tokens at four bytes a token.
func EstimateTokens(m ChatMessage) int {
	n := len(m.Content) + 16
	for _, c := range m.ToolCalls {
		n += len(c.Arguments) + len(c.Name) + 16
	}
	return n/4 + 1
}

// Truncate applies a run's truncation strategy to its conversation, whose
// first message is the system prompt: the system prompt always stays;
// last_messages keeps that many of the thread's messages (with the tool
// calls between them); auto keeps the newest messages that fit the token
// budget (maxPromptTokens, else DefaultContextTokens). A tool result never
// loses the call it answers.
func Truncate(conv []ChatMessage, ts *TruncationStrategy, maxPromptTokens *int64) []ChatMessage {
	if len(conv) <= 1 {
		return conv
	}
	body := conv[1:]
	start := 0
	if ts != nil && ts.Type == "last_messages" && ts.LastMessages != nil {
		n := 0
		start = len(body)
		for i := len(body) - 1; i >= 0 && n < *ts.LastMessages; i-- {
			if body[i].Role == "user" || (body[i].Role == "assistant" && len(body[i].ToolCalls) == 0) {
				n++
			}
			start = i
		}
	}
	budget := DefaultContextTokens
	if maxPromptTokens != nil {
		budget = int(*maxPromptTokens)
	}
	budget -= EstimateTokens(conv[0])
	used := 0
	for i := len(body) - 1; i >= start; i-- {
		used += EstimateTokens(body[i])
		if used > budget {
			start = i + 1
			break
		}
	}
	// Never start on a tool result whose call was cut.
	for start < len(body) && body[start].Role == "tool" {
		start++
	}
	if start >= len(body) && len(body) > 0 {
		start = len(body) - 1 // the newest message always goes
		for start > 0 && body[start].Role == "tool" {
			start--
		}
	}
	if start == 0 {
		return conv
	}
	return append([]ChatMessage{conv[0]}, body[start:]...)
}
