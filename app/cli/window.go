package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/widget"

	"plotline/app"
	"plotline/app/cli/wiring"
	"plotline/app/engine"
	"plotline/app/openai"
	"plotline/app/settings"
	"plotline/app/ui"
	"plotline/assets"
	"plotline/interpreter"
	"plotline/interpreter/sandbox"
)

// modelSwitch is the engine's model in the window, where the user can
// change provider, endpoint or key while the app runs.
type modelSwitch struct {
	mu  sync.RWMutex
	m   *openai.Client
	why string
}

func (s *modelSwitch) set(m *openai.Client, why string) {
	s.mu.Lock()
	s.m, s.why = m, why
	s.mu.Unlock()
}

// Chat asks the current model, or fails with a run error that sends the
// user to the settings. Its failures are in the window's plain words
// (ui.ModelErrorText), naming the server and the model, so that a failed
// run's last_error is what the window shows.
func (s *modelSwitch) Chat(ctx context.Context, req app.ChatRequest, onDelta func(app.ChatDelta)) (*app.ChatResult, error) {
	s.mu.RLock()
	m, why := s.m, s.why
	s.mu.RUnlock()
	if m == nil {
		return nil, &app.ModelError{Message: why}
	}
	res, err := m.Chat(ctx, req, onDelta)
	return res, plainModelError(ctx, err, m.Config(), req.Model)
}

// plainModelError rewrites a model failure's message in plain words. The
// context's own errors, and the refusals of tools that the engine answers
// by running without them, are kept as they are.
func plainModelError(ctx context.Context, err error, c openai.Config, model string) error {
	var me *app.ModelError
	if err == nil || ctx.Err() != nil || !errors.As(err, &me) || openai.ToolsUnsupported(err) {
		return err
	}
	if model == "" {
		model = c.Model
	}
	endpoint := c.BaseURL
	if endpoint == "" && c.Provider != openai.ProviderAzure {
		endpoint = "https://api.openai.com/v1"
	}
	t := ui.ModelTarget{Endpoint: endpoint, Provider: c.Provider, Model: model, Timeout: c.Timeout}
	return &app.ModelError{Status: me.Status, Code: me.Code, RetryAfter: me.RetryAfter, Message: ui.ModelErrorText(me, t)}
}

// settleTime is how long after its start the window has drawn its first
// frames and read its threads.
const settleTime = 2 * time.Second

// Window implements `plotline` with no command: the desktop window, with
// the files named after the options attached to the first question.
func Window(args []string, s Streams) int {
	fs := flag.NewFlagSet("plotline", flag.ContinueOnError)
	fs.SetOutput(s.Err)
	data := fs.String("data", "", "Plotline's data folder (default $PLOTLINE_DATA, else plotline in the user config folder)")
	if err := fs.Parse(args); err != nil {
		return exitNoStart
	}
	if !hasDisplay(runtime.GOOS, os.Getenv) {
		fmt.Fprintln(s.Err, noDisplay("DISPLAY and WAYLAND_DISPLAY are not set"))
		return exitNoStart
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(s.Err, "plotline: "+format+"\n", a...)
		return exitNoStart
	}
	dir, err := dataDir(*data)
	if err != nil {
		return fail("%v", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fail("%v", err)
	}
	cfg, cfgErr := settings.Load(dir)
	keys := settings.Keys{Dir: dir}
	sw := &modelSwitch{}
	envCfg, envErr := openai.ConfigFromEnv(os.Getenv)
	defModel := cfg.Model
	switch {
	case cfg.Configured():
		key, _, _ := keys.Get()
		applyModel(sw, cfg, key)
	case envErr == nil:
		if m, err := openai.New(envCfg); err == nil {
			sw.set(m, "")
		} else {
			sw.set(nil, ui.BadSettingsText(err))
		}
		if defModel == "" {
			defModel = envCfg.Model
		}
	default:
		sw.set(nil, ui.NoModelText)
	}

	restoreLog := quietFyneLog(s.Err)
	defer restoreLog()
	a := fyneapp.NewWithID("app.plotline.desktop")
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	// The Settings choose the runtime, unless PLOTLINE_RUNTIME does.
	runtime, runtimeFrom := cfg.Runtime, "the Settings"
	if os.Getenv(wiring.RuntimeEnv) != "" || runtime == "" {
		runtime, runtimeFrom = "", ""
	}
	sys, err := wiring.Open(context.Background(), wiring.Options{Data: dir, PoolSize: warmKernels, DeferPool: true,
		Model: sw, DefaultModel: defModel, Limits: limitsOf(cfg), Runtime: runtime, RuntimeFrom: runtimeFrom})
	if err != nil {
		showFatal(a, err)
		return exitNoStart
	}
	defer sys.Close()
	if _, err := sys.Engine.DefaultAssistant(context.Background()); err != nil {
		showFatal(a, err)
		return exitNoStart
	}
	u, err := newWindow(a, ui.Services{
		Engine:        sys.Engine,
		DataDir:       dir,
		Keys:          keys,
		EnvConfigured: !cfg.Configured() && envErr == nil,
		Apply: func(c settings.Settings, key string) error {
			if key == "" {
				key, _, _ = keys.Get()
			}
			if err := applyModel(sw, c, key); err != nil {
				return err
			}
			if sys.Kernels != nil {
				sys.Kernels.SetLimits(limitsOf(c))
			}
			return nil
		},
		TestConnection: testConnection,
		Runtime:        func() string { return runtimeReport(sys.Runtime) },
	})
	if err != nil {
		fmt.Fprintln(s.Err, noDisplay("the display "+os.Getenv("DISPLAY")+os.Getenv("WAYLAND_DISPLAY")+" could not be opened"))
		return exitNoStart
	}
	if cfgErr != nil {
		fmt.Fprintf(s.Err, "plotline: %v\n", cfgErr)
	}
	u.Attach(fs.Args()...)
	// The warm kernels start once the window is on screen; once it has
	// settled, the memory its start used goes back to the system.
	a.Lifecycle().SetOnStarted(func() {
		if sys.Kernels != nil {
			sys.Kernels.Fill()
		}
		time.AfterFunc(settleTime, func() {
			// An idle window makes little garbage: a tighter heap goal
			// keeps what it makes from piling up between collections.
			debug.SetGCPercent(50)
			debug.FreeOSMemory()
		})
	})
	u.Window().ShowAndRun()
	u.Close()
	return exitOK
}

// modelConfig is the model client's configuration for the settings.
func modelConfig(s settings.Settings, key string) openai.Config {
	c := openai.Config{Provider: s.Provider, BaseURL: strings.TrimSpace(s.Endpoint), APIKey: key, Model: s.Model, APIVersion: s.APIVersion}
	if c.Provider == openai.ProviderOpenAI && c.BaseURL == "" {
		c.BaseURL = "https://api.openai.com/v1"
	}
	return c
}

// limitsOf turns the settings' sandbox limits into the interpreter's.
func limitsOf(c settings.Settings) interpreter.Limits {
	timeout, memory := c.Limits()
	return interpreter.Limits{CellTimeout: timeout, Sandbox: sandbox.Limits{Memory: memory}}
}

// applyModel points the switch at the model the settings describe.
func applyModel(sw *modelSwitch, c settings.Settings, key string) error {
	m, err := openai.New(modelConfig(c, key))
	if err != nil {
		sw.set(nil, ui.BadSettingsText(err))
		return err
	}
	sw.set(m, "")
	return nil
}

// testConnection makes one small real call and returns the answer. It
// tries once: the caller bounds the wait with ctx, and says in plain
// words (ui) what failed.
func testConnection(ctx context.Context, c settings.Settings, key string) (string, error) {
	cfg := modelConfig(c, key)
	cfg.MaxRetries = -1
	m, err := openai.New(cfg)
	if err != nil {
		return "", err
	}
	name := c.Model
	if name == "" {
		name = engine.DefaultModel
	}
	max := int64(16)
	res, err := m.Chat(ctx, app.ChatRequest{Model: name, MaxCompletionTokens: &max,
		Messages: []app.ChatMessage{{Role: "user", Content: "Reply with the single word OK."}}}, nil)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(res.Text), nil
}

// runtimeReport says what runs the model's code and why: Starlark, or
// which Python, and whether the sandbox works; for the settings.
func runtimeReport(rt wiring.Runtime) string {
	var b strings.Builder
	if rt.Name == wiring.RuntimeStarlark {
		fmt.Fprintf(&b, "Code runs as Starlark, with table and chart built-ins: %s.", rt.Why)
		return b.String()
	}
	fmt.Fprintf(&b, "Code runs as Python in the sandbox: %s.\n", rt.Why)
	if py := rt.Python; py != nil && py.Bundled() {
		fmt.Fprintf(&b, "Packages: %s\n", strings.Join(py.ModuleList(), ", "))
	} else if py != nil {
		fmt.Fprintf(&b, "%s\n", py)
		for _, m := range interpreter.RequiredModules {
			v := py.Modules[m]
			if v == "" {
				v = "missing"
			}
			fmt.Fprintf(&b, "%s: %s\n", m, v)
		}
	}
	if st := sandbox.Check(); st.Err != nil {
		fmt.Fprintf(&b, "Sandbox: not available: %v", st.Err)
	} else {
		fmt.Fprintf(&b, "Sandbox: ready (Landlock ABI %d)", st.Landlock)
	}
	return b.String()
}

// showFatal shows why Plotline cannot start, in a window, without traces.
func showFatal(a fyne.App, err error) {
	w := a.NewWindow("Plotline cannot start")
	l := widget.NewLabel("Plotline cannot start:\n\n" + err.Error())
	l.Wrapping = fyne.TextWrapWord
	w.SetContent(l)
	w.Resize(fyne.NewSize(560, 240))
	w.ShowAndRun()
}
