package cli

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"

	"plotline/app"
	"plotline/app/cli/wiring"
	"plotline/app/modeltest"
)

// `plotline ask` runs local functions, as the window does: an assistant
// given a function in the window, with its handler saved, answers in one
// go rather than stopping at requires_action.
func TestAskRunsLocalFunctions(t *testing.T) {
	_, data := askEnv(t,
		modeltest.Turn{ToolCalls: []modeltest.ToolCall{{ID: "call_w1", Name: "get_weather", Arguments: `{"city":"Oslo"}`}}},
		modeltest.Turn{Text: "It is 3°C in Oslo."},
	)
	t.Setenv("PLOTLINE_LOCAL_FUNCTIONS", "")
	sys, err := wiring.Open(context.Background(), wiring.Options{Data: data})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	a, err := sys.Engine.DefaultAssistant(ctx)
	if err == nil {
		tools := append(a.Tools, app.Tool{Type: app.ToolFunction, Function: &app.FunctionDef{Name: "get_weather",
			Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}}}`)}})
		_, err = sys.Engine.UpdateAssistant(ctx, a.ID, app.AssistantParams{Tools: &tools})
	}
	if err == nil {
		err = sys.Engine.SaveFunction("get_weather", weatherHandler)
	}
	sys.Close()
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := run(t, "", "ask", "--json", "--out", filepath.Join(t.TempDir(), "out"), "Weather in Oslo?")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res askJSON
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	if res.Run.Status != app.RunCompleted || len(res.Steps) != 2 {
		t.Fatalf("run %+v, steps %+v", res.Run, res.Steps)
	}
	if fn := res.Steps[0].StepDetails.ToolCalls[0].Function; fn == nil || fn.Output == nil || *fn.Output != `{"celsius":3,"city":"Oslo"}` {
		t.Fatalf("function step = %+v", res.Steps[0])
	}
}
