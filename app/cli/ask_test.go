package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"plotline/app"
	"plotline/app/modeltest"
)

// askEnv points plotline ask at a scripted model and a fresh data folder.
func askEnv(t *testing.T, turns ...modeltest.Turn) (*modeltest.Server, string) {
	srv := modeltest.NewServer(t, turns...)
	data := t.TempDir()
	for _, k := range []string{"AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT", "OPENAI_API_VERSION", "PLOTLINE_NO_TOOLS", "PLOTLINE_RUNTIME"} {
		t.Setenv(k, "")
	}
	t.Setenv("OPENAI_BASE_URL", srv.BaseURL())
	t.Setenv("OPENAI_API_KEY", "sk-test")
	t.Setenv("PLOTLINE_MODEL", "test-model")
	t.Setenv("PLOTLINE_DATA", data)
	return srv, data
}

func code(c string) modeltest.Turn {
	args, _ := json.Marshal(map[string]string{"code": c})
	return modeltest.Turn{ToolCalls: []modeltest.ToolCall{{Name: "python", Arguments: string(args)}}}
}

func TestAskPlotsRevenueByMonth(t *testing.T) {
	_, _ = askEnv(t,
		code(`import pandas as pd
df = pd.read_csv("sales.csv")
ax = df.plot(x="month", y="revenue", title="Revenue by month")
df.to_csv("revenue.csv", index=False)
print(df.revenue.sum())`),
		modeltest.Turn{Text: "Total revenue is 60. The table: sandbox:/mnt/data/revenue.csv"},
	)
	dir := t.TempDir()
	csv := write(t, dir, "sales.csv", "month,revenue\n1,10\n2,20\n3,30\n")
	out := filepath.Join(dir, "charts")
	code, stdout, stderr := run(t, "", "ask", "--file", csv, "--out", out, "--json", "Plot revenue by month")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res askJSON
	dec := json.NewDecoder(strings.NewReader(stdout))
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, stdout)
	}
	if dec.More() {
		t.Fatalf("more than one JSON value on stdout: %s", stdout)
	}
	if res.Run == nil || res.Run.Status != app.RunCompleted || !strings.HasPrefix(res.ThreadID, "thread_") {
		t.Fatalf("run = %+v", res.Run)
	}
	if len(res.Messages) != 1 || res.Messages[0].Role != "assistant" || len(res.Steps) != 2 {
		t.Fatalf("messages %d, steps %d", len(res.Messages), len(res.Steps))
	}
	var png, table bool
	for _, f := range res.Files {
		b, err := os.ReadFile(f.Path)
		if err != nil || filepath.Dir(f.Path) != out {
			t.Fatalf("file %+v: %v", f, err)
		}
		png = png || bytes.HasPrefix(b, []byte("\x89PNG"))
		table = table || (f.Filename == "/mnt/data/revenue.csv" && string(b) == "month,revenue\n1,10\n2,20\n3,30\n")
	}
	if !png || !table {
		t.Fatalf("files = %+v (chart %v, table %v)", res.Files, png, table)
	}
}

// With the Starlark runtime, the model gets a starlark tool and the
// built-ins' page instead of python; a Python import gets an error it can
// act on, and the next call reads the file and draws the chart.
func TestAskStarlarkChartsRevenue(t *testing.T) {
	starlarkCall := func(c string) modeltest.Turn {
		args, _ := json.Marshal(map[string]string{"code": c})
		return modeltest.Turn{ToolCalls: []modeltest.ToolCall{{Name: "starlark", Arguments: string(args)}}}
	}
	srv, _ := askEnv(t,
		starlarkCall("import pandas as pd"),
		starlarkCall(`t = table.read("/mnt/data/sales.csv")
by = t.group_by("region", revenue="sum")
print(by)
by.to_csv("by_region.csv")
chart.bar(by, x="region", y="revenue", title="Revenue by region")`),
		modeltest.Turn{Text: "North sold the most. The table: sandbox:/mnt/data/by_region.csv"},
	)
	t.Setenv("PLOTLINE_RUNTIME", "starlark")
	dir := t.TempDir()
	csv := write(t, dir, "sales.csv", "region,revenue\nNorth,10\nSouth,5\nNorth,20\n")
	out := filepath.Join(dir, "out")
	code, stdout, stderr := run(t, "", "ask", "--file", csv, "--out", out, "--json", "Chart revenue by region")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res askJSON
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("stdout: %v\n%s", err, stdout)
	}
	if res.Run == nil || res.Run.Status != app.RunCompleted || len(res.Steps) != 3 {
		t.Fatalf("run %+v, %d steps", res.Run, len(res.Steps))
	}
	var png, table bool
	for _, f := range res.Files {
		b, err := os.ReadFile(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		png = png || bytes.HasPrefix(b, []byte("\x89PNG"))
		table = table || f.Filename == "/mnt/data/by_region.csv" && string(b) == "region,revenue\nNorth,30\nSouth,5\n"
	}
	if !png || !table {
		t.Fatalf("files %+v (chart %v, table %v)", res.Files, png, table)
	}
	reqs := srv.Requests()
	first := reqs[0]
	var tools []string
	for _, tool := range first.Tools {
		tools = append(tools, tool.Name)
	}
	if strings.Join(tools, ",") != "starlark" {
		t.Errorf("tools %v", tools)
	}
	if sys := first.Messages[0].Content; !strings.Contains(sys, "Starlark") || !strings.Contains(sys, "table.read(name, sheet=None)") || strings.Contains(sys, "pandas and matplotlib.") {
		t.Errorf("system prompt:\n%s", sys)
	}
	last := reqs[1].Messages[len(reqs[1].Messages)-1]
	if last.Role != "tool" || !strings.Contains(last.Content, "Starlark has no import") {
		t.Errorf("the import's error: %+v", last)
	}
	last = reqs[2].Messages[len(reqs[2].Messages)-1]
	if !strings.Contains(last.Content, "North") || !strings.Contains(last.Content, "30") || !strings.Contains(last.Content, "image") {
		t.Errorf("the chart's output: %+v", last)
	}
}

func TestAskStreamsTextAndContinuesAThread(t *testing.T) {
	srv, _ := askEnv(t,
		modeltest.Turn{Text: "Hello there."},
		modeltest.Turn{Text: "Still here."},
	)
	code, stdout, stderr := run(t, "", "ask", "Hi")
	if code != 0 || stdout != "Hello there.\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	i := strings.Index(stderr, "--thread thread_")
	if i < 0 {
		t.Fatalf("stderr does not say how to continue: %q", stderr)
	}
	id := strings.Fields(stderr[i+len("--thread "):])[0]
	id = strings.TrimSuffix(id, "]")
	code, stdout, _ = run(t, "", "ask", "--thread", id, "Are you there?")
	if code != 0 || stdout != "Still here.\n" {
		t.Fatalf("continued: exit %d, stdout %q", code, stdout)
	}
	last := srv.Requests()[1]
	var users []string
	for _, m := range last.Messages {
		if m.Role == "user" {
			users = append(users, m.Content)
		}
	}
	if len(users) != 2 || users[0] != "Hi" || users[1] != "Are you there?" {
		t.Fatalf("the second run did not see the thread: %q", users)
	}
}

func TestAskFailedRunExitsNonZero(t *testing.T) {
	askEnv(t, modeltest.Turn{Status: 400, ErrorMessage: "Unknown model.", ErrorCode: "model_not_found"})
	code, _, stderr := run(t, "", "ask", "--json", "Hi")
	if code != 1 || !strings.Contains(stderr, "invalid_prompt") || !strings.Contains(stderr, "Unknown model.") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

func TestAskBadInput(t *testing.T) {
	askEnv(t)
	for name, args := range map[string][]string{
		"no prompt":       {"ask"},
		"missing file":    {"ask", "--file", "/nonexistent/x.csv", "Hi"},
		"bad tool choice": {"ask", "--tool-choice", "sometimes", "Hi"},
	} {
		t.Run(name, func(t *testing.T) {
			if code, stdout, _ := run(t, "", args...); code != 2 || stdout != "" {
				t.Fatalf("exit %d, stdout %q", code, stdout)
			}
		})
	}
}

func TestAskWithoutModelConfigurationSaysWhatToSet(t *testing.T) {
	for _, k := range []string{"OPENAI_API_KEY", "OPENAI_BASE_URL", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT"} {
		t.Setenv(k, "")
	}
	t.Setenv("PLOTLINE_DATA", t.TempDir())
	code, _, stderr := run(t, "", "ask", "Hi")
	if code != 2 || !strings.Contains(stderr, "OPENAI_API_KEY") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}

// A model without tools writes Starlark in fenced blocks, which run, and
// is told their output.
func TestAskStarlarkFencedBlocks(t *testing.T) {
	first := "Let me count.\n```starlark\nprint(len(table.read(\"sales.csv\")))\n```\n"
	srv, _ := askEnv(t, modeltest.Turn{Text: first}, modeltest.Turn{Text: "There are 3 rows."})
	t.Setenv("PLOTLINE_RUNTIME", "starlark")
	t.Setenv("PLOTLINE_NO_TOOLS", "1")
	csv := write(t, t.TempDir(), "sales.csv", "region,revenue\nNorth,10\nSouth,5\nNorth,20\n")
	code, stdout, stderr := run(t, "", "ask", "--file", csv, "How many rows?")
	if code != 0 || !strings.Contains(stdout, "There are 3 rows.") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	reqs := srv.Requests()
	if sys := reqs[0].Messages[0].Content; !strings.Contains(sys, "write the Starlark you want to run in a fenced block (```starlark") {
		t.Errorf("system prompt:\n%s", sys)
	}
	if last := reqs[1].Messages[len(reqs[1].Messages)-1]; last.Role != "user" || last.Content != "Output of starlark block 1:\n3" {
		t.Errorf("the block's output: %+v", last)
	}
}
