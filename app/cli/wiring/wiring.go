// Package wiring is Plotline's one composition root: it opens the SQLite
// store, the interpreter's sandboxed kernels and the model adapter, and
// wires them into the engine. The command line, the window, the local API
// and the tests all open Plotline through it, so that they run the same
// system.
package wiring

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"plotline/app"
	"plotline/app/engine"
	"plotline/app/openai"
	"plotline/app/sqlite"
	"plotline/assets"
	"plotline/interpreter"
	"plotline/interpreter/goscript"
	"plotline/interpreter/starlark"
)

// Options say how to open Plotline. Zero values are the defaults: among
// them, local function tools run (the window's and `plotline ask`'s way).
type Options struct {
	// Data is the data folder: plotline.db, blobs/, work/ and functions/.
	Data string
	// Model is the engine's model; nil means the one the environment
	// configures (OPENAI_API_KEY, PLOTLINE_MODEL_URL, …; see openai.ConfigFromEnv).
	Model app.Model
	// DefaultModel is the model name runs use when neither they nor their
	// assistant name one (default: the environment's, else gpt-4o).
	DefaultModel string
	// Runtime runs the model's code: RuntimeAuto, RuntimePython or
	// RuntimeStarlark; "" is PLOTLINE_RUNTIME's, else auto (see
	// ChooseRuntime). RuntimeFrom says where it came from, for
	// System.Runtime.Why.
	Runtime, RuntimeFrom string
	// Python runs the kernels, with the Python runtime; nil means the
	// discovered one. Given, and Runtime unset, it is the runtime.
	Python *interpreter.Python
	// PoolSize is the number of warm kernels to keep; 0 keeps none (for
	// one-shot commands).
	PoolSize int
	// DeferPool leaves the pool empty until Kernels.Fill (the window
	// calls it once it is on screen) or the first new thread.
	DeferPool bool
	// Limits bound each kernel.
	Limits interpreter.Limits
	// NoLocalFunctions leaves every function call to the client
	// (requires_action), even those whose function has a handler in
	// functions/ (what `plotline serve` does unless --local-functions).
	// PLOTLINE_LOCAL_FUNCTIONS=0 in the environment does the same
	// everywhere.
	NoLocalFunctions bool
	// FunctionLimits bound each call of a local function.
	FunctionLimits goscript.Limits
	// Interp, when set, runs the code instead of the sandboxed kernels
	// (or Starlark sessions, with Runtime RuntimeStarlark): a scripted
	// interpreter for engine tests.
	Interp app.Interpreter
	// Interpreter and Engine, when set, adjust the configurations last.
	Interpreter func(*interpreter.Config)
	Engine      func(*engine.Config)
}

// System is an opened Plotline.
type System struct {
	Engine *engine.Engine
	Store  *sqlite.Store
	// Kernels is the interpreter's manager, for its limits and pool;
	// nil when Options.Interp ran the code.
	Kernels *interpreter.Manager
	Python  *interpreter.Python
	// Runtime is the runtime chosen for the model's code; unset when
	// Options.Interp ran it.
	Runtime Runtime
	// ModelConfig is the environment's model configuration, when Options
	// gave no model.
	ModelConfig openai.Config
}

// Open opens the data folder and wires the engine, and marks the runs a
// killed app left active as failed.
func Open(ctx context.Context, o Options) (*System, error) {
	sys := &System{Python: o.Python}
	m := o.Model
	if m == nil {
		mcfg, err := openai.ConfigFromEnv(os.Getenv)
		if err != nil {
			return nil, err
		}
		if m, err = openai.New(mcfg); err != nil {
			return nil, err
		}
		sys.ModelConfig = mcfg
		if o.DefaultModel == "" {
			o.DefaultModel = mcfg.Model
		}
	}
	if o.DefaultModel == "" {
		o.DefaultModel = engine.DefaultModel
	}
	switch {
	case o.Interp != nil:
	case sys.Python != nil && o.Runtime == "":
		sys.Runtime = Runtime{Name: RuntimePython, Python: sys.Python, Why: "given"}
	default:
		rt, err := ChooseRuntime(ctx, o.Runtime, o.RuntimeFrom)
		if err != nil {
			return nil, err
		}
		sys.Runtime, sys.Python = rt, rt.Python
	}
	starlarkRuntime := o.Runtime == RuntimeStarlark || sys.Runtime.Name == RuntimeStarlark
	st, err := sqlite.Open(o.Data)
	if err != nil {
		return nil, err
	}
	sys.Store = st
	pool := o.PoolSize
	if pool == 0 {
		pool = -1
	}
	code := o.Interp
	prompts := engine.Prompts{Code: assets.PromptCode, Fenced: assets.PromptFenced,
		FreshKernel: assets.PromptFreshKernel, Analyst: assets.PromptAnalyst}
	if py := sys.Python; py != nil && py.Bundled() && !starlarkRuntime {
		prompts.Code += "\n\n" + bundledPrompt(py)
	}
	var tool app.CodeTool
	if starlarkRuntime {
		prompts.Code, prompts.Fenced, prompts.FreshKernel = starlarkPrompts()
		tool = StarlarkCode
	}
	switch {
	case code != nil:
	case starlarkRuntime:
		code = StarlarkKernels(filepath.Join(o.Data, "work"), starlark.Options{})
	default:
		icfg := interpreter.Config{Python: sys.Python, Root: filepath.Join(o.Data, "work"), PoolSize: pool, DeferPool: o.DeferPool, Limits: o.Limits}
		if o.Interpreter != nil {
			o.Interpreter(&icfg)
		}
		if sys.Kernels, err = interpreter.NewManager(icfg); err != nil {
			st.Close()
			return nil, err
		}
		code = Kernels(sys.Kernels)
	}
	ecfg := engine.Config{Store: st, Model: m, Interpreter: code, DefaultModel: o.DefaultModel,
		Prompts: prompts, Code: tool,
		ToolsUnsupported: openai.ToolsUnsupported, NoTools: os.Getenv("PLOTLINE_NO_TOOLS") == "1",
		Functions:         Functions(goscript.New(filepath.Join(o.Data, FunctionsFolder), o.FunctionLimits)),
		RunLocalFunctions: !o.NoLocalFunctions && os.Getenv("PLOTLINE_LOCAL_FUNCTIONS") != "0"}
	if o.Engine != nil {
		o.Engine(&ecfg)
	}
	if sys.Engine, err = engine.New(ecfg); err == nil {
		err = sys.Engine.Recover(ctx)
	}
	if err != nil {
		sys.Close()
		return nil, err
	}
	return sys, nil
}

// Close stops runs and sessions, then the kernels, then the store.
func (s *System) Close() {
	if s.Engine != nil {
		s.Engine.Close()
	}
	if s.Kernels != nil {
		s.Kernels.Close()
	}
	if s.Store != nil {
		s.Store.Close()
	}
}

// bundledPrompt tells the model what the bundled runtime py can import
// beyond the required modules.
func bundledPrompt(py *interpreter.Python) string {
	var extra []string
	for _, m := range py.ModuleList() {
		if name, _, _ := strings.Cut(m, " "); !slices.Contains(interpreter.RequiredModules, name) {
			extra = append(extra, m)
		}
	}
	return strings.ReplaceAll(strings.TrimSpace(assets.PromptBundled), "{modules}", strings.Join(extra, ", "))
}
