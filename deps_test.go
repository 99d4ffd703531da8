package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The dependency rules of DESIGN.md, as a test (after tailscale's
// tstest/deptest): dependencies point one way, ui/api/cli → engine →
// (app, adapters, interpreter, plotting) → sandbox. Each rule says why; an
// arrow that points back is a design bug, so fix the import, not the rule.
//
// Patterns are import paths; one ending in "/..." also matches every
// package below it and the path itself. Test files are not checked.
var depRules = []depRule{
	{
		name: "app imports nothing of ours",
		from: []string{"plotline/app"},
		bad:  []string{"plotline/..."},
		why:  "app is the domain: API types, events, the Store/Model/Interpreter interfaces; adapters implement them, never the reverse",
	},
	{
		name:   "ui ⇏ sqlite, openai, interpreter",
		from:   []string{"plotline/app/ui"},
		bad:    []string{"plotline/app/sqlite", "plotline/app/openai", "plotline/interpreter/..."},
		direct: true,
		why:    "the window drives the engine only; the store, the model and the kernels are wired by the composition root",
	},
	{
		name: "engine ⇏ interpreter",
		from: []string{"plotline/app/engine"},
		bad:  []string{"plotline/interpreter/..."},
		why:  "the engine runs code through the app.Interpreter interface; the sandboxed kernels are wired in by the composition root",
	},
	{
		name: "adapters ⇏ interpreter, ui",
		from: adapters,
		bad:  []string{"plotline/interpreter/...", "plotline/app/ui"},
		why:  "adapters serve the engine through app's interfaces; they neither run code nor know the window",
	},
	{
		name:   "api ⇏ sqlite, openai, ui",
		from:   []string{"plotline/app/api"},
		bad:    []string{"plotline/app/sqlite", "plotline/app/openai", "plotline/app/ui"},
		direct: true,
		why:    "the HTTP API drives the engine like every other entry point; it never reaches the store or the model itself",
	},
	{
		name:   "store and model adapters import only app",
		from:   []string{"plotline/app/sqlite", "plotline/app/openai", "plotline/app/settings", "plotline/app/export", "plotline/app/modeltest"},
		bad:    []string{"plotline/..."},
		except: []string{"plotline/app"},
		direct: true,
		why:    "DESIGN.md's layout: sqlite, openai, settings, export and modeltest may import app, nothing else of ours",
	},
	{
		name: "interpreter, plotting ⇏ app",
		from: []string{"plotline/interpreter/...", "plotline/plotting"},
		bad:  []string{"plotline/app/..."},
		why:  "the interpreter and plotting are libraries below the engine; they know nothing of runs, threads or the window",
	},
	{
		name:   "goscript imports only the sandbox and plotting",
		from:   []string{"plotline/interpreter/goscript"},
		bad:    []string{"plotline/..."},
		except: []string{"plotline/interpreter/sandbox", "plotline/interpreter/workerio", "plotline/interpreter/goscript/symbols", "plotline/plotting"},
		direct: true,
		why:    "local function tools run in a worker that this package starts in the sandbox; it needs the sandbox, and may offer plotting, but nothing of the interpreter's kernels or the app",
	},
	{
		name:   "starlark imports only the sandbox and plotting",
		from:   []string{"plotline/interpreter/starlark"},
		bad:    []string{"plotline/..."},
		except: []string{"plotline/interpreter/sandbox", "plotline/interpreter/workerio", "plotline/plotting"},
		direct: true,
		why:    "the Starlark runtime runs cells in a worker it starts in the sandbox, with plotting's tables and charts as built-ins; the kernels' manager and the app wire it in, never the reverse",
	},
	{
		name:   "workerio imports nothing of ours",
		from:   []string{"plotline/interpreter/workerio"},
		bad:    []string{"plotline/..."},
		direct: true,
		why:    "the frames and sizes the workers and their hosts share are a leaf both sides import",
	},
	{
		name:   "goscript's symbols import nothing of ours",
		from:   []string{"plotline/interpreter/goscript/symbols"},
		bad:    []string{"plotline/..."},
		direct: true,
		why:    "a local function reaches only the standard packages these symbols wrap",
	},
	{
		name:   "packaging imports nothing of ours",
		from:   []string{"plotline/packaging"},
		bad:    []string{"plotline/..."},
		direct: true,
		why:    "the installers are built from binaries already built, and from files; the program itself is none of their business",
	},
	{
		name: "sandbox imports nothing of ours",
		from: []string{"plotline/interpreter/sandbox"},
		bad:  []string{"plotline/..."},
		why:  "the sandbox runs as init inside the confinement; it is OS code only (x/sys), so it stays small and auditable",
	},
	{
		name:   "only the composition root wires engine and sqlite",
		from:   []string{"plotline/..."},
		except: append([]string{"plotline", "plotline/app/cli/..."}, testHelpers...),
		bad:    []string{"plotline/app/engine", "plotline/app/sqlite"},
		all:    true,
		direct: true,
		why:    "one composition root (app/cli and its wiring) builds the engine on its store, so every entry point runs the same system",
	},
	{
		name:   "test helpers stay in tests",
		from:   []string{"plotline/..."},
		bad:    testHelpers,
		direct: true,
		why:    "apptest and interptest wire real engines and kernels for tests; the shipped binary must not depend on them",
	},
}

// adapters implement app's interfaces or serve the engine from outside.
var adapters = []string{
	"plotline/app/sqlite", "plotline/app/openai", "plotline/app/api",
	"plotline/app/export", "plotline/app/settings", "plotline/app/modeltest",
}

// testHelpers are imported by _test files only.
var testHelpers = []string{"plotline/app/apptest", "plotline/interpreter/interptest"}

// depRule forbids the packages matching from (less except) to depend on
// those matching bad.
type depRule struct {
	name   string
	from   []string
	except []string
	bad    []string
	direct bool // only direct imports count, not transitive dependencies
	all    bool // a package breaks the rule only by importing every bad one
	why    string
}

// pkgDeps is what `go list` says of one package.
type pkgDeps struct {
	Imports []string // direct
	Deps    []string // transitive
}

// violation is one package breaking one rule.
type violation struct {
	rule *depRule
	pkg  string
	deps []string
}

func (v violation) String() string {
	return fmt.Sprintf("%s: %s → %s\n\twhy: %s", v.rule.name, v.pkg, strings.Join(v.deps, ", "), v.rule.why)
}

// matchPkg reports whether path matches one of the patterns.
func matchPkg(path string, patterns []string) bool {
	for _, p := range patterns {
		if root, ok := strings.CutSuffix(p, "/..."); ok {
			if path == root || strings.HasPrefix(path, root+"/") {
				return true
			}
		} else if path == p {
			return true
		}
	}
	return false
}

// checkDeps returns every violation of rules in graph, in a stable order.
func checkDeps(graph map[string]pkgDeps, rules []depRule) []violation {
	var pkgs []string
	for p := range graph {
		pkgs = append(pkgs, p)
	}
	slices.Sort(pkgs)
	var out []violation
	for i := range rules {
		r := &rules[i]
		for _, p := range pkgs {
			if !matchPkg(p, r.from) || matchPkg(p, r.except) {
				continue
			}
			deps := graph[p].Deps
			if r.direct {
				deps = graph[p].Imports
			}
			var hit []string
			for _, d := range deps {
				if d != p && matchPkg(d, r.bad) && !matchPkg(d, r.except) {
					hit = append(hit, d)
				}
			}
			if r.all && len(hit) < len(r.bad) {
				continue
			}
			if len(hit) > 0 {
				out = append(out, violation{r, p, hit})
			}
		}
	}
	return out
}

// unmatchedRules names the rules whose from patterns match no package: a
// renamed package would otherwise leave its rule checking nothing.
func unmatchedRules(graph map[string]pkgDeps, rules []depRule) []string {
	var out []string
	for _, r := range rules {
		for _, f := range r.from {
			found := false
			for p := range graph {
				found = found || matchPkg(p, []string{f})
			}
			if !found {
				out = append(out, fmt.Sprintf("%s: no package matches %s", r.name, f))
			}
		}
	}
	return out
}

// listModule runs `go list` once over the module, with the build tags of
// GOFLAGS (the Makefile exports -tags=migrated_fynedo), and returns the
// module's own packages.
func listModule(t *testing.T) map[string]pkgDeps {
	t.Helper()
	cmd := exec.Command("go", "list", "-e", "-json=ImportPath,Imports,Deps,Error", "./...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	graph := map[string]pkgDeps{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct {
			ImportPath string
			Imports    []string
			Deps       []string
			Error      *struct{ Err string }
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		if p.Error != nil {
			t.Errorf("go list %s: %s", p.ImportPath, p.Error.Err)
		}
		if p.ImportPath == "plotline" || strings.HasPrefix(p.ImportPath, "plotline/") {
			graph[p.ImportPath] = pkgDeps{p.Imports, p.Deps}
		}
	}
	return graph
}

func TestDeps(t *testing.T) {
	graph := listModule(t)
	for _, u := range unmatchedRules(graph, depRules) {
		t.Errorf("rule checks nothing: %s", u)
	}
	for _, v := range checkDeps(graph, depRules) {
		t.Errorf("%v", v)
	}
}

// TestDepsChecker runs the checker on a made-up graph that breaks rules,
// so that a checker reporting nothing cannot pass for a clean module.
func TestDepsChecker(t *testing.T) {
	graph := map[string]pkgDeps{
		"plotline/app": {Imports: []string{"context"}, Deps: []string{"context"}},
		// ui imports the store directly, the engine reaches the sandbox,
		// and app/wiring is a second composition root beside app/cli/wiring.
		"plotline/app/ui":              {Imports: []string{"plotline/app/engine", "plotline/app/sqlite"}, Deps: []string{"plotline/app/engine", "plotline/app/sqlite", "plotline/plotting"}},
		"plotline/app/engine":          {Imports: []string{"plotline/app", "plotline/plotting"}, Deps: []string{"plotline/app", "plotline/plotting", "plotline/interpreter/sandbox"}},
		"plotline/app/sqlite":          {Imports: []string{"plotline/app"}, Deps: []string{"plotline/app"}},
		"plotline/app/cli":             {Imports: []string{"plotline/app/engine", "plotline/app/sqlite"}, Deps: []string{"plotline/app/engine", "plotline/app/sqlite"}},
		"plotline/app/cli/wiring":      {Imports: []string{"plotline/app/engine", "plotline/app/sqlite"}, Deps: []string{"plotline/app/engine", "plotline/app/sqlite"}},
		"plotline/app/wiring":          {Imports: []string{"plotline/app/engine", "plotline/app/sqlite"}, Deps: []string{"plotline/app/engine", "plotline/app/sqlite"}},
		"plotline/plotting":            {Deps: []string{"plotline/interpreter/sandbox"}},
		"plotline/interpreter":         {Imports: []string{"plotline/application"}, Deps: []string{"plotline/application"}},
		"plotline/application":         {},
		"plotline/interpreter/sandbox": {},
	}
	var got []string
	for _, v := range checkDeps(graph, depRules) {
		got = append(got, v.rule.name+": "+v.pkg+" → "+strings.Join(v.deps, ", "))
	}
	want := []string{
		"ui ⇏ sqlite, openai, interpreter: plotline/app/ui → plotline/app/sqlite",
		"engine ⇏ interpreter: plotline/app/engine → plotline/interpreter/sandbox",
		"only the composition root wires engine and sqlite: plotline/app/ui → plotline/app/engine, plotline/app/sqlite",
		"only the composition root wires engine and sqlite: plotline/app/wiring → plotline/app/engine, plotline/app/sqlite",
	}
	if !slices.Equal(got, want) {
		t.Errorf("violations:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
	if u := unmatchedRules(graph, depRules); !slices.Contains(u, "api ⇏ sqlite, openai, ui: no package matches plotline/app/api") {
		t.Errorf("unmatchedRules = %q, want api's rule among them", u)
	}
}
