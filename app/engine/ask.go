package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"plotline/app"
)

// DefaultModel is the model runs use when nothing else names one.
const DefaultModel = "gpt-4o"

// defaultAssistantKey marks, in its metadata, the assistant that Ask uses
// when given none, so that it is made once per data folder.
const defaultAssistantKey = "plotline_default"

// IsDefaultAssistant reports whether a is the data-analyst assistant that
// Ask uses when given none.
func IsDefaultAssistant(a *app.Assistant) bool {
	return a != nil && a.Metadata[defaultAssistantKey] == "data-analyst"
}

// DefaultAssistant returns the data-analyst assistant, making it the first
// time.
func (e *Engine) DefaultAssistant(ctx context.Context) (*app.Assistant, error) {
	e.defaultMu.Lock()
	defer e.defaultMu.Unlock()
	all, err := e.AllAssistants(ctx)
	if err != nil {
		return nil, err
	}
	for i := range all {
		if IsDefaultAssistant(&all[i]) {
			return &all[i], nil
		}
	}
	name, instr := "Data analyst", e.cfg.Prompts.Analyst
	return e.CreateAssistant(ctx, app.AssistantParams{Name: &name, Instructions: &instr,
		Tools:    &[]app.Tool{{Type: app.ToolCodeInterpreter}},
		Metadata: &app.Metadata{defaultAssistantKey: "data-analyst"}})
}

// AskFile is a local file to attach to a question.
type AskFile struct {
	Name string // the file's base name, as /mnt/data shows it
	Data io.Reader
}

// AskParams are a question for an assistant.
type AskParams struct {
	// ThreadID is the thread to continue; "" starts a new one, titled
	// after the question.
	ThreadID string
	// AssistantID is the assistant to ask; "" for the default assistant.
	AssistantID string
	Text        string
	// Files are stored and attached to the question for code_interpreter.
	Files []AskFile
	// Run overrides the run's settings (instructions, model, tool choice,
	// stream); its AssistantID and AdditionalMessages are set by Ask.
	Run app.RunParams
}

// Ask asks a question: it stores the attached files, adds the question to
// the thread (making the thread if needed) and starts a run, the question
// and the run in one step, so that a refused run leaves no unanswered
// question behind. The thread remembers the assistant in its metadata
// ("assistant_id"). With p.Run.Stream the subscription delivers the run's
// events; the caller must Close it.
func (e *Engine) Ask(ctx context.Context, p AskParams) (*app.Thread, *app.Run, *app.Subscription, error) {
	if strings.TrimSpace(p.Text) == "" && len(p.Files) == 0 {
		return nil, nil, nil, invalid("content", "The question is empty.")
	}
	text := p.Text
	if strings.TrimSpace(text) == "" {
		text = "(see the attached files)"
	}
	var a *app.Assistant
	var err error
	if p.AssistantID == "" {
		a, err = e.DefaultAssistant(ctx)
	} else {
		a, err = e.GetAssistant(ctx, p.AssistantID)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	var t *app.Thread
	if p.ThreadID != "" {
		if t, err = e.GetThread(ctx, p.ThreadID); err != nil {
			return nil, nil, nil, err
		}
	}
	var stored []string
	forget := func() {
		for _, id := range stored {
			e.DeleteFile(context.WithoutCancel(ctx), id)
		}
	}
	var atts []app.Attachment
	for _, f := range p.Files {
		file, err := e.CreateFile(ctx, f.Name, app.PurposeAssistants, f.Data)
		if err != nil {
			forget()
			return nil, nil, nil, err
		}
		stored = append(stored, file.ID)
		atts = append(atts, app.Attachment{FileID: file.ID, Tools: []app.Tool{{Type: app.ToolCodeInterpreter}}})
	}
	content, _ := json.Marshal(text)
	msg := app.MessageParams{Role: "user", Content: content, Attachments: atts}
	rp := p.Run
	rp.AssistantID = a.ID
	var run *app.Run
	var sub *app.Subscription
	if t == nil {
		md := app.Metadata{"title": e.uniqueTitle(ctx, Title(text)), "assistant_id": a.ID}
		var recs []app.Record
		t, recs, err = e.newThread(ctx, app.ThreadParams{Messages: []app.MessageParams{msg}, Metadata: &md})
		if err == nil {
			run, sub, err = e.startRun(ctx, t, rp, recs)
		}
	} else {
		rp.AdditionalMessages = []app.MessageParams{msg}
		run, sub, err = e.startRun(ctx, t, rp, nil)
		if err == nil && t.Metadata["assistant_id"] != a.ID {
			md := app.Metadata{}
			for k, v := range t.Metadata {
				md[k] = v
			}
			md["assistant_id"] = a.ID
			t, err = e.UpdateThread(ctx, t.ID, app.ThreadParams{Metadata: &md})
		}
	}
	if run == nil {
		forget()
		return nil, nil, nil, err
	}
	return t, run, sub, err
}

// titleLength is about as much of a title as the thread list shows.
const titleLength = 48

// Title makes a thread's title from its first question: its first line,
// cut at a word before titleLength characters.
func Title(question string) string {
	line := question
	for _, l := range strings.Split(question, "\n") {
		if strings.TrimSpace(l) != "" {
			line = l
			break
		}
	}
	t := strings.Join(strings.Fields(line), " ")
	r := []rune(t)
	if len(r) <= titleLength {
		if t == "" {
			return "New thread"
		}
		return t
	}
	cut := string(r[:titleLength-1])
	if i := strings.LastIndexByte(cut, ' '); i > titleLength/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,;:-–—") + "…"
}

// uniqueTitle is title, or title with a number when another thread has it.
func (e *Engine) uniqueTitle(ctx context.Context, title string) string {
	threads, err := e.AllThreads(ctx)
	if err != nil {
		return title
	}
	taken := map[string]bool{}
	for _, t := range threads {
		taken[t.Metadata["title"]] = true
	}
	if !taken[title] {
		return title
	}
	for n := 2; ; n++ {
		if s := fmt.Sprintf("%s (%d)", title, n); !taken[s] {
			return s
		}
	}
}
