package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"plotline/app"
)

// Config wires an Engine.
type Config struct {
	Store       app.Store
	Model       app.Model
	Interpreter app.Interpreter
	// DefaultModel is used when neither the run nor the assistant names one.
	DefaultModel string
	// MaxSteps bounds the model turns of one run.
	MaxSteps int
	// ActionTimeout is how long a run waits for tool outputs (10 minutes).
	ActionTimeout time.Duration
	// MaxFileSize caps uploads and stored outputs (512 MB).
	MaxFileSize int64
	// NoTools runs models that cannot call tools: the fenced python blocks
	// of their answers are run instead.
	NoTools bool
	// ToolsUnsupported tells whether a model error means the model cannot
	// call tools; the run then switches to the NoTools way.
	ToolsUnsupported func(error) bool
	// Functions keeps the handlers of local function tools; nil when
	// there are none.
	Functions LocalFunctions
	// RunLocalFunctions runs a function call whose function has a local
	// handler (in Functions) within the run, instead of leaving it to the
	// client with requires_action. Calls of the turn without a handler
	// still go to requires_action.
	RunLocalFunctions bool
	// Clock tells the time and waits; tests may replace it with a fake.
	Clock Clock
	// Prompts is the text told to the model (from assets).
	Prompts Prompts
	// Code is the tool through which the model runs code in the
	// Interpreter: app.PythonCode when unset. Prompts.Code, Fenced and
	// FreshKernel must speak of its language.
	Code app.CodeTool
}

// CodeTool is the tool through which the model runs code.
func (e *Engine) CodeTool() app.CodeTool { return e.cfg.Code }

// Prompts is the text the engine tells the model. The composition root
// gives it from the assets package, where it is kept as text files.
type Prompts struct {
	Code        string // what the code tool is and where it runs
	Fenced      string // for models without tools: write fenced code blocks
	FreshKernel string // the thread's earlier variables are gone
	Analyst     string // the default assistant's instructions
}

// Engine runs assistants on threads. Its methods are what the window, the
// local API and the command line call; its Bus is what they watch.
type Engine struct {
	cfg Config
	Bus *app.Bus

	mu       sync.Mutex
	active   map[string]*activeRun  // by thread id
	sessions map[string]app.Session // by thread id
	spaces   map[string]*workspace  // by thread id
	convs    map[string]*convCache  // by thread id
	saving   map[string]int         // thread id: message saves under way (lockedSave)
	saved    *sync.Cond             // on mu: a lockedSave ended
	closed   bool
	fenced   *regexp.Regexp // a fenced block of code in the code tool's language

	defaultMu sync.Mutex // makes the default assistant once
}

// New makes an engine. Call Recover before serving.
func New(cfg Config) (*Engine, error) {
	if cfg.Store == nil || cfg.Model == nil || cfg.Interpreter == nil {
		return nil, errors.New("app: an engine needs a store, a model and an interpreter")
	}
	p := &cfg.Prompts
	for _, t := range []*string{&p.Code, &p.Fenced, &p.FreshKernel, &p.Analyst} {
		if *t = strings.TrimSpace(*t); *t == "" {
			return nil, errors.New("app: an engine needs the text it tells the model (engine.Prompts)")
		}
	}
	cfg.Code = cfg.Code.Or()
	if len(cfg.Code.Fences) == 0 || cfg.Code.Language == "" {
		return nil, errors.New("app: the engine's code tool needs a language and fences")
	}
	if cfg.MaxSteps <= 0 {
		cfg.MaxSteps = 24
	}
	if cfg.ActionTimeout <= 0 {
		cfg.ActionTimeout = 10 * time.Minute
	}
	if cfg.MaxFileSize <= 0 {
		cfg.MaxFileSize = 512 << 20
	}
	if cfg.Clock == nil {
		cfg.Clock = realClock{}
	}
	if cfg.ToolsUnsupported == nil {
		cfg.ToolsUnsupported = func(error) bool { return false }
	}
	e := &Engine{cfg: cfg, Bus: &app.Bus{}, active: map[string]*activeRun{}, sessions: map[string]app.Session{},
		convs: map[string]*convCache{}, saving: map[string]int{}, fenced: fencedRE(cfg.Code.Fences)}
	e.saved = sync.NewCond(&e.mu)
	return e, nil
}

func (e *Engine) now() int64 { return e.cfg.Clock.Now().Unix() }

// Clock is the engine's time: when objects are made, and when a run
// waiting for tool outputs expires.
type Clock interface {
	Now() time.Time
	// After delivers the time once d has passed.
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Recover marks the runs that were active when the app last stopped as
// failed, with their unfinished steps and messages. Their files are kept.
func (e *Engine) Recover(ctx context.Context) error {
	for _, status := range []string{app.RunQueued, app.RunInProgress, app.RunRequiresAction, app.RunCancelling} {
		for {
			recs, _, err := e.cfg.Store.List(ctx, app.Query{Kind: app.KindRun, Tag: status, ListOptions: app.ListOptions{Limit: 100, Order: "asc"}})
			if err != nil {
				return err
			}
			if len(recs) == 0 {
				break
			}
			for _, rec := range recs {
				var run app.Run
				if err := json.Unmarshal(rec.Data, &run); err != nil {
					return fmt.Errorf("app: run %s: %w", rec.ID, err)
				}
				if err := e.failInterrupted(ctx, &run); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (e *Engine) failInterrupted(ctx context.Context, run *app.Run) error {
	now := e.now()
	recs := []app.Record{}
	steps, err := listAll[app.RunStep](ctx, e.cfg.Store, app.Query{Kind: app.KindRunStep, Tag: run.ID}, "asc")
	if err != nil {
		return err
	}
	for _, st := range steps {
		if st.Status == app.StepInProgress {
			st.Status, st.FailedAt = app.StepFailed, &now
			st.LastError = &app.LastError{Code: app.ErrCodeServer, Message: "Plotline stopped during this step."}
			recs = append(recs, stepRecord(&st))
		}
	}
	msgs, err := listAll[app.Message](ctx, e.cfg.Store, app.Query{Kind: app.KindMessage, Tag: run.ID}, "asc")
	if err != nil {
		return err
	}
	for _, m := range msgs {
		if m.Status == app.MessageInProgress {
			m.Status, m.IncompleteAt = app.MessageIncomplete, &now
			m.IncompleteDetails = &app.IncompleteDetails{Reason: "run_failed"}
			recs = append(recs, messageRecord(&m))
		}
	}
	run.Status, run.FailedAt, run.RequiredAction, run.ExpiresAt = app.RunFailed, &now, nil, nil
	run.LastError = &app.LastError{Code: app.ErrCodeServer, Message: "Plotline stopped while this run was in progress; its files are kept. Start a new run to continue."}
	recs = append(recs, runRecord(run))
	return e.cfg.Store.Save(ctx, recs...)
}

// Close cancels active runs, waits for them to stop and ends the
// sessions. The store and interpreter are the caller's to close.
func (e *Engine) Close() {
	e.mu.Lock()
	e.closed = true
	runs := make([]*activeRun, 0, len(e.active))
	for _, ar := range e.active {
		runs = append(runs, ar)
	}
	e.mu.Unlock()
	for _, ar := range runs {
		ar.stop(stopShutdown)
		<-ar.done
	}
	e.mu.Lock()
	for id, s := range e.sessions {
		s.Close()
		delete(e.sessions, id)
	}
	e.mu.Unlock()
}

// session returns the thread's interpreter session, starting one (with its
// thread's work folder) when it has none or its last one ended.
func (e *Engine) session(ctx context.Context, threadID string, fresh bool) (app.Session, error) {
	e.mu.Lock()
	old := e.sessions[threadID]
	e.mu.Unlock()
	if old != nil && !fresh {
		return old, nil
	}
	if old != nil {
		old.Close()
	}
	// The kernel may take a moment to start: not under the engine's lock,
	// which every thread's calls share.
	s, err := e.cfg.Interpreter.Open(ctx, threadID)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if cur := e.sessions[threadID]; cur != nil && cur != old {
		s.Close() // another call of this thread's got there first
		return cur, nil
	}
	e.sessions[threadID] = s
	return s, nil
}

// endSession closes a thread's session and removes its work folder.
func (e *Engine) endSession(threadID string) {
	e.mu.Lock()
	s := e.sessions[threadID]
	delete(e.sessions, threadID)
	delete(e.spaces, threadID)
	delete(e.convs, threadID)
	e.mu.Unlock()
	if s != nil {
		s.Close()
	}
	e.cfg.Interpreter.RemoveFolder(threadID)
}

// --- storage helpers ---

func load[T any](ctx context.Context, st app.Store, kind, id string) (*T, error) {
	if id == "" {
		return nil, &app.NotFoundError{Kind: kind}
	}
	rec, err := st.Get(ctx, kind, id)
	if err != nil {
		return nil, err
	}
	var v T
	if err := json.Unmarshal(rec.Data, &v); err != nil {
		return nil, fmt.Errorf("app: stored %s %s: %w", kind, id, err)
	}
	return &v, nil
}

// listPage returns one page of q, with the API's checks of limit (1 to
// maxLimit, default 20) and order (asc or desc, default desc).
func listPage[T any](ctx context.Context, st app.Store, q app.Query, maxLimit int) (*app.List[T], error) {
	if q.Limit == 0 {
		q.Limit = 20
	}
	if q.Limit < 1 || q.Limit > maxLimit {
		return nil, invalid("limit", "limit must be between 1 and %d", maxLimit)
	}
	if q.Order == "" {
		q.Order = "desc"
	}
	if q.Order != "asc" && q.Order != "desc" {
		return nil, invalid("order", "order must be asc or desc")
	}
	recs, more, err := st.List(ctx, q)
	if errors.Is(err, app.ErrNotFound) {
		param := "after"
		if q.After == "" {
			param = "before"
		}
		return nil, invalid(param, "the cursor does not name an object of this list")
	}
	if err != nil {
		return nil, err
	}
	out := &app.List[T]{Object: "list", Data: make([]T, 0, len(recs)), HasMore: more}
	for _, r := range recs {
		var v T
		if raw, ok := any(&v).(*json.RawMessage); ok {
			*raw = r.Data // served as stored: no decoding and encoding again
		} else if err := json.Unmarshal(r.Data, &v); err != nil {
			return nil, fmt.Errorf("app: stored %s %s: %w", r.Kind, r.ID, err)
		}
		out.Data = append(out.Data, v)
	}
	if len(recs) > 0 {
		out.FirstID, out.LastID = &recs[0].ID, &recs[len(recs)-1].ID
	}
	return out, nil
}

// listAll returns every record of q in insertion order (order "asc") or
// its reverse ("desc").
func listAll[T any](ctx context.Context, st app.Store, q app.Query, order string) ([]T, error) {
	q.Order = order
	out, _, err := listWithSeqs[T](ctx, st, q)
	return out, err
}

// listWithSeqs returns every record of q, paging through the store, with
// the records' sequence numbers.
func listWithSeqs[T any](ctx context.Context, st app.Store, q app.Query) ([]T, []int64, error) {
	q.Limit = 100
	var out []T
	var seqs []int64
	for {
		recs, more, err := st.List(ctx, q)
		if err != nil {
			return nil, nil, err
		}
		for _, r := range recs {
			var v T
			if err := json.Unmarshal(r.Data, &v); err != nil {
				return nil, nil, fmt.Errorf("engine: stored %s %s: %w", r.Kind, r.ID, err)
			}
			out = append(out, v)
			seqs = append(seqs, r.Seq)
		}
		if !more || len(recs) == 0 {
			return out, seqs, nil
		}
		q.After = recs[len(recs)-1].ID
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only our own types are marshalled
	}
	return b
}

func assistantRecord(a *app.Assistant) app.Record {
	return app.Record{Kind: app.KindAssistant, ID: a.ID, CreatedAt: a.CreatedAt, Data: mustJSON(a)}
}
func threadRecord(t *app.Thread) app.Record {
	return app.Record{Kind: app.KindThread, ID: t.ID, CreatedAt: t.CreatedAt, Data: mustJSON(t)}
}
func messageRecord(m *app.Message) app.Record {
	return app.Record{Kind: app.KindMessage, ID: m.ID, Parent: m.ThreadID, Tag: deref(m.RunID), CreatedAt: m.CreatedAt, Data: mustJSON(m)}
}
func runRecord(r *app.Run) app.Record {
	return app.Record{Kind: app.KindRun, ID: r.ID, Parent: r.ThreadID, Tag: r.Status, CreatedAt: r.CreatedAt, Data: mustJSON(r)}
}
func stepRecord(s *app.RunStep) app.Record {
	return app.Record{Kind: app.KindRunStep, ID: s.ID, Parent: s.ThreadID, Tag: s.RunID, CreatedAt: s.CreatedAt, Data: mustJSON(s)}
}
func fileRecord(f *app.File, blob string) app.Record {
	return app.Record{Kind: app.KindFile, ID: f.ID, Tag: f.Purpose, Blob: blob, CreatedAt: f.CreatedAt, Data: mustJSON(f)}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// clone returns a deep copy of v through JSON, for snapshots that events
// carry while the original changes.
func clone[T any](v *T) *T {
	var c T
	json.Unmarshal(mustJSON(v), &c)
	return &c
}
