package engine

import (
	"encoding/json"
	"plotline/app"
	"strings"
)

// answerWriter turns the model's streamed answer into a message (for its
// text) and a tool_calls step (for its calls), publishing deltas as they
// come. Store errors stop the stream's bookkeeping and are reported once.
type answerWriter struct {
	l      *loop
	msg    *openStep
	text   strings.Builder
	calls  *openStep
	inputs map[int]*codeInput // python calls' code, decoded as it streams
	failed error
}

func (w *answerWriter) delta(d app.ChatDelta) {
	if w.failed != nil {
		return
	}
	if d.Text != "" {
		w.textDelta(d.Text)
	}
	if d.Call != nil {
		w.callDelta(d.Call)
	}
	if r := d.Retry; r != nil {
		l := w.l
		l.e.Bus.Publish(app.Event{Name: app.EventRunRetrying, ThreadID: l.ar.threadID, RunID: l.ar.runID,
			Data: &app.RunRetrying{After: r.After, Status: r.Status}})
	}
}

func (w *answerWriter) textDelta(s string) {
	l := w.l
	if w.msg == nil {
		o, err := l.openMessage()
		if err != nil {
			w.failed = err
			return
		}
		w.msg = o
		w.streamImages()
	}
	w.text.WriteString(s)
	l.e.Bus.Publish(app.Event{Name: "thread.message.delta", ThreadID: l.ar.threadID, RunID: l.ar.runID, Data: &app.MessageDelta{
		ID: w.msg.msg.ID, Object: "thread.message.delta",
		Delta: app.MessageDeltaBody{Content: []app.ContentDelta{{Index: len(l.images), Type: "text", Text: &app.Text{Value: s, Annotations: []app.Annotation{}}}}},
	}})
}

// streamImages sends the images this run made as the answer's first
// content parts, as the hosted API did: clients that build the message
// from deltas (the SDKs' stream helpers) get them too.
func (w *answerWriter) streamImages() {
	l := w.l
	for i, id := range l.images {
		l.e.Bus.Publish(app.Event{Name: "thread.message.delta", ThreadID: l.ar.threadID, RunID: l.ar.runID, Data: &app.MessageDelta{
			ID: w.msg.msg.ID, Object: "thread.message.delta",
			Delta: app.MessageDeltaBody{Content: []app.ContentDelta{{Index: i, Type: "image_file", ImageFile: &app.ImageFile{FileID: id}}}},
		}})
	}
}

func (w *answerWriter) callDelta(c *app.ChatCallDelta) {
	l := w.l
	if w.calls == nil {
		o, err := l.openStep(app.StepToolCalls, nil)
		if err != nil {
			w.failed = err
			return
		}
		w.calls = o
		w.inputs = map[int]*codeInput{}
	}
	in := w.inputs[c.Index]
	if in == nil {
		in = &codeInput{}
		w.inputs[c.Index] = in
	}
	if c.Name != "" {
		in.name = c.Name
	}
	if c.ID != "" {
		in.id = c.ID
	}
	idx := c.Index
	tc := app.ToolCall{Index: &idx, ID: c.ID}
	if in.name == l.e.cfg.Code.Name && l.hasCode() && !l.noTools {
		piece := in.add(c.Arguments)
		if piece == "" && c.ID == "" {
			return
		}
		tc.Type = app.ToolCodeInterpreter
		tc.CodeInterpreter = &app.CodeInterpreterCall{Input: piece, Outputs: []app.CodeOutput{}}
	} else {
		tc.Type = app.ToolFunction
		tc.Function = &app.FunctionCallOutput{Name: c.Name, Arguments: c.Arguments}
	}
	l.stepDelta(w.calls.step, tc)
}

// finishText completes the answer's message: its final text (the model's
// whole answer wins over the streamed pieces), annotations and the images
// this run made. A cut answer (the model hit its token limit) ends the
// message incomplete instead.
func (w *answerWriter) finishText(text string, cut bool) error {
	l := w.l
	if text == "" {
		text = w.text.String()
	}
	if strings.TrimSpace(text) == "" && w.msg == nil {
		return nil
	}
	if w.msg == nil {
		o, err := l.openMessage()
		if err != nil {
			return err
		}
		w.msg = o
		w.streamImages()
	}
	m := w.msg.msg
	// The run's images first, then the text, as the hosted API ordered
	// them (and as its walkthroughs read them: content[0].image_file).
	m.Content = nil
	for _, id := range l.images {
		m.Content = append(m.Content, app.Content{Type: "image_file", ImageFile: &app.ImageFile{FileID: id}})
	}
	m.Content = append(m.Content, app.Content{Type: "text", Text: &app.Text{Value: text, Annotations: l.annotate(text)}})
	l.images = nil
	now := l.e.now()
	m.Status, m.CompletedAt = app.MessageCompleted, &now
	event := "thread.message.completed"
	if cut {
		// As the hosted API marks a message cut by max_completion_tokens;
		// settle cannot, since the message is no longer open by then.
		m.Status, m.CompletedAt, m.IncompleteAt = app.MessageIncomplete, nil, &now
		m.IncompleteDetails = &app.IncompleteDetails{Reason: "max_tokens"}
		event = "thread.message.incomplete"
	}
	st := w.msg.step
	st.Status, st.CompletedAt = app.StepCompleted, &now
	if err := l.e.cfg.Store.Save(l.sctx, messageRecord(m), stepRecord(st)); err != nil {
		return err
	}
	l.publish(event, clone(m))
	l.publish("thread.run.step.completed", clone(st))
	return nil
}

// startCalls records the whole tool calls of the answer in its step (the
// streamed pieces may have lacked ids or names).
func (w *answerWriter) startCalls(calls []app.ChatToolCall) error {
	if len(calls) == 0 {
		return nil
	}
	l := w.l
	if w.calls == nil {
		o, err := l.openStep(app.StepToolCalls, nil)
		if err != nil {
			return err
		}
		w.calls = o
	}
	st := w.calls.step
	st.StepDetails.ToolCalls = nil
	for _, c := range calls {
		tc := app.ToolCall{ID: c.ID}
		if c.Name == l.e.cfg.Code.Name && l.hasCode() && !l.noTools {
			tc.Type = app.ToolCodeInterpreter
			tc.CodeInterpreter = &app.CodeInterpreterCall{Input: codeOf(c.Arguments), Outputs: []app.CodeOutput{}}
		} else {
			tc.Type = app.ToolFunction
			tc.Function = &app.FunctionCallOutput{Name: c.Name, Arguments: c.Arguments}
		}
		st.StepDetails.ToolCalls = append(st.StepDetails.ToolCalls, tc)
	}
	return l.e.cfg.Store.Save(l.sctx, stepRecord(st))
}

// openMessage starts the assistant message of this turn, with its
// message_creation step.
func (l *loop) openMessage() (*openStep, error) {
	now := l.e.now()
	m := &app.Message{ID: newID("msg_"), Object: app.KindMessage, CreatedAt: now, ThreadID: l.ar.threadID,
		Status: app.MessageInProgress, Role: "assistant", Content: []app.Content{}, AssistantID: ptr(l.run.AssistantID),
		RunID: ptr(l.ar.runID), Attachments: []app.Attachment{}, Metadata: app.Metadata{}}
	o, err := l.openStep(app.StepMessageCreation, m)
	if err != nil {
		return nil, err
	}
	l.publish("thread.message.created", clone(m))
	l.publish("thread.message.in_progress", clone(m))
	return o, nil
}

// openStep starts a step (saving msg with it, for message_creation).
func (l *loop) openStep(typ string, msg *app.Message) (*openStep, error) {
	st := &app.RunStep{ID: newID("step_"), Object: app.KindRunStep, CreatedAt: l.e.now(), AssistantID: l.run.AssistantID,
		ThreadID: l.ar.threadID, RunID: l.ar.runID, Type: typ, Status: app.StepInProgress,
		StepDetails: app.StepDetails{Type: typ}, Metadata: app.Metadata{}}
	recs := []app.Record{}
	if msg != nil {
		st.StepDetails.MessageCreation = &app.MessageCreation{MessageID: msg.ID}
		recs = append(recs, messageRecord(msg))
	} else {
		st.StepDetails.ToolCalls = []app.ToolCall{}
	}
	if err := l.e.cfg.Store.Save(l.sctx, append(recs, stepRecord(st))...); err != nil {
		return nil, err
	}
	o := &openStep{step: st, msg: msg}
	l.open = append(l.open, o)
	l.publish("thread.run.step.created", clone(st))
	l.publish("thread.run.step.in_progress", clone(st))
	return o, nil
}

// callStep is the open tool_calls step.
func (l *loop) callStep() *app.RunStep {
	for i := len(l.open) - 1; i >= 0; i-- {
		if st := l.open[i].step; st.Type == app.StepToolCalls && st.Status == app.StepInProgress {
			return st
		}
	}
	return nil
}

// closeStep finishes the open tool_calls step.
func (l *loop) closeStep(status string) error {
	st := l.callStep()
	if st == nil {
		return nil
	}
	now := l.e.now()
	st.Status, st.CompletedAt = status, &now
	if err := l.e.cfg.Store.Save(l.sctx, stepRecord(st)); err != nil {
		return err
	}
	l.publish("thread.run.step.completed", clone(st))
	return nil
}

// setCallOutput records a function call's output in the open step.
func (l *loop) setCallOutput(callID, output string) {
	st := l.callStep()
	if st == nil {
		return
	}
	for i, tc := range st.StepDetails.ToolCalls {
		if tc.ID == callID && tc.Function != nil {
			st.StepDetails.ToolCalls[i].Function.Output = ptr(output)
		}
	}
}

func (l *loop) stepDelta(st *app.RunStep, tc app.ToolCall) {
	l.e.Bus.Publish(app.Event{Name: "thread.run.step.delta", ThreadID: l.ar.threadID, RunID: l.ar.runID, Data: &app.RunStepDelta{
		ID: st.ID, Object: "thread.run.step.delta",
		Delta: app.RunStepDeltaBody{StepDetails: app.StepDetails{Type: app.StepToolCalls, ToolCalls: []app.ToolCall{tc}}},
	}})
}

func (l *loop) publish(name string, data any) {
	l.e.Bus.Publish(app.Event{Name: name, ThreadID: l.ar.threadID, RunID: l.ar.runID, Data: data})
}

// codeInput decodes the "code" argument of a python call while its JSON
// arguments stream in, so the code can be shown as it is written.
type codeInput struct {
	id, name string
	args     strings.Builder
	sent     int // bytes of decoded code already sent
}

// add takes a piece of the arguments and returns the code decoded since.
func (c *codeInput) add(piece string) string {
	c.args.WriteString(piece)
	code := partialJSONString(c.args.String(), "code")
	if len(code) <= c.sent {
		return ""
	}
	out := code[c.sent:]
	c.sent = len(code)
	return out
}

// codeOf returns the code of a python call's arguments. Models sometimes
// send the code itself instead of JSON: that is accepted too.
func codeOf(args string) string {
	var v struct {
		Code *string `json:"code"`
	}
	if json.Unmarshal([]byte(args), &v) == nil && v.Code != nil {
		return *v.Code
	}
	return args
}

// partialJSONString returns as much of the string value of key as the
// (possibly cut) JSON object s holds, decoded. It stops before an escape
// sequence that is not complete yet.
func partialJSONString(s, key string) string {
	i := strings.Index(s, `"`+key+`"`)
	if i < 0 {
		return ""
	}
	rest := strings.TrimLeft(s[i+len(key)+2:], " \t\r\n")
	if !strings.HasPrefix(rest, ":") {
		return ""
	}
	rest = strings.TrimLeft(rest[1:], " \t\r\n")
	if !strings.HasPrefix(rest, `"`) {
		return ""
	}
	rest = rest[1:]
	var b strings.Builder
	for j := 0; j < len(rest); j++ {
		ch := rest[j]
		switch {
		case ch == '"':
			return b.String()
		case ch != '\\':
			b.WriteByte(ch)
		case j+1 >= len(rest):
			return b.String()
		default:
			esc := rest[j+1]
			if esc == 'u' {
				if j+6 > len(rest) {
					return b.String()
				}
				// One \uXXXX, or a surrogate pair of two: wait for the
				// second half rather than decode half a character.
				n := 6
				if h := rest[j+2 : j+6]; strings.ContainsAny(h[:1], "dD") && strings.ContainsAny(h[1:2], "89abAB") {
					n = 12
				}
				if j+n > len(rest) {
					return b.String()
				}
				var r string
				if json.Unmarshal([]byte(`"`+rest[j:j+n]+`"`), &r) != nil {
					return b.String()
				}
				b.WriteString(r)
				j += n - 1
				continue
			}
			var r string
			if json.Unmarshal([]byte(`"\`+string(esc)+`"`), &r) != nil {
				return b.String()
			}
			b.WriteString(r)
			j++
		}
	}
	return b.String()
}
