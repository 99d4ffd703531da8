package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"plotline/app/api"
	"plotline/app/apptest"
	"plotline/app/modeltest"
	"plotline/interpreter"
	"plotline/interpreter/sandbox"
)

// The Node SDK conformance test: conformance/node/walkthrough.mjs follows
// the Azure OpenAI Assistants code-interpreter walkthrough with the official
// `openai` npm package, once with the OpenAI client and once with the
// AzureOpenAI client, against the API on a real engine (store, sandboxed
// kernels, model adapter) whose model is scripted to answer the
// walkthrough's questions. `make test` installs the package (npm ci).

func init() {
	// The sandbox re-executes this test binary as its init process. The
	// package's TestMain does this too; doing it here as well keeps this
	// file right whatever TestMain becomes.
	sandbox.MaybeRunInit()
}

const nodeKey = "node-conformance-key"

var (
	nodePythonOnce sync.Once
	nodePython     *interpreter.Python
	nodePythonErr  error
)

func TestNodeSDKWalkthrough(t *testing.T) {
	if testing.Short() {
		t.Skip("the Node SDK walkthrough runs real kernels; skipped with -short")
	}
	dir, err := filepath.Abs(filepath.Join("..", "..", "conformance", "node"))
	if err != nil {
		t.Fatal(err)
	}
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: the Node SDK conformance test needs Node.js 18 or later")
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "openai", "package.json")); err != nil {
		t.Skipf("%s/node_modules is missing: run `npm ci` there (make test does)", dir)
	}
	nodePythonOnce.Do(func() {
		nodePython, _, nodePythonErr = interpreter.Discover(context.Background(), false)
	})
	if nodePythonErr != nil {
		t.Fatalf("the walkthrough needs Python with numpy, pandas and matplotlib: %v", nodePythonErr)
	}

	for _, client := range []string{"openai", "azure"} {
		t.Run(client, func(t *testing.T) {
			t.Parallel()
			srv := nodeServer(t)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, nodeBin, "walkthrough.mjs")
			cmd.Dir = dir
			cmd.Env = append(nodeEnv(),
				"PLOTLINE_URL="+srv.URL,
				"PLOTLINE_API_KEY="+nodeKey,
				"PLOTLINE_CLIENT="+client,
				"PLOTLINE_MODEL=gpt-4o",
			)
			if v := os.Getenv("PLOTLINE_TRACE"); v != "" {
				cmd.Env = append(cmd.Env, "PLOTLINE_TRACE="+v) // print the streamed events
			}
			cmd.WaitDelay = 10 * time.Second
			start := time.Now()
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("node walkthrough.mjs (%s client) failed: %v\n%s", client, err, out)
			}
			// A script that stopped early with status 0 would not print
			// its closing line.
			if want := fmt.Sprintf("walkthrough (%s): PASS", client); !strings.Contains(string(out), want) {
				t.Fatalf("the walkthrough exited 0 without %q:\n%s", want, out)
			}
			t.Logf("%s client: walkthrough passed in %s", client, time.Since(start).Round(100*time.Millisecond))
		})
	}
}

// nodeEnv is the environment without the variables the SDK would read in
// place of the script's settings (OPENAI_BASE_URL would even clash with
// the Azure client's endpoint).
func nodeEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "OPENAI_") || strings.HasPrefix(name, "AZURE_OPENAI_") || strings.HasPrefix(name, "PLOTLINE_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// nodeServer starts the API on its own engine and scripted model.
func nodeServer(t *testing.T) *httptest.Server {
	t.Helper()
	turns := make([]modeltest.Turn, 40) // the walkthrough makes 13 model requests per client
	for i := range turns {
		turns[i] = modeltest.Turn{Respond: walkthroughModel}
	}
	ms := modeltest.NewServer(t, turns...)
	eng, closeAll, err := apptest.Build(nodePython, t.TempDir(), ms.BaseURL(), apptest.Options{MaxRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	srv := serve(api.New(eng, api.Options{Key: nodeKey}))
	t.Cleanup(func() {
		eng.Close() // ends the runs, and with them any stream still open
		srv.Close()
		closeAll()
	})
	return srv
}

// The code the scripted model runs: the walkthrough's chart of the
// uploaded CSV (with the thread's JSON file), then its dark-mode version,
// which reuses the kernel's variables as the hosted code interpreter did.
const (
	nodeChartCode = `import json
import pandas as pd
import matplotlib.pyplot as plt

df = pd.read_csv('/mnt/data/sales.csv')
regions = json.load(open('/mnt/data/regions.json'))
print(f"total revenue: {df['revenue'].sum()}")
print(f"regions: {len(regions)}")
fig, ax = plt.subplots(figsize=(8, 4))
ax.bar(df['month'], df['revenue'], color='tab:blue')
ax.set_title('Monthly revenue')
ax.tick_params(axis='x', rotation=45)
plt.tight_layout()
plt.show()`

	nodeDarkCode = `plt.style.use('dark_background')
fig, ax = plt.subplots(figsize=(8, 4))
ax.bar(df['month'], df['revenue'], color='tab:cyan')
ax.set_title('Monthly revenue (dark mode)')
ax.tick_params(axis='x', rotation=45)
plt.tight_layout()
plt.show()`
)

var (
	nodeTotalRe    = regexp.MustCompile(`total revenue: (\d+)`)
	nodeRegionsRe  = regexp.MustCompile(`regions: (\d+)`)
	nodeCurrencyRe = regexp.MustCompile(`100 USD in ([A-Z]{3})`)
)

// walkthroughModel answers the walkthrough's requests the way a model
// would: from the last message of the request. Its answers carry what it
// was sent (the code's output, the earlier code, the submitted rate), so the
// script's checks also test what the engine gave the model.
func walkthroughModel(req modeltest.Request) modeltest.Turn {
	if len(req.Messages) == 0 {
		return modeltest.Turn{Text: "unscripted: a request without messages"}
	}
	last := req.Messages[len(req.Messages)-1]
	switch last.Role {
	case "tool":
		call, ok := nodeFindCall(req.Messages, last.ToolCallID)
		if !ok {
			return modeltest.Turn{Text: "unscripted: a tool result for an unknown call " + last.ToolCallID}
		}
		switch call.Name {
		case "python":
			code := nodeCodeOf(call.Arguments)
			if strings.Contains(code, "dark_background") {
				if strings.Contains(last.Content, "Error") {
					return modeltest.Turn{Text: "The dark mode code failed: " + last.Content}
				}
				return modeltest.Turn{Text: "Here is the dark mode version of the chart, with light bars on a black background.", ChunkSize: 3}
			}
			total := nodeTotalRe.FindStringSubmatch(last.Content)
			regions := nodeRegionsRe.FindStringSubmatch(last.Content)
			if total == nil || regions == nil {
				return modeltest.Turn{Text: "The code failed: " + last.Content}
			}
			return modeltest.Turn{Text: fmt.Sprintf("Here is the visualization of the monthly revenue. The total revenue is %s, across %s regions.", total[1], regions[1])}
		case "get_exchange_rate":
			var args struct{ Currency string }
			_ = json.Unmarshal([]byte(call.Arguments), &args)
			rate, err := strconv.ParseFloat(strings.TrimSpace(last.Content), 64)
			if err != nil {
				return modeltest.Turn{Text: "unscripted: the rate is not a number: " + last.Content}
			}
			return modeltest.Turn{Text: fmt.Sprintf("100 USD is %.2f %s.", 100*rate, args.Currency), ChunkSize: 5}
		}
		return modeltest.Turn{Text: "unscripted: a result of " + call.Name}
	case "user":
		q := last.Content
		switch {
		case strings.Contains(q, "dark mode"):
			return nodePythonTurn(nodeDarkCode)
		case strings.Contains(q, "Create a visualization"):
			return nodePythonTurn(nodeChartCode)
		case strings.Contains(q, "Show me the code"):
			for _, m := range req.Messages {
				for _, c := range m.ToolCalls {
					if c.Name == "python" {
						return modeltest.Turn{Text: "Here is the code I used:\n\n```python\n" + nodeCodeOf(c.Arguments) + "\n```"}
					}
				}
			}
			return modeltest.Turn{Text: "unscripted: the request has no earlier python call to show"}
		}
		if strings.Contains(q, "model error") {
			return modeltest.Turn{Status: 400, ErrorMessage: "The model refused the request.", ErrorCode: "invalid_prompt"}
		}
		if m := nodeCurrencyRe.FindStringSubmatch(q); m != nil {
			args, _ := json.Marshal(map[string]string{"currency": m[1]})
			return modeltest.Turn{ToolCalls: []modeltest.ToolCall{{Name: "get_exchange_rate", Arguments: string(args)}}}
		}
		return modeltest.Turn{Text: "unscripted question: " + q}
	}
	return modeltest.Turn{Text: "unscripted: the last message is from " + last.Role}
}

func nodePythonTurn(code string) modeltest.Turn {
	args, _ := json.Marshal(map[string]string{"code": code})
	return modeltest.Turn{ToolCalls: []modeltest.ToolCall{{Name: "python", Arguments: string(args)}}, ChunkSize: 16}
}

// nodeFindCall finds the assistant's tool call with the id.
func nodeFindCall(msgs []modeltest.Message, id string) (modeltest.ToolCall, bool) {
	for i := len(msgs) - 1; i >= 0; i-- {
		for _, c := range msgs[i].ToolCalls {
			if c.ID == id {
				return c, true
			}
		}
	}
	return modeltest.ToolCall{}, false
}

func nodeCodeOf(arguments string) string {
	var a struct{ Code string }
	_ = json.Unmarshal([]byte(arguments), &a)
	return a.Code
}
