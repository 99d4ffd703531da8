package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"plotline/app"
	"plotline/app/engine"
	"plotline/app/openai"
	"plotline/app/sqlite"
	"plotline/interpreter"
)

// dataDir is the folder Plotline keeps its threads and files in: --data,
// else PLOTLINE_DATA, else plotline under the user's config folder.
func dataDir(flagValue string) (string, error) {
	if flagValue != "" {
		return filepath.Abs(flagValue)
	}
	if d := os.Getenv("PLOTLINE_DATA"); d != "" {
		return filepath.Abs(d)
	}
	cfg, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no data folder: set PLOTLINE_DATA or pass --data (%v)", err)
	}
	return filepath.Join(cfg, "plotline"), nil
}

// system is an opened Plotline: store, interpreter, model and engine.
type system struct {
	Engine *engine.Engine
	Model  openai.Config
	store  *sqlite.Store
	interp *interpreter.Manager
	python *interpreter.Python
}

// openSystem opens the data folder and wires the engine, with the model
// the environment configures. poolSize is the number of warm kernels to
// keep (0 for one-shot commands).
func openSystem(ctx context.Context, data string, poolSize int) (*system, error) {
	mcfg, err := openai.ConfigFromEnv(os.Getenv)
	if err != nil {
		return nil, err
	}
	m, err := openai.New(mcfg)
	if err != nil {
		return nil, err
	}
	def := mcfg.Model
	if def == "" {
		def = "gpt-4o"
	}
	sys, err := openSystemWith(ctx, data, poolSize, m, def, interpreter.Limits{})
	if err != nil {
		return nil, err
	}
	sys.Model = mcfg
	return sys, nil
}

// openSystemWith wires the engine with a given model.
func openSystemWith(ctx context.Context, data string, poolSize int, m app.Model, defaultModel string, lim interpreter.Limits) (*system, error) {
	py, _, err := interpreter.Discover(ctx, false)
	if err != nil {
		return nil, fmt.Errorf("%v (run 'plotline doctor' for details)", err)
	}
	st, err := sqlite.Open(data)
	if err != nil {
		return nil, err
	}
	if poolSize == 0 {
		poolSize = -1
	}
	im, err := interpreter.NewManager(interpreter.Config{Python: py, Root: filepath.Join(data, "work"), PoolSize: poolSize, Limits: lim})
	if err != nil {
		st.Close()
		return nil, err
	}
	eng, err := engine.New(engine.Config{Store: st, Model: m, Interpreter: im, DefaultModel: defaultModel,
		ToolsUnsupported: openai.ToolsUnsupported, NoTools: os.Getenv("PLOTLINE_NO_TOOLS") == "1"})
	if err != nil {
		im.Close()
		st.Close()
		return nil, err
	}
	if err := eng.Recover(ctx); err != nil {
		im.Close()
		st.Close()
		return nil, err
	}
	return &system{Engine: eng, store: st, interp: im, python: py}, nil
}

// Close stops runs and sessions and closes the store.
func (s *system) Close() {
	s.Engine.Close()
	s.interp.Close()
	s.store.Close()
}
