package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"

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
	m   app.Model
	why string
}

func (s *modelSwitch) set(m app.Model, why string) {
	s.mu.Lock()
	s.m, s.why = m, why
	s.mu.Unlock()
}

// Chat asks the current model, or fails with a run error that sends the
// user to the settings.
func (s *modelSwitch) Chat(ctx context.Context, req app.ChatRequest, onDelta func(app.ChatDelta)) (*app.ChatResult, error) {
	s.mu.RLock()
	m, why := s.m, s.why
	s.mu.RUnlock()
	if m == nil {
		return nil, &app.ModelError{Status: 401, Message: why}
	}
	return m.Chat(ctx, req, onDelta)
}

// Window implements `plotline` with no command: the desktop window.
func Window(args []string, s Streams) int {
	fs := flag.NewFlagSet("plotline", flag.ContinueOnError)
	fs.SetOutput(s.Err)
	data := fs.String("data", "", "Plotline's data folder (default $PLOTLINE_DATA, else plotline in the user config folder)")
	if err := fs.Parse(args); err != nil {
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
		}
		if defModel == "" {
			defModel = envCfg.Model
		}
	default:
		sw.set(nil, "No model is set up yet: open Settings, choose a provider and enter its key.")
	}

	a := fyneapp.NewWithID("app.plotline.desktop")
	a.SetIcon(fyne.NewStaticResource("icon.png", assets.Icon))
	sys, err := wiring.Open(context.Background(), wiring.Options{Data: dir, PoolSize: warmKernels, DeferPool: true,
		Model: sw, DefaultModel: defModel, Limits: limitsOf(cfg)})
	if err != nil {
		showFatal(a, err)
		return exitNoStart
	}
	defer sys.Close()
	if _, err := sys.Engine.DefaultAssistant(context.Background()); err != nil {
		showFatal(a, err)
		return exitNoStart
	}
	u := ui.New(a, ui.Services{
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
			sys.Kernels.SetLimits(limitsOf(c))
			return setDefaultModel(sys.Engine, c.Model)
		},
		TestConnection: testConnection,
		Runtime:        func() string { return runtimeReport(sys.Python) },
	})
	if cfgErr != nil {
		fmt.Fprintf(s.Err, "plotline: %v\n", cfgErr)
	}
	// The warm kernels start once the window is on screen.
	a.Lifecycle().SetOnStarted(sys.Kernels.Fill)
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
		sw.set(nil, "The model settings do not work: "+err.Error()+". Open Settings to fix them.")
		return err
	}
	sw.set(m, "")
	return nil
}

// setDefaultModel makes the data-analyst assistant use the model chosen in
// the settings.
func setDefaultModel(eng *engine.Engine, name string) error {
	if strings.TrimSpace(name) == "" {
		return nil
	}
	a, err := eng.DefaultAssistant(context.Background())
	if err != nil {
		return err
	}
	_, err = eng.UpdateAssistant(context.Background(), a.ID, app.AssistantParams{Model: &name})
	return err
}

// testConnection makes one small real call and returns the answer.
func testConnection(ctx context.Context, c settings.Settings, key string) (string, error) {
	m, err := openai.New(modelConfig(c, key))
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
		var me *app.ModelError
		if errors.As(err, &me) {
			switch me.Status {
			case 401, 403:
				return "", fmt.Errorf("the key was refused (%s)", me.Message)
			case 404:
				return "", fmt.Errorf("the model or endpoint was not found (%s)", me.Message)
			case 0:
				return "", fmt.Errorf("the server could not be reached (%s)", me.Message)
			}
		}
		return "", err
	}
	return strings.TrimSpace(res.Text), nil
}

// runtimeReport says which Python runs the code and whether the sandbox
// works, for the settings.
func runtimeReport(py *interpreter.Python) string {
	var b strings.Builder
	if py != nil {
		fmt.Fprintf(&b, "Python %s at %s\n", py.Version, py.Executable)
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
