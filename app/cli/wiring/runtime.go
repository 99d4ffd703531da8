package wiring

import (
	"context"
	"fmt"
	"os"
	"strings"

	"plotline/app"
	"plotline/assets"
	"plotline/interpreter"
	"plotline/interpreter/sandbox"
	"plotline/interpreter/starlark"
)

// The runtimes that run the model's code, as PLOTLINE_RUNTIME and the
// window's setting name them.
const (
	// RuntimeAuto is Python where a qualifying Python and the sandbox are
	// there, and Starlark otherwise.
	RuntimeAuto = "auto"
	// RuntimePython is the sandboxed Python kernel.
	RuntimePython = "python"
	// RuntimeStarlark is the hermetic Starlark runtime, with the table
	// and chart built-ins.
	RuntimeStarlark = "starlark"
)

// RuntimeEnv is the environment variable that picks the runtime where
// nothing else does.
const RuntimeEnv = "PLOTLINE_RUNTIME"

// Runtime is the runtime chosen for the model's code, and why.
type Runtime struct {
	Name string // RuntimePython or RuntimeStarlark
	Why  string
	// Python is the Python that runs the kernels, for RuntimePython.
	Python *interpreter.Python
}

// ChooseRuntime picks the runtime: want, or PLOTLINE_RUNTIME when want is
// "", or else auto. from says where want came from, for Why ("the
// settings"). Asked for Python where none qualifies, it fails, saying why.
func ChooseRuntime(ctx context.Context, want, from string) (Runtime, error) {
	want, from = runtimeWanted(want, from)
	var (
		py    *interpreter.Python
		pyErr error
		st    sandbox.Status
	)
	switch want {
	case RuntimePython:
		py, _, pyErr = interpreter.Discover(ctx, false)
	case RuntimeAuto:
		// The sandbox is tried while Python is looked for: each takes a
		// moment, mostly waiting on a child process.
		check := make(chan sandbox.Status, 1)
		go func() { check <- sandbox.Check() }()
		py, _, pyErr = interpreter.Discover(ctx, false)
		st = <-check
	}
	return DecideRuntime(want, from, py, pyErr, st)
}

// runtimeWanted is the runtime asked for, and where from: want, else
// PLOTLINE_RUNTIME's, else auto.
func runtimeWanted(want, from string) (string, string) {
	if want == "" {
		want, from = os.Getenv(RuntimeEnv), RuntimeEnv+"="+os.Getenv(RuntimeEnv)
	}
	if want == "" {
		want, from = RuntimeAuto, "the default"
	}
	return want, from
}

// DecideRuntime is ChooseRuntime's choice, given what it found: the
// discovered Python or why none qualifies, and whether the sandbox
// starts (st, for auto).
func DecideRuntime(want, from string, py *interpreter.Python, pyErr error, st sandbox.Status) (Runtime, error) {
	want, from = runtimeWanted(want, from)
	switch want {
	case RuntimeStarlark:
		return Runtime{Name: RuntimeStarlark, Why: askedFor(from)}, nil
	case RuntimePython:
		if pyErr != nil {
			return Runtime{}, fmt.Errorf("%v (run 'plotline doctor' for details, or use the Starlark runtime: %s=starlark)", pyErr, RuntimeEnv)
		}
		return Runtime{Name: RuntimePython, Python: py, Why: askedFor(from)}, nil
	case RuntimeAuto:
		if pyErr != nil {
			return Runtime{Name: RuntimeStarlark, Why: fmt.Sprintf("Python cannot run here: %v", pyErr)}, nil
		}
		if st.Err != nil {
			return Runtime{Name: RuntimeStarlark, Why: fmt.Sprintf("Python's sandbox cannot start here: %v", st.Err)}, nil
		}
		return Runtime{Name: RuntimePython, Python: py,
			Why: fmt.Sprintf("%s has %s, and the sandbox starts", py, requiredModules())}, nil
	}
	return Runtime{}, fmt.Errorf("%s: %q is not a runtime: give %s, %s or %s", from, want, RuntimeAuto, RuntimePython, RuntimeStarlark)
}

func askedFor(from string) string {
	if from == "" {
		return "asked for"
	}
	return "asked for (" + from + ")"
}

// requiredModules names the modules a Python needs: "numpy, pandas and
// matplotlib".
func requiredModules() string {
	m := interpreter.RequiredModules
	if len(m) < 2 {
		return strings.Join(m, "")
	}
	return strings.Join(m[:len(m)-1], ", ") + " and " + m[len(m)-1]
}

// StarlarkCode is the code tool of the Starlark runtime.
var StarlarkCode = app.CodeTool{
	Name:     "starlark",
	Language: "Starlark",
	Description: "Run Starlark code (a small dialect of Python, with no import, class, try or while) and get its output. " +
		"Top-level names persist between calls. table.read reads the user's files in /mnt/data; chart.bar, chart.line " +
		"and the others draw charts shown to the user. There is no internet access.",
	// Models write Python's fences for Starlark too.
	Fences: []string{"starlark", "python", "py"},
}

// starlarkPrompts is what the engine tells the model of the Starlark
// runtime: the built-ins' page with the code prompt.
func starlarkPrompts() (code, fenced, fresh string) {
	return assets.PromptStarlarkCode + "\n\n" + starlark.Builtins, assets.PromptStarlarkFenced, assets.PromptStarlarkFreshKernel
}
