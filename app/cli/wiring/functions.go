package wiring

import (
	"context"

	"plotline/app/engine"
	"plotline/interpreter/goscript"
)

// FunctionsFolder is the folder of the data folder that holds the
// handlers of local function tools: functions/NAME.go.
const FunctionsFolder = "functions"

// Functions makes goscript's sandboxed handlers the engine's
// LocalFunctions.
func Functions(f *goscript.Functions) engine.LocalFunctions { return functions{f} }

type functions struct{ f *goscript.Functions }

func (f functions) Has(name string) bool               { return f.f.Has(name) }
func (f functions) Source(name string) (string, error) { return f.f.Source(name) }
func (f functions) Save(name, source string) error     { return f.f.Save(name, source) }

func (f functions) Call(ctx context.Context, name, args string) engine.FunctionResult {
	return result(f.f.Call(ctx, name, args))
}

func (f functions) Try(ctx context.Context, name, source, args string) engine.FunctionResult {
	return result(f.f.Run(ctx, name, source, args))
}

func result(r goscript.Result) engine.FunctionResult {
	return engine.FunctionResult{Output: r.Output, Error: r.Error, Logs: r.Logs, Duration: r.Duration}
}
