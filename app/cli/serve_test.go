//lint:file-ignore SA1019 Plotline serves the Assistants API, which openai-go marks deprecated, on purpose.

package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"

	"plotline/app/modeltest"
)

// lockedBuffer is a bytes.Buffer that serve may write while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startServe runs `plotline serve args…` on a free loopback port until the
// test ends, and returns an SDK client of its API and what it printed.
func startServe(t *testing.T, args ...string) (openai.Client, *lockedBuffer) {
	t.Helper()
	t.Setenv("PLOTLINE_API_KEY", "serve-test-key")
	t.Setenv("PLOTLINE_LOCAL_FUNCTIONS", "")
	ctx, stop := context.WithCancel(context.Background())
	errs := &lockedBuffer{}
	bases := make(chan string, 1)
	ended := make(chan int, 1)
	go func() {
		ended <- serve(ctx, append([]string{"--addr", "127.0.0.1:0"}, args...), Streams{Out: errs, Err: errs},
			func(base string) { bases <- base })
	}()
	t.Cleanup(func() {
		stop()
		<-ended
	})
	select {
	case base := <-bases:
		return openai.NewClient(option.WithBaseURL(base+"/v1"), option.WithAPIKey("serve-test-key")), errs
	case code := <-ended:
		t.Fatalf("serve exited %d: %s", code, errs)
	case <-time.After(2 * time.Minute):
		t.Fatalf("serve did not listen: %s", errs)
	}
	panic("unreachable")
}

// weatherRun streams a run of an assistant with the get_weather function
// and returns its events' names and the run's last state.
func weatherRun(t *testing.T, c openai.Client) ([]string, openai.Run) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a, err := c.Beta.Assistants.New(ctx, openai.BetaAssistantNewParams{Model: "test-model",
		Tools: []openai.AssistantToolUnionParam{{OfFunction: &openai.FunctionToolParam{Function: shared.FunctionDefinitionParam{
			Name:       "get_weather",
			Parameters: shared.FunctionParameters{"type": "object", "properties": map[string]any{"city": map[string]any{"type": "string"}}},
		}}}}})
	if err != nil {
		t.Fatal(err)
	}
	th, err := c.Beta.Threads.New(ctx, openai.BetaThreadNewParams{Messages: []openai.BetaThreadNewParamsMessage{{
		Role: "user", Content: openai.BetaThreadNewParamsMessageContentUnion{OfString: openai.String("Weather in Oslo?")}}}})
	if err != nil {
		t.Fatal(err)
	}
	s := c.Beta.Threads.Runs.NewStreaming(ctx, th.ID, openai.BetaThreadRunNewParams{AssistantID: a.ID})
	defer s.Close()
	var events []string
	for s.Next() {
		events = append(events, s.Current().Event)
	}
	if err := s.Err(); err != nil {
		t.Fatalf("stream: %v after %v", err, events)
	}
	runs, err := c.Beta.Threads.Runs.List(ctx, th.ID, openai.BetaThreadRunListParams{})
	if err != nil || len(runs.Data) != 1 {
		t.Fatalf("runs: %v %+v", err, runs)
	}
	return events, runs.Data[0]
}

const weatherHandler = `package main

func Run(args map[string]any) (any, error) {
	return map[string]any{"city": args["city"], "celsius": 3}, nil
}
`

// With --local-functions, a function with a handler in the data folder
// runs in the sandbox, and the run completes without requires_action.
func TestServeLocalFunctions(t *testing.T) {
	model, data := askEnv(t,
		modeltest.Turn{ToolCalls: []modeltest.ToolCall{{ID: "call_w1", Name: "get_weather", Arguments: `{"city":"Oslo"}`}}},
		modeltest.Turn{Text: "It is 3°C in Oslo."},
	)
	write(t, mkdir(t, filepath.Join(data, "functions")), "get_weather.go", weatherHandler)
	c, errs := startServe(t, "--local-functions")
	events, run := weatherRun(t, c)
	if run.Status != openai.RunStatusCompleted || slices.Contains(events, "thread.run.requires_action") {
		t.Fatalf("run %s after %v\n%s", run.Status, events, errs)
	}
	steps, err := c.Beta.Threads.Runs.Steps.List(context.Background(), run.ThreadID, run.ID, openai.BetaThreadRunStepListParams{Order: openai.BetaThreadRunStepListParamsOrderAsc})
	if err != nil || len(steps.Data) != 2 {
		t.Fatalf("steps: %v %+v", err, steps)
	}
	fn := steps.Data[0].StepDetails.ToolCalls[0].Function
	want := `{"celsius":3,"city":"Oslo"}`
	if fn.Name != "get_weather" || fn.Arguments != `{"city":"Oslo"}` || fn.Output != want {
		t.Fatalf("function step = %s", steps.Data[0].RawJSON())
	}
	reqs := model.Requests()
	if last := reqs[len(reqs)-1].Messages; last[len(last)-1].Role != "tool" || last[len(last)-1].Content != want {
		t.Fatalf("the model was told %+v", last[len(last)-1])
	}
}

// Without the flag, serve's clients get requires_action, handler or not.
func TestServeLeavesFunctionsToClientsByDefault(t *testing.T) {
	_, data := askEnv(t,
		modeltest.Turn{ToolCalls: []modeltest.ToolCall{{ID: "call_w1", Name: "get_weather", Arguments: `{"city":"Oslo"}`}}},
	)
	write(t, mkdir(t, filepath.Join(data, "functions")), "get_weather.go", weatherHandler)
	c, _ := startServe(t)
	events, run := weatherRun(t, c)
	if run.Status != openai.RunStatusRequiresAction || events[len(events)-1] != "thread.run.requires_action" {
		t.Fatalf("run %s after %v", run.Status, events)
	}
	if calls := run.RequiredAction.SubmitToolOutputs.ToolCalls; len(calls) != 1 || calls[0].ID != "call_w1" {
		t.Fatalf("required action = %s", run.RawJSON())
	}
}

func mkdir(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}
