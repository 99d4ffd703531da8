package goscript

import (
	"context"
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"plotline/interpreter/sandbox"
)

// The tests run every handler on the real sandbox: the test binary starts
// itself as the sandbox's init and then as the worker (this package's
// init), as the plotline binary does.
func TestMain(m *testing.M) {
	sandbox.MaybeRunInit()
	if err := sandbox.Check().Err; err != nil {
		println("goscript tests need the sandbox:", err.Error())
		os.Exit(1)
	}
	os.Exit(m.Run())
}

const addSource = `package main

import "fmt"

func Run(args map[string]any) (any, error) {
	a, _ := args["a"].(float64)
	b, _ := args["b"].(float64)
	fmt.Println("adding", a, b)
	return map[string]any{"sum": a + b}, nil
}
`

func newFunctions(t *testing.T, lim Limits) *Functions {
	t.Helper()
	return New(filepath.Join(t.TempDir(), "functions"), lim)
}

// run runs source as the function name and fails the test if the call
// took longer than the limit allows.
func run(t *testing.T, f *Functions, name, source, args string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	return f.Run(ctx, name, source, args)
}

// stillWorks calls a good handler after a bad one: Plotline, the test
// process, lives on, and so do local functions.
func stillWorks(t *testing.T, f *Functions) {
	t.Helper()
	if r := run(t, f, "add", addSource, `{"a":1,"b":2}`); r.Error != "" || r.Output != `{"sum":3}` {
		t.Fatalf("a good call after a bad one: %+v", r)
	}
}

// wantError checks that r failed with an error containing each of parts,
// and that its Output is that error in the documented shape.
func wantError(t *testing.T, r Result, parts ...string) {
	t.Helper()
	if r.Error == "" {
		t.Fatalf("the call did not fail: %+v", r)
	}
	for _, p := range parts {
		if !strings.Contains(r.Error, p) {
			t.Errorf("error %q does not contain %q", r.Error, p)
		}
	}
	var shape map[string]string
	if err := json.Unmarshal([]byte(r.Output), &shape); err != nil || len(shape) != 1 || shape["error"] != r.Error {
		t.Errorf("output %q is not {\"error\": %q}", r.Output, r.Error)
	}
}

func TestHandlerReturnsJSON(t *testing.T) {
	f := newFunctions(t, Limits{})
	r := run(t, f, "add", addSource, `{"a":1.5,"b":2}`)
	if r.Error != "" || r.Output != `{"sum":3.5}` {
		t.Fatalf("result = %+v", r)
	}
	if r.Logs != "adding 1.5 2\n" {
		t.Errorf("logs = %q", r.Logs)
	}
	// A string is given as it is; any other value as JSON.
	r = run(t, f, "greet", `package greet

import "strings"

func Run(args map[string]any) (any, error) {
	return "Hello, " + strings.ToUpper(args["name"].(string)), nil
}
`, `{"name":"Ada"}`)
	if r.Error != "" || r.Output != "Hello, ADA" {
		t.Fatalf("string result = %+v", r)
	}
	r = run(t, f, "none", "package main\n\nfunc Run(args map[string]any) (any, error) { return nil, nil }\n", "")
	if r.Error != "" || r.Output != "null" {
		t.Fatalf("nil result with no arguments = %+v", r)
	}
}

func TestHandlerErrorIsTheOutput(t *testing.T) {
	f := newFunctions(t, Limits{})
	r := run(t, f, "weather", `package main

import "errors"

func Run(args map[string]any) (any, error) { return nil, errors.New("no such city: Atlantis") }
`, `{"city":"Atlantis"}`)
	wantError(t, r, "no such city: Atlantis")
	if r.Output != `{"error":"no such city: Atlantis"}` {
		t.Errorf("output = %s", r.Output)
	}
}

func TestNoStateIsKeptBetweenCalls(t *testing.T) {
	f := newFunctions(t, Limits{})
	src := `package main

var calls int

func Run(args map[string]any) (any, error) {
	calls++
	return calls, nil
}
`
	for i := 0; i < 2; i++ {
		if r := run(t, f, "count", src, "{}"); r.Output != "1" {
			t.Fatalf("call %d: %+v", i+1, r)
		}
	}
}

func TestLoopForeverIsStoppedAtTheTimeout(t *testing.T) {
	f := newFunctions(t, Limits{Timeout: 3 * time.Second})
	r := run(t, f, "spin", `package main

func Run(args map[string]any) (any, error) {
	n := 0
	for {
		n++
	}
}
`, "{}")
	wantError(t, r, "the function spin ran past its 3s time limit and was stopped")
	stillWorks(t, f)
}

func TestPanicIsAnError(t *testing.T) {
	f := newFunctions(t, Limits{})
	r := run(t, f, "boom", `package main

func Run(args map[string]any) (any, error) {
	var xs []int
	return xs[3], nil
}
`, "{}")
	wantError(t, r, "the function boom panicked:", "index out of range")
	r = run(t, f, "boom", `package main

func Run(args map[string]any) (any, error) { panic("on purpose") }
`, "{}")
	wantError(t, r, "the function boom panicked: on purpose")
	// A goroutine's panic ends the worker, not Plotline.
	r = run(t, f, "boom", `package main

import "time"

func Run(args map[string]any) (any, error) {
	go func() { panic("in a goroutine") }()
	time.Sleep(5 * time.Second)
	return 1, nil
}
`, "{}")
	wantError(t, r, "the function boom crashed:", "in a goroutine")
	stillWorks(t, f)
}

func TestImportOutsideTheAllowListIsRefusedByName(t *testing.T) {
	f := newFunctions(t, Limits{})
	r := run(t, f, "shell", `package main

import (
	"fmt"
	"os/exec"
)

func Run(args map[string]any) (any, error) {
	out, err := exec.Command("id").Output()
	return fmt.Sprint(string(out)), err
}
`, "{}")
	wantError(t, r, `shell.go:5:2: shell.go imports "os/exec", which local functions may not use`, "they may import bufio, bytes,")
	stillWorks(t, f)
}

// Every route a handler might take to the host's files or the network is
// closed: the packages that open files, sockets or processes, or reach
// memory, are not there to import; those that are cannot be led to a file.
func TestNoFilesNoNetwork(t *testing.T) {
	f := newFunctions(t, Limits{})
	for name, src := range map[string]string{
		"os":        `import "os"; func Run(args map[string]any) (any, error) { b, err := os.ReadFile("/etc/passwd"); return string(b), err }`,
		"ioutil":    `import "io/ioutil"; func Run(args map[string]any) (any, error) { b, err := ioutil.ReadFile("/etc/passwd"); return string(b), err }`,
		"fs":        `import "io/fs"; func Run(args map[string]any) (any, error) { var x fs.FS; return x, nil }`,
		"net":       `import "net"; func Run(args map[string]any) (any, error) { c, err := net.Dial("tcp", "1.1.1.1:80"); return c, err }`,
		"http":      `import "net/http"; func Run(args map[string]any) (any, error) { r, err := http.Get("http://example.com"); return r, err }`,
		"syscall":   `import "syscall"; func Run(args map[string]any) (any, error) { fd, err := syscall.Open("/etc/passwd", 0, 0); return fd, err }`,
		"unsafe":    `import "unsafe"; func Run(args map[string]any) (any, error) { return unsafe.Sizeof(1), nil }`,
		"reflect":   `import "reflect"; func Run(args map[string]any) (any, error) { return reflect.TypeOf(1).String(), nil }`,
		"plugin":    `import "plugin"; func Run(args map[string]any) (any, error) { p, err := plugin.Open("/x.so"); return p, err }`,
		"debug":     `import "runtime/debug"; func Run(args map[string]any) (any, error) { debug.SetMaxStack(1); return 1, nil }`,
		"cgo":       `import "C"; func Run(args map[string]any) (any, error) { return 1, nil }`,
		"dotdot":    `import "strings/../os"; func Run(args map[string]any) (any, error) { return 1, nil }`,
		"yaegi":     `import "github.com/traefik/yaegi/stdlib"; func Run(args map[string]any) (any, error) { return len(stdlib.Symbols), nil }`,
		"embed":     "import _ \"embed\"\n//go:embed passwd\nvar s string\nfunc Run(args map[string]any) (any, error) { return s, nil }",
		"aliasedOS": `import fmt "os"; func Run(args map[string]any) (any, error) { return fmt.Getpid(), nil }`,
	} {
		r := run(t, f, "escape", "package main\n"+src+"\n", "{}")
		if r.Error == "" || !strings.Contains(r.Error, "which local functions may not use") {
			t.Errorf("%s: %+v", name, r)
		}
	}
	// time is allowed; its one reader of files takes no path.
	r := run(t, f, "zone", `package main

import "time"

func Run(args map[string]any) (any, error) {
	_, err := time.LoadLocation("../../../../etc/passwd")
	return nil, err
}
`, "{}")
	wantError(t, r, "invalid location name")
	stillWorks(t, f)
}

func TestMemoryCap(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's shadow memory does not fit the worker's address space")
	}
	f := newFunctions(t, Limits{})
	r := run(t, f, "hog", `package main

import "strings"

func Run(args map[string]any) (any, error) {
	s := strings.Repeat("x", 2<<30)
	return len(s), nil
}
`, "{}")
	wantError(t, r, "the function hog ", "memory limit")
	// Growing by small steps reaches the cap too.
	r = run(t, f, "hog", `package main

func Run(args map[string]any) (any, error) {
	var keep [][]byte
	for {
		b := make([]byte, 1<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		keep = append(keep, b)
	}
}
`, "{}")
	wantError(t, r, "the function hog ", "memory limit")
	stillWorks(t, f)
}

func TestSyntaxErrorNamesTheLine(t *testing.T) {
	f := newFunctions(t, Limits{})
	r := run(t, f, "broken", `package main

func Run(args map[string]any) (any, error) {
	x :=
	return x, nil
}
`, "{}")
	wantError(t, r, "broken.go:5:")
	// A type error, which only yaegi finds, names the line too.
	r = run(t, f, "broken", `package main

func Run(args map[string]any) (any, error) {
	return undefinedThing, nil
}
`, "{}")
	wantError(t, r, "broken.go:4:", "undefined")
	stillWorks(t, f)
}

func TestOutputIsCapped(t *testing.T) {
	f := newFunctions(t, Limits{})
	r := run(t, f, "big", `package main

import "strings"

func Run(args map[string]any) (any, error) { return strings.Repeat("x", 1<<20), nil }
`, "{}")
	wantError(t, r, "the function big returned 1 MiB; a function's output is limited to 64 KiB")
	// Printing megabytes is not the output: the call answers, and what it
	// printed is kept up to the cap.
	r = run(t, f, "chatty", `package main

import (
	"fmt"
	"strings"
)

func Run(args map[string]any) (any, error) {
	line := strings.Repeat("y", 1023)
	for i := 0; i < 8<<10; i++ {
		fmt.Println(line)
	}
	return "done", nil
}
`, "{}")
	if r.Error != "" || r.Output != "done" {
		t.Fatalf("result = %+v", r)
	}
	if !strings.HasPrefix(r.Logs, "yyy") || !strings.Contains(r.Logs, "more output not shown") || len(r.Logs) > 65<<10 {
		t.Fatalf("logs of %d bytes end %q", len(r.Logs), r.Logs[max(0, len(r.Logs)-80):])
	}
	stillWorks(t, f)
}

func TestBadHandlersAndArguments(t *testing.T) {
	f := newFunctions(t, Limits{})
	for _, c := range []struct{ name, src, args, want string }{
		{"nojson", "package main\nfunc Run(args map[string]any) (any, error) { return func() {}, nil }\n", "{}",
			"the function nojson returned a value that cannot be encoded as JSON"},
		{"norun", "package main\nfunc Handle(args map[string]any) (any, error) { return 1, nil }\n", "{}",
			"norun.go does not define func Run(args map[string]any) (any, error)"},
		{"wrongsig", "package main\nfunc Run(args map[string]any) any { return 1 }\n", "{}",
			"wrongsig.go: Run is func(map[string]interface {}) interface {}; it must be func(args map[string]any) (any, error)"},
		{"args", addSource, `[1, 2]`, "the arguments are not a JSON object"},
		{"args", addSource, `{"a":`, "the arguments are not a JSON object"},
		{"../etc/x", addSource, `{}`, `"../etc/x" is not a function name`},
	} {
		wantError(t, run(t, f, c.name, c.src, c.args), c.want)
	}
	stillWorks(t, f)
}

func TestCancelStopsTheCall(t *testing.T) {
	f := newFunctions(t, Limits{Timeout: time.Minute})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Result, 1)
	go func() {
		done <- f.Run(ctx, "spin", "package main\nfunc Run(args map[string]any) (any, error) { for {} }\n", "{}")
	}()
	cancel()
	select {
	case r := <-done:
		wantError(t, r, "the call of spin was stopped")
	case <-time.After(30 * time.Second):
		t.Fatal("a cancelled call went on")
	}
}

func TestSaveSourceHasCall(t *testing.T) {
	f := newFunctions(t, Limits{})
	if f.Has("add") {
		t.Fatal("Has before Save")
	}
	wantError(t, f.Call(context.Background(), "add", "{}"), "the function add has no handler (functions/add.go)")
	if err := f.Save("add", addSource); err != nil {
		t.Fatal(err)
	}
	if !f.Has("add") {
		t.Fatal("no handler after Save")
	}
	if src, err := f.Source("add"); err != nil || src != addSource {
		t.Fatalf("Source = %q, %v", src, err)
	}
	fi, err := os.Stat(filepath.Join(f.Dir(), "add.go"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("handler file: %v, %v", fi, err)
	}
	if r := f.Call(context.Background(), "add", `{"a":2,"b":2}`); r.Output != `{"sum":4}` {
		t.Fatalf("Call = %+v", r)
	}
	// Names that are not function names never become paths.
	for _, bad := range []string{"", "../add", "a/b", "a.go", strings.Repeat("x", 65)} {
		if f.Has(bad) || f.Save(bad, addSource) == nil {
			t.Errorf("name %q was accepted", bad)
		}
	}
	if ents, _ := os.ReadDir(f.Dir()); len(ents) != 1 {
		t.Errorf("the folder holds %d entries", len(ents))
	}
}

func TestCappedBuffer(t *testing.T) {
	c := newCappedBuffer(4)
	c.Write([]byte("ab"))
	c.Write([]byte("cdef"))
	c.Write([]byte("g"))
	if got := c.String(); got != "abcd\n[3 bytes more output not shown]\n" {
		t.Fatalf("String = %q", got)
	}
}

// The symbols handlers get are those of the Allowed packages: each of
// them, and no other package.
func TestSymbolsAreTheAllowedPackages(t *testing.T) {
	got := map[string]bool{}
	for key := range allowedSymbols() {
		if key != "." {
			got[path.Dir(key)] = true
		}
	}
	for _, p := range Allowed {
		if !got[p] {
			t.Errorf("no symbols for %s: run go generate in interpreter/goscript/symbols", p)
		}
		delete(got, p)
	}
	for p := range got {
		t.Errorf("symbols for %s, which is not allowed", p)
	}
}

// The generic slices package, and values that print or encode themselves,
// work as in Go.
func TestGenericsAndStringers(t *testing.T) {
	f := newFunctions(t, Limits{})
	r := run(t, f, "tidy", `package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

type money float64

func (m money) String() string { return fmt.Sprintf("$%.2f", float64(m)) }

type point struct{ X, Y int }

func (p point) MarshalJSON() ([]byte, error) { return []byte(fmt.Sprintf("[%d,%d]", p.X, p.Y)), nil }

func Run(args map[string]any) (any, error) {
	names := []string{"oslo", "rome", "lima"}
	sort.Strings(names)
	js, err := json.Marshal(point{1, 2})
	return fmt.Sprint(strings.Join(names, " "), " ", slices.Index(names, "rome"), " ", slices.Contains(names, "oslo"), " ", money(3.5), " ", string(js)), err
}
`, "{}")
	if r.Error != "" || r.Output != `lima oslo rome 2 true $3.50 [1,2]` {
		t.Fatalf("%+v", r)
	}
}
