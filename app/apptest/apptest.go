// Package apptest wires engines for tests the way the app does: a real
// SQLite store, real sandboxed kernels and the openai-go model adapter,
// pointed at a scripted model server (app/modeltest).
package apptest

import (
	"context"
	"path/filepath"
	"testing"

	"plotline/app/engine"
	"plotline/app/openai"
	"plotline/app/sqlite"
	"plotline/interpreter"
)

// Options tune an engine for a test. Zero values are the defaults.
type Options struct {
	// Interpreter adjusts the interpreter's Config (cold kernels by default).
	Interpreter func(*interpreter.Config)
	// Engine adjusts the engine's Config.
	Engine func(*engine.Config)
	// MaxRetries of the model client (default 3).
	MaxRetries int
}

// Build wires and recovers an engine on the data folder, its model at
// modelURL; closeAll closes the engine, its interpreter and its store.
func Build(py *interpreter.Python, data, modelURL string, o Options) (e *engine.Engine, closeAll func(), err error) {
	st, err := sqlite.Open(data)
	if err != nil {
		return nil, nil, err
	}
	icfg := interpreter.Config{Python: py, Root: filepath.Join(data, "work"), PoolSize: -1}
	if o.Interpreter != nil {
		o.Interpreter(&icfg)
	}
	im, err := interpreter.NewManager(icfg)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	retries := o.MaxRetries
	if retries == 0 {
		retries = 3
	}
	m, err := openai.New(openai.Config{Provider: openai.ProviderCompatible, BaseURL: modelURL, APIKey: "test", MaxRetries: retries})
	if err != nil {
		im.Close()
		st.Close()
		return nil, nil, err
	}
	cfg := engine.Config{Store: st, Model: m, Interpreter: im, DefaultModel: "test-model", ToolsUnsupported: openai.ToolsUnsupported}
	if o.Engine != nil {
		o.Engine(&cfg)
	}
	if e, err = engine.New(cfg); err == nil {
		err = e.Recover(context.Background())
	}
	closeAll = func() {
		if e != nil {
			e.Close()
		}
		im.Close()
		st.Close()
	}
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	return e, closeAll, nil
}

// New is Build for a test: it fails the test on error and closes the
// engine when the test ends.
func New(tb testing.TB, py *interpreter.Python, data, modelURL string, o Options) *engine.Engine {
	tb.Helper()
	e, closeAll, err := Build(py, data, modelURL, o)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(closeAll)
	return e
}
