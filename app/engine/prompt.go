package engine

import (
	"context"
	"fmt"
	"plotline/app"
	"regexp"
	"strings"
)

// codePreamble tells the model what its python tool is and where it runs.
const codePreamble = `You can run Python with the python tool, in a stateful sandbox with numpy, pandas and matplotlib. ` +
	`The working directory is /mnt/data; the user's files are there. Save files you make for the user in /mnt/data ` +
	`and link to them as sandbox:/mnt/data/NAME. Charts you draw with matplotlib are shown to the user; do not save ` +
	`them unless asked. If code fails, read the error, fix the code and try again. There is no internet access.`

// fencedInstructions replace the python tool for models that cannot call
// tools.
const fencedInstructions = `This model cannot call tools, so write the Python you want to run in a fenced block ` +
	"(```python … ```). Plotline runs every such block of your answer in the sandbox and replies with its output; " +
	`then go on. When you have the final answer, write it without a python block.`

// buildContext makes the model's view of the thread at the start of a run:
// the system prompt, then the thread's messages and earlier code steps in
// the order they happened.
func (e *Engine) buildContext(ctx context.Context, run *app.Run, a *app.Assistant, ws *workspace, noTools bool) ([]app.ChatMessage, error) {
	var sys []string
	if strings.TrimSpace(run.Instructions) != "" {
		sys = append(sys, run.Instructions)
	}
	if ws != nil {
		sys = append(sys, codePreamble)
		if noTools {
			sys = append(sys, fencedInstructions)
		}
		sys = append(sys, ws.describeFiles())
	}
	conv := []app.ChatMessage{{Role: "system", Content: strings.Join(sys, "\n\n")}}

	msgs, err := listAll[app.Message](ctx, e.cfg.Store, app.Query{Kind: app.KindMessage, Parent: run.ThreadID})
	if err != nil {
		return nil, err
	}
	steps, err := listAll[app.RunStep](ctx, e.cfg.Store, app.Query{Kind: app.KindRunStep, Parent: run.ThreadID})
	if err != nil {
		return nil, err
	}
	// Earlier runs' code steps go right before the messages of their run,
	// so the model knows which variables and files its code already made.
	stepsOf := map[string][]app.RunStep{}
	for _, s := range steps {
		if s.Type == app.StepToolCalls && s.RunID != run.ID {
			stepsOf[s.RunID] = append(stepsOf[s.RunID], s)
		}
	}
	emitted := map[string]bool{}
	emitSteps := func(runID string) {
		if emitted[runID] {
			return
		}
		emitted[runID] = true
		for _, s := range stepsOf[runID] {
			conv = append(conv, stepMessages(s)...)
		}
	}
	for _, m := range msgs {
		if m.RunID != nil {
			emitSteps(*m.RunID)
		}
		text := app.TextOf(m.Content)
		for _, c := range m.Content {
			if c.ImageFile != nil {
				text += fmt.Sprintf("\n[image %s shown to the user]", c.ImageFile.FileID)
			}
		}
		if ws != nil && len(m.Attachments) > 0 && m.Role == "user" {
			var names []string
			for _, at := range m.Attachments {
				if n, ok := ws.inputs[at.FileID]; ok {
					names = append(names, "/mnt/data/"+n)
				}
			}
			if len(names) > 0 {
				text += "\n\n(Attached: " + strings.Join(names, ", ") + ")"
			}
		}
		conv = append(conv, app.ChatMessage{Role: m.Role, Content: text})
	}
	// Runs that ended without a message still ran code.
	for _, s := range steps {
		if s.RunID != run.ID {
			emitSteps(s.RunID)
		}
	}
	return conv, nil
}

// stepMessages renders a finished tool_calls step as the assistant's calls
// and their results. A call without output (its run stopped) still gets
// one: the chat API requires an answer to every call.
func stepMessages(s app.RunStep) []app.ChatMessage {
	call := app.ChatMessage{Role: "assistant"}
	var results []app.ChatMessage
	for _, tc := range s.StepDetails.ToolCalls {
		switch {
		case tc.CodeInterpreter != nil:
			call.ToolCalls = append(call.ToolCalls, app.ChatToolCall{ID: tc.ID, Name: pythonTool, Arguments: string(mustJSON(map[string]string{"code": tc.CodeInterpreter.Input}))})
			var out []string
			for _, o := range tc.CodeInterpreter.Outputs {
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
				if s.Status != app.StepCompleted {
					text = "(the run stopped before this code finished)"
				}
			}
			results = append(results, app.ChatMessage{Role: "tool", ToolCallID: tc.ID, Content: text})
		case tc.Function != nil:
			call.ToolCalls = append(call.ToolCalls, app.ChatToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: tc.Function.Arguments})
			out := "(no output was submitted)"
			if tc.Function.Output != nil {
				out = *tc.Function.Output
			}
			results = append(results, app.ChatMessage{Role: "tool", ToolCallID: tc.ID, Content: out})
		}
	}
	if len(call.ToolCalls) == 0 {
		return nil
	}
	return append([]app.ChatMessage{call}, results...)
}

// contextTokens is the context window assumed for truncation "auto" when
// the run gives no max_prompt_tokens: what current models have, less room
// for the answer.
const contextTokens = 100_000

// estimateTokens guesses a message's tokens at four bytes a token.
func estimateTokens(m app.ChatMessage) int {
	n := len(m.Content) + 16
	for _, c := range m.ToolCalls {
		n += len(c.Arguments) + len(c.Name) + 16
	}
	return n/4 + 1
}

// truncate applies the run's truncation strategy to the conversation: the
// system prompt always stays; last_messages keeps that many of the
// thread's messages (with the tool calls between them); auto keeps the
// newest messages that fit the token budget. A tool result never loses
// the call it answers.
func truncate(conv []app.ChatMessage, run *app.Run) []app.ChatMessage {
	if len(conv) <= 1 {
		return conv
	}
	body := conv[1:]
	start := 0
	if ts := run.TruncationStrategy; ts != nil && ts.Type == "last_messages" && ts.LastMessages != nil {
		n := 0
		start = len(body)
		for i := len(body) - 1; i >= 0 && n < *ts.LastMessages; i-- {
			if body[i].Role == "user" || (body[i].Role == "assistant" && len(body[i].ToolCalls) == 0) {
				n++
			}
			start = i
		}
	}
	budget := contextTokens
	if run.MaxPromptTokens != nil {
		budget = int(*run.MaxPromptTokens)
	}
	budget -= estimateTokens(conv[0])
	used := 0
	for i := len(body) - 1; i >= start; i-- {
		used += estimateTokens(body[i])
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
	return append([]app.ChatMessage{conv[0]}, body[start:]...)
}

var fencedPython = regexp.MustCompile("(?s)```(?:python|py|python3)[ \\t]*\\r?\\n(.*?)```")

// pythonBlocks returns the code of the fenced python blocks of text.
func pythonBlocks(text string) []string {
	var out []string
	for _, m := range fencedPython.FindAllStringSubmatch(text, -1) {
		if code := strings.TrimSpace(m[1]); code != "" {
			out = append(out, m[1])
		}
	}
	return out
}
