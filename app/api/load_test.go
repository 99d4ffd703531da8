//lint:file-ignore SA1019 Plotline serves the Assistants API, which openai-go marks deprecated, on purpose.

package api_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"

	"plotline/app/modeltest"
)

// Load: many clients at once against one server. Nothing may fail, be
// lost or be duplicated, answers must not cross threads, and lists paged
// while others write must never repeat or skip what was there.

const (
	loadClients = 32
	loadRuns    = 4 // runs per client
)

// echoTurn answers with the last user message, so that each answer shows
// which thread the model was sent.
func echoTurn() modeltest.Turn {
	return modeltest.Turn{Respond: func(req modeltest.Request) modeltest.Turn {
		last := ""
		for _, m := range req.Messages {
			if m.Role == "user" {
				last = m.Content
			}
		}
		return modeltest.Turn{Text: "echo: " + last, ChunkSize: 8}
	}}
}

// loadResult is what one client made.
type loadResult struct {
	assistants []string
	file       string
	thread     string
	messages   []string // every message of the thread, in creation order
	runs       []string
}

func TestConcurrentClients(t *testing.T) {
	turns := make([]modeltest.Turn, loadClients*loadRuns)
	for i := range turns {
		turns[i] = echoTurn()
	}
	r := newRig(t, nil, nil, turns...)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	setup := r.client()
	shared := newAssistant(t, setup)

	// A reader pages through the assistants while the clients add more:
	// each pass must hold every assistant that existed when it began,
	// once, in creation order.
	stopReader := make(chan struct{})
	readerErr := make(chan error, 1)
	go func() { readerErr <- pageWhileWriting(ctx, r.client(), stopReader) }()

	results := make([]loadResult, loadClients)
	errs := make(chan error, loadClients)
	var wg sync.WaitGroup
	for i := 0; i < loadClients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			res, err := loadClient(ctx, r.client(), shared.ID, i)
			if err != nil {
				errs <- fmt.Errorf("client %d: %s", i, describe(err))
			}
			results[i] = res
		}(i)
	}
	wg.Wait()
	close(stopReader)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := <-readerErr; err != nil {
		t.Error(err)
	}
	if t.Failed() {
		return
	}

	// Every object made is listed exactly once, and nothing else is.
	c := r.client()
	wantAsst := map[string]bool{shared.ID: true}
	wantFiles := map[string]bool{}
	for _, res := range results {
		for _, id := range res.assistants {
			wantAsst[id] = true
		}
		wantFiles[res.file] = true
	}
	var gotAsst []string
	ai := c.Beta.Assistants.ListAutoPaging(ctx, openai.BetaAssistantListParams{Limit: openai.Int(7)})
	for ai.Next() {
		gotAsst = append(gotAsst, ai.Current().ID)
	}
	if ai.Err() != nil {
		t.Fatal(ai.Err())
	}
	exactlyOnce(t, "assistants", gotAsst, wantAsst)
	var gotFiles []string
	fi := c.Files.ListAutoPaging(ctx, openai.FileListParams{Limit: openai.Int(5), Purpose: openai.String("assistants")})
	for fi.Next() {
		gotFiles = append(gotFiles, fi.Current().ID)
	}
	if fi.Err() != nil {
		t.Fatal(fi.Err())
	}
	exactlyOnce(t, "files", gotFiles, wantFiles)

	for i, res := range results {
		// Messages, paged both ways, are the thread's in creation order.
		want := map[string]bool{}
		for _, id := range res.messages {
			want[id] = true
		}
		var asc []string
		mi := c.Beta.Threads.Messages.ListAutoPaging(ctx, res.thread, openai.BetaThreadMessageListParams{Limit: openai.Int(3), Order: openai.BetaThreadMessageListParamsOrderAsc})
		for mi.Next() {
			asc = append(asc, mi.Current().ID)
		}
		if mi.Err() != nil {
			t.Fatal(mi.Err())
		}
		exactlyOnce(t, fmt.Sprintf("client %d messages", i), asc, want)
		if strings.Join(asc, ",") != strings.Join(res.messages, ",") {
			t.Errorf("client %d: messages listed as %v, made as %v", i, asc, res.messages)
		}
		var desc []string
		mi = c.Beta.Threads.Messages.ListAutoPaging(ctx, res.thread, openai.BetaThreadMessageListParams{Limit: openai.Int(4)})
		for mi.Next() {
			desc = append(desc, mi.Current().ID)
		}
		if strings.Join(desc, ",") != strings.Join(reversed(res.messages), ",") {
			t.Errorf("client %d: newest-first messages %v", i, desc)
		}
		runs, err := c.Beta.Threads.Runs.List(ctx, res.thread, openai.BetaThreadRunListParams{Order: openai.BetaThreadRunListParamsOrderAsc})
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(runs.Data, func(r openai.Run) string { return r.ID }); strings.Join(got, ",") != strings.Join(res.runs, ",") {
			t.Errorf("client %d: runs %v, made %v", i, got, res.runs)
		}
	}
	if n := len(r.model.Requests()); n != loadClients*loadRuns {
		t.Errorf("model requests = %d, want %d", n, loadClients*loadRuns)
	}
}

// loadClient is one client's work: two assistants, a file, a thread, and
// loadRuns rounds of a message and a run (streamed every other round),
// each answer checked to be its own thread's.
func loadClient(ctx context.Context, c openai.Client, asstID string, i int) (loadResult, error) {
	var res loadResult
	for k := 0; k < 2; k++ {
		a, err := c.Beta.Assistants.New(ctx, openai.BetaAssistantNewParams{Model: "test-model", Name: openai.String(fmt.Sprintf("client %d/%d", i, k))})
		if err != nil {
			return res, err
		}
		res.assistants = append(res.assistants, a.ID)
	}
	f, err := c.Files.New(ctx, openai.FileNewParams{File: openai.File(strings.NewReader(fmt.Sprintf("client\n%d\n", i)), fmt.Sprintf("c%d.csv", i), "text/csv"),
		Purpose: openai.FilePurposeAssistants})
	if err != nil {
		return res, err
	}
	res.file = f.ID
	th, err := c.Beta.Threads.New(ctx, openai.BetaThreadNewParams{Messages: []openai.BetaThreadNewParamsMessage{{Role: "user",
		Content: openai.BetaThreadNewParamsMessageContentUnion{OfString: openai.String(fmt.Sprintf("hello from %d", i))}}}})
	if err != nil {
		return res, err
	}
	res.thread = th.ID
	first, err := c.Beta.Threads.Messages.List(ctx, th.ID, openai.BetaThreadMessageListParams{})
	if err != nil || len(first.Data) != 1 {
		return res, fmt.Errorf("first message: %v %d", err, len(first.Data))
	}
	res.messages = append(res.messages, first.Data[0].ID)
	for k := 0; k < loadRuns; k++ {
		token := fmt.Sprintf("client %d round %d", i, k)
		m, err := c.Beta.Threads.Messages.New(ctx, th.ID, openai.BetaThreadMessageNewParams{Role: "user",
			Content: openai.BetaThreadMessageNewParamsContentUnion{OfString: openai.String(token)}})
		if err != nil {
			return res, err
		}
		res.messages = append(res.messages, m.ID)
		var runID string
		if k%2 == 1 {
			s := c.Beta.Threads.Runs.NewStreaming(ctx, th.ID, openai.BetaThreadRunNewParams{AssistantID: asstID})
			var text, last string
			for s.Next() {
				ev := s.Current()
				last = ev.Event
				switch v := ev.AsAny().(type) {
				case openai.AssistantStreamEventThreadRunCreated:
					runID = v.Data.ID
				case openai.AssistantStreamEventThreadMessageDelta:
					for _, p := range v.Data.Delta.Content {
						text += p.Text.Value
					}
				}
			}
			s.Close()
			if s.Err() != nil || last != "thread.run.completed" || text != "echo: "+token {
				return res, fmt.Errorf("round %d stream: err %v, last event %s, text %q", k, s.Err(), last, text)
			}
		} else {
			run, err := c.Beta.Threads.Runs.New(ctx, th.ID, openai.BetaThreadRunNewParams{AssistantID: asstID})
			if err != nil {
				return res, err
			}
			runID = run.ID
			for run.Status == openai.RunStatusQueued || run.Status == openai.RunStatusInProgress {
				time.Sleep(10 * time.Millisecond)
				if run, err = c.Beta.Threads.Runs.Get(ctx, th.ID, run.ID); err != nil {
					return res, err
				}
			}
			if run.Status != openai.RunStatusCompleted {
				return res, fmt.Errorf("round %d: run %s %+v", k, run.Status, run.LastError)
			}
		}
		res.runs = append(res.runs, runID)
		answer, err := c.Beta.Threads.Messages.List(ctx, th.ID, openai.BetaThreadMessageListParams{RunID: openai.String(runID)})
		if err != nil || len(answer.Data) != 1 || answer.Data[0].Content[0].Text.Value != "echo: "+token {
			return res, fmt.Errorf("round %d answer: %v %+v", k, err, answer)
		}
		res.messages = append(res.messages, answer.Data[0].ID)
	}
	return res, nil
}

// pageWhileWriting pages through the assistants, oldest first, until stop
// closes: each pass must list once every assistant that a full listing
// taken just before it held. (Order is insertion order; created_at, in
// seconds and taken before the insert, may step back by a second between
// two concurrent creations, so it is not checked.)
func pageWhileWriting(ctx context.Context, c openai.Client, stop chan struct{}) error {
	for passes := 0; ; passes++ {
		select {
		case <-stop:
			if passes == 0 {
				return fmt.Errorf("the reader made no pass")
			}
			return nil
		default:
		}
		before := map[string]bool{}
		bi := c.Beta.Assistants.ListAutoPaging(ctx, openai.BetaAssistantListParams{Limit: openai.Int(100)})
		for bi.Next() {
			before[bi.Current().ID] = true
		}
		if bi.Err() != nil {
			return bi.Err()
		}
		seen := map[string]bool{}
		pi := c.Beta.Assistants.ListAutoPaging(ctx, openai.BetaAssistantListParams{Limit: openai.Int(5), Order: openai.BetaAssistantListParamsOrderAsc})
		for pi.Next() {
			a := pi.Current()
			if seen[a.ID] {
				return fmt.Errorf("pass %d: %s listed twice", passes, a.ID)
			}
			seen[a.ID] = true
		}
		if pi.Err() != nil {
			return pi.Err()
		}
		for id := range before {
			if !seen[id] {
				return fmt.Errorf("pass %d skipped %s", passes, id)
			}
		}
	}
}

// describe adds what the server said to an SDK error.
func describe(err error) string {
	var e *openai.Error
	if asAPIError(err, &e) {
		return fmt.Sprintf("%s %s: %d %s", e.Request.Method, e.Request.URL.Path, e.StatusCode, e.RawJSON())
	}
	return err.Error()
}

func exactlyOnce(t *testing.T, what string, got []string, want map[string]bool) {
	t.Helper()
	seen := map[string]int{}
	for _, id := range got {
		seen[id]++
		if !want[id] {
			t.Errorf("%s: %s listed but not made", what, id)
		}
		if seen[id] == 2 {
			t.Errorf("%s: %s listed twice", what, id)
		}
	}
	for id := range want {
		if seen[id] == 0 {
			t.Errorf("%s: %s made but not listed", what, id)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%s: %d listed, %d made", what, len(got), len(want))
	}
}
