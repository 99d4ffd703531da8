package wiring

import (
	"errors"
	"strings"
	"testing"

	"plotline/interpreter"
	"plotline/interpreter/sandbox"
)

// The runtime is the one asked for, else PLOTLINE_RUNTIME's, else the
// automatic choice: Python where it qualifies and its sandbox starts,
// Starlark otherwise; each choice says why.
func TestDecideRuntime(t *testing.T) {
	py := &interpreter.Python{Executable: "/usr/bin/python3", Version: "3.11.2"}
	noPy := errors.New("no python3 with pandas")
	noSandbox := sandbox.Status{Err: errors.New("user namespaces are off")}
	for _, c := range []struct {
		name, want, env string
		pyErr           error
		st              sandbox.Status
		runtime, why    string // why: a part of Why, or of the error
	}{
		{"auto", "", "", nil, sandbox.Status{}, RuntimePython, "Python 3.11.2 at /usr/bin/python3 has numpy, pandas and matplotlib, and the sandbox starts"},
		{"auto without python", "", "", noPy, sandbox.Status{}, RuntimeStarlark, "Python cannot run here: no python3 with pandas"},
		{"auto without sandbox", "auto", "", nil, noSandbox, RuntimeStarlark, "Python's sandbox cannot start here: user namespaces are off"},
		{"starlark asked", "starlark", "python", nil, sandbox.Status{}, RuntimeStarlark, "asked for (the Settings)"},
		{"starlark from the environment", "", "starlark", nil, sandbox.Status{}, RuntimeStarlark, "asked for (PLOTLINE_RUNTIME=starlark)"},
		{"python asked", "python", "", nil, noSandbox, RuntimePython, "asked for (the Settings)"},
		{"python asked, none there", "", "python", noPy, sandbox.Status{}, "", "no python3 with pandas (run 'plotline doctor' for details, or use the Starlark runtime: PLOTLINE_RUNTIME=starlark)"},
		{"unknown", "", "java", nil, sandbox.Status{}, "", `PLOTLINE_RUNTIME=java: "java" is not a runtime: give auto, python or starlark`},
	} {
		t.Setenv(RuntimeEnv, c.env)
		from := "the Settings"
		if c.want == "" {
			from = ""
		}
		var p *interpreter.Python
		if c.pyErr == nil {
			p = py
		}
		rt, err := DecideRuntime(c.want, from, p, c.pyErr, c.st)
		switch {
		case c.runtime == "" && (err == nil || err.Error() != c.why):
			t.Errorf("%s: %+v, %v; want the error %q", c.name, rt, err, c.why)
		case c.runtime != "" && (err != nil || rt.Name != c.runtime || !strings.Contains(rt.Why, c.why)):
			t.Errorf("%s: %+v, %v; want %s because %q", c.name, rt, err, c.runtime, c.why)
		case rt.Name == RuntimePython && rt.Python != py:
			t.Errorf("%s: no Python given with the runtime", c.name)
		}
	}
}

// The bundled runtime's prompt names its packages beyond the required
// ones, and how to read what it has no package for.
func TestBundledPrompt(t *testing.T) {
	py := &interpreter.Python{System: "/opt/rt", Modules: map[string]string{"numpy": "1.24.2", "pandas": "1.5.3", "sklearn": "1.2.1", "docx": "0.8.11"}}
	p := bundledPrompt(py)
	if !strings.Contains(p, "docx 0.8.11, sklearn 1.2.1.") || strings.Contains(p, "numpy 1.24.2") || strings.Contains(p, "{modules}") || !strings.Contains(p, "zipfile") {
		t.Fatalf("prompt: %s", p)
	}
}
