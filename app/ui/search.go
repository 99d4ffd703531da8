package ui

import (
	"context"
	"strings"
	"sync"

	"plotline/app"
	"plotline/app/engine"
)

// searchIndex holds each thread's message text, lower-cased, for the
// search box. It is filled and read off Fyne's goroutine, so that a
// keystroke costs the window nothing that grows with the threads stored.
type searchIndex struct {
	eng *engine.Engine
	ctx context.Context
	mu  sync.Mutex
	txt map[string]string // thread id → its messages' text
	gen map[string]int    // thread id → how often it was forgotten
}

func newSearchIndex(ctx context.Context, eng *engine.Engine) *searchIndex {
	return &searchIndex{eng: eng, ctx: ctx, txt: map[string]string{}, gen: map[string]int{}}
}

// text is a thread's messages' text, lower-cased, read from the store once
// and kept until forget.
func (s *searchIndex) text(threadID string) string {
	s.mu.Lock()
	t, ok := s.txt[threadID]
	gen := s.gen[threadID]
	s.mu.Unlock()
	if ok {
		return t
	}
	tr, err := s.eng.Transcript(s.ctx, threadID)
	if err != nil {
		return ""
	}
	var b strings.Builder
	for _, e := range tr {
		if e.Message != nil {
			b.WriteString(strings.ToLower(messageText(*e.Message)))
			b.WriteByte('\n')
		}
	}
	t = b.String()
	s.mu.Lock()
	if s.gen[threadID] == gen { // not forgotten while it was read: still whole
		s.txt[threadID] = t
	}
	s.mu.Unlock()
	return t
}

// forget drops a thread's text, to be read again when next searched.
func (s *searchIndex) forget(threadID string) {
	s.mu.Lock()
	delete(s.txt, threadID)
	s.gen[threadID]++
	s.mu.Unlock()
}

// fill reads the text of threads not yet indexed, so that the first
// search finds it ready.
func (s *searchIndex) fill(threads []app.Thread) {
	for _, t := range threads {
		if s.ctx.Err() != nil {
			return
		}
		s.text(t.ID)
	}
}

// filter returns the threads whose title or messages contain q (lower
// case, trimmed), in order, and the position of current among them (-1).
func (s *searchIndex) filter(threads []app.Thread, q, current string) ([]app.Thread, int) {
	var out []app.Thread
	pos := -1
	for _, t := range threads {
		if q == "" || strings.Contains(strings.ToLower(threadTitle(t)), q) || strings.Contains(s.text(t.ID), q) {
			if t.ID == current {
				pos = len(out)
			}
			out = append(out, t)
		}
	}
	return out, pos
}
