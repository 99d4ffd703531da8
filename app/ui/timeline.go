package ui

import (
	"fmt"
	"regexp"
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
	err         string // a code row's error, the last line of its traceback
	runID       string // the run that made a code or function row
	function    *app.FunctionCallOutput
	expanded    bool // a code row's details are shown
}

// timeline is the conversation of one thread as rows, kept up to date from
// the engine's events. It holds no widgets, so it is tested on its own.
type timeline struct {
	threadID string
	rows     []*row
	index    map[string]int
	steps    map[string][]int // step id → its rows
}

func newTimeline(threadID string) *timeline {
	return &timeline{threadID: threadID, index: map[string]int{}, steps: map[string][]int{}}
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

// callRowID is the id of the row of a step's call.
func callRowID(stepID string, call int) string { return fmt.Sprintf("%s#%d", stepID, call) }

// stepRow returns the row of a step's call, adding it if new.
func (t *timeline) stepRow(stepID, runID string, call int, kind rowKind) (*row, int) {
	r, i, added := t.add(&row{kind: kind, id: callRowID(stepID, call), status: app.StepInProgress})
	if added {
		t.steps[stepID] = append(t.steps[stepID], i)
	}
	if runID != "" {
		r.runID = runID
	}
	return r, i
}

// setStep puts a step's tool calls in their rows. What the step does not
// carry is kept from its deltas: a step stopped mid-cell may come without
// the output that streamed, or without the calls that were still being
// written. Every row of the step takes its status.
func (t *timeline) setStep(s *app.RunStep) []int {
	var changed []int
	for ci, tc := range s.StepDetails.ToolCalls {
		switch {
		case tc.CodeInterpreter != nil:
			r, _ := t.stepRow(s.ID, s.RunID, ci, rowCode)
			var logs string
			var images []string
			for _, o := range tc.CodeInterpreter.Outputs {
				switch o.Type {
				case "logs":
					logs += o.Logs
				case "image":
					if o.Image != nil {
						images = append(images, o.Image.FileID)
					}
				}
			}
			if tc.CodeInterpreter.Input != "" {
				r.code = tc.CodeInterpreter.Input
			}
			if logs != "" {
				r.logs = logs
			}
			if len(images) > 0 {
				r.images = images
			}
			r.err = ""
			if s.Status == app.StepCompleted {
				r.err = cellError(r.logs)
			}
		case tc.Function != nil:
			r, _ := t.stepRow(s.ID, s.RunID, ci, rowFunction)
			f := *tc.Function
			r.function = &f
		}
	}
	for _, i := range t.steps[s.ID] {
		t.rows[i].status = s.Status
		changed = append(changed, i)
	}
	return changed
}

// settleRun gives a run's rows still running the status its end implies,
// should a step's own end not have come.
func (t *timeline) settleRun(run *app.Run) []int {
	status := ""
	switch run.Status {
	case app.RunCancelled:
		status = app.StepCancelled
	case app.RunFailed:
		status = app.StepFailed
	case app.RunExpired:
		status = app.StepExpired
	case app.RunCompleted, app.RunIncomplete:
		status = app.StepCompleted
	default:
		return nil
	}
	var changed []int
	for i, r := range t.rows {
		if (r.kind == rowCode || r.kind == rowFunction) && r.runID == run.ID && r.status == app.StepInProgress {
			r.status = status
			changed = append(changed, i)
		}
	}
	return changed
}

// cellError is the error a cell's output ends with, as the kernel reports
// it: the exception's line after the last traceback (or the cell's frame
// of a syntax error), as "KeyError: 'x'"; "" when the cell raised none.
func cellError(logs string) string {
	lines := strings.Split(strings.TrimRight(logs, "\n"), "\n")
	start := -1
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], "Traceback (most recent call last):") || strings.HasPrefix(lines[i], `  File "<cell `) {
			start = i
			break
		}
	}
	if start < 0 {
		return ""
	}
	for _, l := range lines[start+1:] {
		if l == "" || l[0] == ' ' || l[0] == '\t' {
			continue
		}
		if exceptionLine.MatchString(l) {
			return strings.TrimSpace(l)
		}
		return ""
	}
	return ""
}

// exceptionLine is Python's last traceback line: "KeyError: 'x'",
// "pandas.errors.ParserError: …", "KeyboardInterrupt".
var exceptionLine = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]*(: .*)?$`)

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
			switch {
			case tc.CodeInterpreter != nil:
				r, i := t.stepRow(d.ID, ev.RunID, idx, rowCode)
				r.code += tc.CodeInterpreter.Input
				for _, o := range tc.CodeInterpreter.Outputs {
					r.logs += o.Logs
					if o.Image != nil {
						r.images = append(r.images, o.Image.FileID)
					}
				}
				changed = append(changed, i)
			case tc.Function != nil:
				r, i := t.stepRow(d.ID, ev.RunID, idx, rowFunction)
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
	case *app.Run:
		changed = t.settleRun(d)
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
