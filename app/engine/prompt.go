package engine

import (
	"context"
	"regexp"
	"strings"
	"sync"

	"plotline/app"
)

// convCache is a thread's transcript, read from the store once and then
// extended with what is new, and its rendering for the model. Only
// finished entries are kept: entries read while a run is active are not.
type convCache struct {
	mu      sync.Mutex
	deletes int64 // the store's Deletions when t was read
	gen     int   // counts the times t was read again from the start
	t       app.Transcript
	chat    []app.ChatMessage // t[:chatN] of generation chatGen, rendered with chatOpt
	chatN   int
	chatGen int
	chatOpt chatKey
}

// chatKey is what a rendering depends on.
type chatKey struct{ files, noTools bool }

// maxCachedThreads bounds the transcripts kept in memory.
const maxCachedThreads = 64

func (e *Engine) convOf(threadID string) *convCache {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.convs[threadID]
	if c == nil {
		if len(e.convs) >= maxCachedThreads {
			for id := range e.convs { // drop one; it is read again when needed
				delete(e.convs, id)
				break
			}
		}
		c = &convCache{}
		e.convs[threadID] = c
	}
	return c
}

// forgetTranscript drops a thread's cached transcript, after an edit or
// a delete. A read under way keeps the old cache, which nothing finds.
func (e *Engine) forgetTranscript(threadID string) {
	e.mu.Lock()
	delete(e.convs, threadID)
	e.mu.Unlock()
}

// Transcript returns a thread's conversation in its one order: what the
// model is sent, what the window shows and what the export writes.
func (e *Engine) Transcript(ctx context.Context, threadID string) (app.Transcript, error) {
	if _, err := e.GetThread(ctx, threadID); err != nil {
		return nil, err
	}
	e.mu.Lock()
	idle := e.active[threadID] == nil
	e.mu.Unlock()
	c := e.convOf(threadID)
	c.mu.Lock()
	defer c.mu.Unlock()
	return e.extend(ctx, c, threadID, idle)
}

// extend reads what is newer than the cache, and keeps it if keep. c.mu
// is held.
func (e *Engine) extend(ctx context.Context, c *convCache, threadID string, keep bool) (app.Transcript, error) {
	// A message deleted by another process (serve beside the window)
	// leaves no trace to read: the count of deletions tells.
	deletes, err := e.cfg.Store.Deletions(ctx)
	if err != nil {
		return nil, err
	}
	if deletes != c.deletes {
		c.t, c.deletes = nil, deletes
		c.gen++
	}
	since := c.t.LastSeq()
	msgs, mseq, err := listSince[app.Message](ctx, e.cfg.Store, app.KindMessage, threadID, since)
	if err != nil {
		return nil, err
	}
	steps, sseq, err := listSince[app.RunStep](ctx, e.cfg.Store, app.KindRunStep, threadID, since)
	if err != nil {
		return nil, err
	}
	t := c.t.Extend(app.NewTranscript(msgs, mseq, steps, sseq))
	if keep {
		c.t = t
	}
	return t, nil
}

// runTranscript returns the thread's transcript at the start of a run and
// its rendering for the model. The run has made nothing yet but its
// messages, which are final, so everything read is kept.
func (e *Engine) runTranscript(ctx context.Context, threadID string) (runConv, error) {
	c := e.convOf(threadID)
	c.mu.Lock()
	defer c.mu.Unlock()
	t, err := e.extend(ctx, c, threadID, true)
	return runConv{t: t, c: c, gen: c.gen}, err
}

// runConv is a run's transcript, with the cache it came from.
type runConv struct {
	t   app.Transcript
	c   *convCache
	gen int // the cache's generation t belongs to
}

// render returns the model's view of rc.t, rendering only the entries the
// cache has not rendered before for the same generation and options.
func (rc runConv) render(opt app.ChatOptions) []app.ChatMessage {
	c, t := rc.c, rc.t
	c.mu.Lock()
	defer c.mu.Unlock()
	key := chatKey{files: opt.Attached != nil, noTools: opt.NoTools}
	if key != c.chatOpt || rc.gen != c.chatGen || c.chatN > len(t) {
		// Another rendering, or a transcript read again from the start
		// (something was deleted): render it all.
		c.chat, c.chatN, c.chatOpt, c.chatGen = nil, 0, key, rc.gen
	}
	for _, en := range t[c.chatN:] {
		c.chat = append(c.chat, en.Chat(opt)...)
	}
	c.chatN = len(t)
	return c.chat[:len(c.chat):len(c.chat)]
}

// buildContext makes the model's view of the thread at the start of a
// run: the system prompt, then the transcript; and, when the thread's
// kernel is new and earlier code ran, a note saying so before the run's
// question.
func (e *Engine) buildContext(run *app.Run, rc runConv, ws *workspace, noTools bool) []app.ChatMessage {
	t := rc.t
	var sys []string
	if strings.TrimSpace(run.Instructions) != "" {
		sys = append(sys, run.Instructions)
	}
	opt := app.ChatOptions{NoTools: noTools, Code: e.cfg.Code}
	if ws != nil {
		sys = append(sys, e.cfg.Prompts.Code)
		if noTools {
			sys = append(sys, e.cfg.Prompts.Fenced)
		}
		sys = append(sys, ws.describeFiles())
		opt.Attached = ws.attachedName
	}
	body := rc.render(opt)
	conv := make([]app.ChatMessage, 0, len(body)+2)
	conv = append(conv, app.ChatMessage{Role: "system", Content: strings.Join(sys, "\n\n")})
	if ws != nil && ws.freshKernel() && t.HasCode() {
		// Before the question the run answers: the messages at the end of
		// the transcript that no run has answered yet.
		at := len(body)
		for at > 0 && body[at-1].Role == "user" {
			at--
		}
		conv = append(conv, body[:at]...)
		conv = append(conv, app.ChatMessage{Role: "system", Content: e.cfg.Prompts.FreshKernel})
		return append(conv, body[at:]...)
	}
	return append(conv, body...)
}

// listSince returns the records of kind in thread newer than seq, in
// order, with their sequence numbers.
func listSince[T any](ctx context.Context, st app.Store, kind, threadID string, seq int64) ([]T, []int64, error) {
	return listWithSeqs[T](ctx, st, app.Query{Kind: kind, Parent: threadID, SinceSeq: seq, ListOptions: app.ListOptions{Order: "asc"}})
}

// fencedRE matches a fenced block of code in one of the info strings.
func fencedRE(fences []string) *regexp.Regexp {
	quoted := make([]string, len(fences))
	for i, f := range fences {
		quoted[i] = regexp.QuoteMeta(f)
	}
	return regexp.MustCompile("(?s)```(?:" + strings.Join(quoted, "|") + ")[ \\t]*\\r?\\n(.*?)```")
}

// codeBlocks returns the code of the fenced blocks of text in the code
// tool's language.
func (e *Engine) codeBlocks(text string) []string {
	var out []string
	for _, m := range e.fenced.FindAllStringSubmatch(text, -1) {
		if code := strings.TrimSpace(m[1]); code != "" {
			out = append(out, m[1])
		}
	}
	return out
}
