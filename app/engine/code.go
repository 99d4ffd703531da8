package engine

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"plotline/app"
)

// maxToolOutput caps what one cell's result tells the model.
const maxToolOutput = 16 << 10

// inputFiles lists the files the run's code should find in /mnt/data: the
// assistant's, the thread's, and those attached to the thread's messages.
func (l *loop) inputFiles(t app.Transcript) []string {
	var ids []string
	seen := map[string]bool{}
	add := func(list ...string) {
		for _, id := range list {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	if r := l.assistant.ToolResources.CodeInterpreter; r != nil {
		add(r.FileIDs...)
	}
	if t, err := l.e.GetThread(l.ctx, l.ar.threadID); err == nil && t.ToolResources.CodeInterpreter != nil {
		add(t.ToolResources.CodeInterpreter.FileIDs...)
	}
	add(t.Attachments()...)
	return ids
}

// runCode runs one call of the code tool in the thread's session, streaming its
// output into the step, records the outputs, and returns what the model
// is told.
func (l *loop) runCode(c app.ChatToolCall) (string, error) {
	st := l.callStep()
	code := codeOf(c.Arguments)
	idx := 0
	for i, tc := range st.StepDetails.ToolCalls {
		if tc.ID == c.ID {
			idx = i
		}
	}
	onOutput := func(p []byte) {
		l.stepDelta(st, app.ToolCall{Index: &idx, ID: c.ID, Type: app.ToolCodeInterpreter, CodeInterpreter: &app.CodeInterpreterCall{
			Outputs: []app.CodeOutput{{Index: ptr(0), Type: "logs", Logs: strings.ToValidUTF8(string(p), "\uFFFD")}}}})
	}
	if strings.TrimSpace(code) == "" {
		return fmt.Sprintf("Error: the %s tool was called without code.", l.e.cfg.Code.Name), nil
	}
	if !utf8.ValidString(code) {
		return "Error: the code is not valid UTF-8.", nil
	}
	res, note, err := l.ws.exec(l.ctx, code, onOutput)
	if err != nil && res == nil {
		if l.ctx.Err() != nil {
			return "", errStopped
		}
		return "", &runFailure{app.LastError{Code: app.ErrCodeServer, Message: "The code could not run: " + err.Error()}}
	}
	images, notes := l.ws.keepOutputs(l.sctx, res, st.ID)
	call := &st.StepDetails.ToolCalls[idx]
	logs := logsOf(res)
	if logs != "" {
		call.CodeInterpreter.Outputs = append(call.CodeInterpreter.Outputs, app.CodeOutput{Type: "logs", Logs: logs})
	}
	for _, id := range images {
		call.CodeInterpreter.Outputs = append(call.CodeInterpreter.Outputs, app.CodeOutput{Type: "image", Image: &app.FileRef{FileID: id}})
	}
	l.images = append(l.images, images...)
	if err := l.e.cfg.Store.Save(l.sctx, stepRecord(st)); err != nil {
		return "", err
	}
	if len(images) > 0 {
		var outs []app.CodeOutput
		first := len(call.CodeInterpreter.Outputs) - len(images) // after the logs, if any
		for i, id := range images {
			outs = append(outs, app.CodeOutput{Index: ptr(first + i), Type: "image", Image: &app.FileRef{FileID: id}})
		}
		l.stepDelta(st, app.ToolCall{Index: &idx, ID: c.ID, Type: app.ToolCodeInterpreter, CodeInterpreter: &app.CodeInterpreterCall{Outputs: outs}})
	}
	if l.ctx.Err() != nil {
		return "", errStopped
	}
	return note + toolReport(res, len(images), notes, l.e.cfg.Code.Language), nil
}

// logsOf is a cell's text output as the step shows it: what it printed,
// the value of its last expression, and its error.
func logsOf(r *app.CellResult) string {
	var b strings.Builder
	b.WriteString(r.Stdout)
	if r.Stderr != "" {
		if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
			b.WriteString("\n")
		}
		b.WriteString(r.Stderr)
	}
	if r.Value != nil {
		if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
			b.WriteString("\n")
		}
		b.WriteString(*r.Value)
	}
	if e := r.Error; e != nil {
		if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
			b.WriteString("\n")
		}
		if e.Traceback != "" {
			b.WriteString(e.Traceback)
		}
		if e.Traceback == "" || !strings.Contains(e.Traceback, e.Message) {
			fmt.Fprintf(&b, "%s: %s", e.Name, e.Message)
		}
	}
	return b.String()
}

// toolReport is what the model reads after its code ran.
func toolReport(r *app.CellResult, images int, notes []string, language string) string {
	var b strings.Builder
	logs := logsOf(r)
	if len(logs) > maxToolOutput {
		logs = logs[:maxToolOutput/2] + "\n[… output cut …]\n" + logs[len(logs)-maxToolOutput/2:]
		logs = strings.ToValidUTF8(logs, "")
	}
	if logs == "" {
		logs = "(the code ran and printed nothing)"
	}
	b.WriteString(logs)
	if images > 0 {
		fmt.Fprintf(&b, "\n[%d image(s) shown to the user]", images)
	}
	if len(r.Files) > 0 {
		fmt.Fprintf(&b, "\n[files written: /mnt/data/%s]", strings.Join(r.Files, ", /mnt/data/"))
	}
	for _, n := range notes {
		fmt.Fprintf(&b, "\n[%s]", n)
	}
	if r.Restarted {
		fmt.Fprintf(&b, "\n[the %s session was restarted: define your variables and imports again]", language)
	}
	return b.String()
}

// runFencedBlocks runs, for a model without tools, the python blocks of
// its answer as code_interpreter steps, and gives it their output as the
// next user message.
func (l *loop) runFencedBlocks(text string, blocks []string) error {
	l.conv = append(l.conv, app.ChatMessage{Role: "assistant", Content: text})
	var report strings.Builder
	for i, code := range blocks {
		if _, err := l.openStep(app.StepToolCalls, nil); err != nil {
			return err
		}
		st := l.callStep()
		id := newID("call_")
		st.StepDetails.ToolCalls = []app.ToolCall{{ID: id, Type: app.ToolCodeInterpreter, CodeInterpreter: &app.CodeInterpreterCall{Input: code, Outputs: []app.CodeOutput{}}}}
		out, err := l.runCode(app.ChatToolCall{ID: id, Name: l.e.cfg.Code.Name, Arguments: string(mustJSON(map[string]string{"code": code}))})
		if err != nil {
			return err
		}
		if err := l.closeStep(app.StepCompleted); err != nil {
			return err
		}
		report.WriteString(l.e.cfg.Code.BlockOutput(i+1, out) + "\n\n")
	}
	l.conv = append(l.conv, app.ChatMessage{Role: "user", Content: strings.TrimSpace(report.String())})
	return nil
}
