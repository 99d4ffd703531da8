package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"plotline/app/cli/wiring"
	"plotline/interpreter"
	"plotline/interpreter/sandbox"
)

// Doctor explains which Python Plotline would use and why each other
// candidate was rejected, checks that the sandbox can start, and says
// which runtime runs the model's code, and why. It fails only when no
// code can run.
func Doctor(args []string, s Streams) int {
	if len(args) > 0 {
		fmt.Fprintln(s.Err, "plotline doctor: takes no arguments")
		return exitNoStart
	}
	sandboxOK := true
	fmt.Fprintln(s.Out, "Python (PLOTLINE_PYTHON, then bundled, then PATH and standard locations):")
	py, cands, err := interpreter.Discover(context.Background(), true)
	for _, c := range cands {
		mark := "  -"
		if c.Rejected == "" {
			mark = "  ✓"
		}
		fmt.Fprintf(s.Out, "%s %s (%s)", mark, c.Path, c.Source)
		switch {
		case c.Python != nil && c.Python.Bundled():
			fmt.Fprintf(s.Out, " → bundled Python %s, run in the sandbox as %s", c.Python.Version, c.Python.Executable)
		case c.Python != nil:
			fmt.Fprintf(s.Out, " → Python %s at %s", c.Python.Version, c.Python.Executable)
		}
		fmt.Fprintln(s.Out)
		if c.Rejected != "" {
			fmt.Fprintf(s.Out, "      rejected: %s\n", c.Rejected)
		}
	}
	if err != nil {
		fmt.Fprintf(s.Out, "\n✗ %v\n", err)
	} else if py.Bundled() {
		fmt.Fprintf(s.Out, "\nChosen: bundled, Python %s in %s, with %s\n", py.Version, py.System, strings.Join(py.ModuleList(), ", "))
	} else {
		var mods []string
		for _, m := range interpreter.RequiredModules {
			mods = append(mods, m+" "+py.Modules[m])
		}
		fmt.Fprintf(s.Out, "\nChosen: %s (Python %s; %s)\n", py.Executable, py.Version, strings.Join(mods, ", "))
	}

	fmt.Fprintln(s.Out, "\nSandbox:")
	st := sandbox.Check()
	switch {
	case st.Err == nil && sandbox.WeakMode():
		fmt.Fprintf(s.Out, "  - the weaker sandbox (%s=weak): Landlock, seccomp and rlimits, without namespaces; see the README for what it gives up\n", sandbox.WeakEnv)
	case st.Err == nil:
		fmt.Fprintln(s.Out, "  ✓ namespaces (user, mount, pid, network, ipc, uts), seccomp, rlimits")
	case errors.Is(st.Err, sandbox.ErrUnsupported), errors.Is(st.Err, sandbox.ErrNamespaces):
		fmt.Fprintf(s.Out, "  ✗ %v\n", st.Err)
		sandboxOK = false
	default:
		fmt.Fprintf(s.Out, "  ✗ the sandbox does not start: %v\n", st.Err)
		sandboxOK = false
	}
	if st.Landlock > 0 {
		fmt.Fprintf(s.Out, "  ✓ Landlock ABI %d\n", st.Landlock)
	} else {
		fmt.Fprintln(s.Out, "  - Landlock is not available in this kernel (the namespaces still confine the code)")
	}
	// A cgroup caps the whole sandbox in the kernel; the watchdog is the
	// fallback, coarser and blind to kernel memory.
	enf, mark := sandbox.Enforcement(), "  ✓"
	if !strings.HasPrefix(enf, "cgroup") {
		mark = "  -"
	}
	fmt.Fprintf(s.Out, "%s limits on the whole sandbox: %s\n", mark, enf)

	// What runs the model's code, from what was found above.
	fmt.Fprintf(s.Out, "\nRuntime (%s=auto, python or starlark; or the window's Settings):\n", wiring.RuntimeEnv)
	rt, err := wiring.DecideRuntime("", "", py, err, st)
	switch {
	case err != nil:
		fmt.Fprintf(s.Out, "  ✗ %v\n", err)
		return exitFailed
	case rt.Name == wiring.RuntimePython && !sandboxOK:
		fmt.Fprintf(s.Out, "  ✗ Python, %s; but its sandbox does not start, so no code can run (%s=starlark runs code without it)\n", rt.Why, wiring.RuntimeEnv)
		return exitFailed
	case rt.Name == wiring.RuntimePython:
		fmt.Fprintf(s.Out, "  ✓ Python: %s\n", rt.Why)
	default:
		fmt.Fprintf(s.Out, "  ✓ Starlark: %s. The model writes Starlark, with table and chart built-ins, instead of Python; it needs no sandbox, and runs in the sandbox where it can\n", rt.Why)
	}
	return exitOK
}
