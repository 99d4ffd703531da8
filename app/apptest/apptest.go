// Package apptest opens Plotline for tests through the one composition
// root (app/cli/wiring), as the app does: a real SQLite store, real sandboxed
// kernels and the openai-go model adapter, pointed at a scripted model
// server (app/modeltest).
package apptest

import (
	"context"
	"testing"

	"plotline/app/cli/wiring"
	"plotline/app/engine"
	"plotline/app/openai"
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

// Build opens Plotline on the data folder, its model at modelURL;
// closeAll closes the engine, its interpreter and its store.
func Build(py *interpreter.Python, data, modelURL string, o Options) (e *engine.Engine, closeAll func(), err error) {
	retries := o.MaxRetries
	if retries == 0 {
		retries = 3
	}
	m, err := openai.New(openai.Config{Provider: openai.ProviderCompatible, BaseURL: modelURL, APIKey: "test", MaxRetries: retries})
	if err != nil {
		return nil, nil, err
	}
	sys, err := wiring.Open(context.Background(), wiring.Options{Data: data, Model: m, DefaultModel: "test-model",
		Python: py, Interpreter: o.Interpreter, Engine: o.Engine})
	if err != nil {
		return nil, nil, err
	}
	return sys.Engine, sys.Close, nil
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
