package ui

import (
	"fmt"
	"strings"

	"plotline/app"
)

// rowKind says what a row of the conversation shows.
type rowKind int

const (
	rowUser rowKind = iota
	rowAssistant
	rowCode
	rowFunction
)

// row is one item of the conversation view: a message, or one tool call of
// a step (code with its output, or a function call).
type row struct {
	kind        rowKind
	id          string // message id, or step id + "#" + call index
	text        string // a message's Markdown text
	annotations []app.Annotation
	images      []string // image file ids
	attachments []string // file ids attached to a user message
	code        string
	logs        string
	status      string
	function    *app.FunctionCallOutput
	expanded    bool // a code row's details are shown
}

// timeline is the conversation of one thread as rows, kept up to date from
// the engine's events. It holds no widgets, so it is tested on its own.
type timeline struct {
	threadID string
	rows     []*row
	index    map[string]int
}

func newTimeline(threadID string) *timeline {
	return &timeline{threadID: threadID, index: map[string]int{}}
}

// buildTimeline lays out a thread's transcript: each message as its row,
// each tool_calls step as the rows of its calls, in the transcript's order.
func buildTimeline(threadID string, tr app.Transcript) *timeline {
	t := newTimeline(threadID)
	for _, e := range tr {
		switch {
		case e.Message != nil:
			t.setMessage(e.Message)
		case e.Step != nil:
			t.setStep(e.Step)
		}
	}
	return t
}

// withoutRun is tr without what run runID made, in the same order.
func withoutRun(tr app.Transcript, runID string) app.Transcript {
	var out app.Transcript
	for _, e := range tr {
		switch {
		case e.Step != nil && e.Step.RunID == runID:
		case e.Message != nil && e.Message.RunID != nil && *e.Message.RunID == runID:
		default:
			out = append(out, e)
		}
	}
	return out
}

// add appends a row, or returns the existing one with its id.
func (t *timeline) add(r *row) (*row, int, bool) {
	if i, ok := t.index[r.id]; ok {
		return t.rows[i], i, false
	}
	t.rows = append(t.rows, r)
	t.index[r.id] = len(t.rows) - 1
	return r, len(t.rows) - 1, true
}

// setMessage puts a whole message in its row.
func (t *timeline) setMessage(m *app.Message) int {
	kind := rowAssistant
	if m.Role == "user" {
		kind = rowUser
	}
	r, i, _ := t.add(&row{kind: kind, id: m.ID})
	r.text, r.annotations, r.images, r.attachments = "", nil, nil, nil
	var parts []string
	for _, c := range m.Content {
		switch {
		case c.Text != nil:
			parts = append(parts, c.Text.Value)
			if len(parts) == 1 {
				r.annotations = c.Text.Annotations
			}
		case c.ImageFile != nil:
			r.images = append(r.images, c.ImageFile.FileID)
		}
	}
	r.text = strings.Join(parts, "\n\n")
	for _, a := range m.Attachments {
		r.attachments = append(r.attachments, a.FileID)
	}
	r.status = m.Status
	return i
}

// setStep puts a step's tool calls in their rows.
func (t *timeline) setStep(s *app.RunStep) []int {
	var changed []int
	for ci, tc := range s.StepDetails.ToolCalls {
		id := fmt.Sprintf("%s#%d", s.ID, ci)
		switch {
		case tc.CodeInterpreter != nil:
			r, i, _ := t.add(&row{kind: rowCode, id: id})
			r.code, r.logs, r.images = tc.CodeInterpreter.Input, "", nil
			for _, o := range tc.CodeInterpreter.Outputs {
				switch o.Type {
				case "logs":
					r.logs += o.Logs
				case "image":
					if o.Image != nil {
						r.images = append(r.images, o.Image.FileID)
					}
				}
			}
			r.status = s.Status
			changed = append(changed, i)
		case tc.Function != nil:
			r, i, _ := t.add(&row{kind: rowFunction, id: id})
			f := *tc.Function
			r.function, r.status = &f, s.Status
			changed = append(changed, i)
		}
	}
	return changed
}

// apply takes one engine event and returns the rows it changed, and
// whether rows were added (the view then re-counts and scrolls).
func (t *timeline) apply(ev app.Event) (changed []int, added bool) {
	if ev.ThreadID != t.threadID {
		return nil, false
	}
	n := len(t.rows)
	switch d := ev.Data.(type) {
	case *app.Message:
		changed = append(changed, t.setMessage(d))
	case *app.MessageDelta:
		r, i, _ := t.add(&row{kind: rowAssistant, id: d.ID, status: app.MessageInProgress})
		for _, c := range d.Delta.Content {
			switch {
			case c.Text != nil:
				r.text += c.Text.Value
			case c.ImageFile != nil:
				r.images = append(r.images, c.ImageFile.FileID)
			}
		}
		changed = append(changed, i)
	case *app.RunStep:
		if d.Type == app.StepToolCalls {
			changed = t.setStep(d)
		}
	case *app.RunStepDelta:
		for k, tc := range d.Delta.StepDetails.ToolCalls {
			idx := k
			if tc.Index != nil {
				idx = *tc.Index
			}
			id := fmt.Sprintf("%s#%d", d.ID, idx)
			switch {
			case tc.CodeInterpreter != nil:
				r, i, _ := t.add(&row{kind: rowCode, id: id, status: app.StepInProgress})
				r.code += tc.CodeInterpreter.Input
				for _, o := range tc.CodeInterpreter.Outputs {
					r.logs += o.Logs
					if o.Image != nil {
						r.images = append(r.images, o.Image.FileID)
					}
				}
				changed = append(changed, i)
			case tc.Function != nil:
				r, i, _ := t.add(&row{kind: rowFunction, id: id, status: app.StepInProgress})
				if r.function == nil {
					r.function = &app.FunctionCallOutput{}
				}
				if tc.Function.Name != "" {
					r.function.Name = tc.Function.Name
				}
				r.function.Arguments += tc.Function.Arguments
				changed = append(changed, i)
			}
		}
	}
	return changed, len(t.rows) > n
}

// fileIDs lists the files the conversation shows or attaches, in order,
// for the files panel.
func (t *timeline) fileIDs() []string {
	var out []string
	seen := map[string]bool{}
	add := func(id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	for _, r := range t.rows {
		for _, id := range r.attachments {
			add(id)
		}
		for _, a := range r.annotations {
			if a.FilePath != nil {
				add(a.FilePath.FileID)
			}
		}
		for _, id := range r.images {
			add(id)
		}
	}
	return out
}
