package starlark

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"plotline/interpreter/sandbox"
)

// The worker tests start the test binary again as the sandbox's init and
// then as the worker (this package's init), as the plotline binary does.
func TestMain(m *testing.M) {
	sandbox.MaybeRunInit()
	os.Exit(m.Run())
}

// salesCSV is the known table of the built-in tests.
const salesCSV = `date,region,revenue,units,ok
2024-01-05,North,100.5,1,true
2024-01-20,South,200,2,false
2024-02-03,North,50,3,true
2024-02-14,East,25.25,,true
2024-03-01,South,300,5,false
`

// open starts an in-process session on a temporary folder holding
// sales.csv.
func open(t *testing.T, opts Options) *Session {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "sales.csv"), []byte(salesCSV), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func inProcess(t *testing.T) *Session { return open(t, Options{Mode: ModeInProcess}) }

// run runs code and fails the test if the cell could not run.
func run(t *testing.T, s *Session, code string) *Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := s.Exec(ctx, code, nil)
	if err != nil {
		t.Fatalf("Exec(%q): %v", code, err)
	}
	return r
}

// ok runs code that must not fail and returns what it printed.
func ok(t *testing.T, s *Session, code string) string {
	t.Helper()
	r := run(t, s, code)
	if r.Error != nil {
		t.Fatalf("cell %q failed: %s: %s\n%s", code, r.Error.Name, r.Error.Message, r.Error.Traceback)
	}
	return r.Stdout
}

// value runs code and returns the repr of its last expression.
func value(t *testing.T, s *Session, code string) string {
	t.Helper()
	r := run(t, s, code)
	if r.Error != nil {
		t.Fatalf("cell %q failed: %s: %s", code, r.Error.Name, r.Error.Message)
	}
	if r.Value == nil {
		t.Fatalf("cell %q has no value", code)
	}
	return *r.Value
}

// failsWith runs code, checks that it failed with the error name and that
// the message holds each of parts, and returns the error.
func failsWith(t *testing.T, s *Session, code, name string, parts ...string) *CellError {
	t.Helper()
	r := run(t, s, code)
	if r.Error == nil {
		t.Fatalf("cell %q did not fail; printed %q", code, r.Stdout)
	}
	if r.Error.Name != name {
		t.Errorf("cell %q: error %s (%s), want %s", code, r.Error.Name, r.Error.Message, name)
	}
	for _, p := range parts {
		if !strings.Contains(r.Error.Message, p) {
			t.Errorf("cell %q: message %q lacks %q", code, r.Error.Message, p)
		}
	}
	return r.Error
}

func TestGlobalsPersistBetweenCells(t *testing.T) {
	s := inProcess(t)
	ok(t, s, "x = 1\ndef double(n):\n    return 2 * n\n")
	ok(t, s, "x += 1")
	ok(t, s, "x = double(x)")
	if got := value(t, s, "x"); got != "4" {
		t.Errorf("x = %s, want 4", got)
	}
	if got := ok(t, s, "print('x is', x)"); got != "x is 4\n" {
		t.Errorf("printed %q", got)
	}
}

func TestValueIsTheLastExpression(t *testing.T) {
	s := inProcess(t)
	if got := value(t, s, "a = [1, 2]\na + [3]"); got != "[1, 2, 3]" {
		t.Errorf("value %s", got)
	}
	if got := value(t, s, `"text"`); got != `"text"` {
		t.Errorf("value %s, want the string's repr", got)
	}
	if r := run(t, s, "b = 1"); r.Value != nil {
		t.Errorf("an assignment has value %q", *r.Value)
	}
	if r := run(t, s, "print('hi')"); r.Value != nil || r.Stdout != "hi\n" {
		t.Errorf("print: value %v, stdout %q", r.Value, r.Stdout)
	}
}

func TestTableColumnsAndValues(t *testing.T) {
	s := inProcess(t)
	ok(t, s, `t = table.read("sales.csv")`)
	if got := value(t, s, "t.columns"); got != `["date", "region", "revenue", "units", "ok"]` {
		t.Errorf("columns %s", got)
	}
	if got := value(t, s, "len(t)"); got != "5" {
		t.Errorf("len %s", got)
	}
	for code, want := range map[string]string{
		`t.column("date")`:            `["2024-01-05", "2024-01-20", "2024-02-03", "2024-02-14", "2024-03-01"]`,
		`t.column("units")`:           `[1, 2, 3, None, 5]`,
		`t.column("revenue")`:         `[100.5, 200.0, 50.0, 25.25, 300.0]`,
		`t.column("ok")`:              `[True, False, True, True, False]`,
		`t[0]["region"]`:              `"North"`,
		`[r["units"] for r in t][:2]`: `[1, 2]`,
	} {
		if got := value(t, s, code); got != want {
			t.Errorf("%s = %s, want %s", code, got, want)
		}
	}
	failsWith(t, s, `t.column("price")`, "EvalError", `no column "price"`)
}

func TestTableHeadFilterSort(t *testing.T) {
	s := inProcess(t)
	ok(t, s, `t = table.read("sales.csv")`)
	for code, want := range map[string]string{
		`len(t.head(2))`:             "2",
		`t.head(2).column("region")`: `["North", "South"]`,
		`t.filter(lambda r: r["region"] == "North").column("revenue")`: `[100.5, 50.0]`,
		`t.sort("revenue").column("revenue")`:                          `[25.25, 50.0, 100.5, 200.0, 300.0]`,
		`t.sort("revenue", reverse=True).column("region")[0]`:          `"South"`,
		`t.sort("units").column("units")`:                              `[1, 2, 3, 5, None]`,
	} {
		if got := value(t, s, code); got != want {
			t.Errorf("%s = %s, want %s", code, got, want)
		}
	}
	// An error inside the filter's function stops the cell with it.
	e := failsWith(t, s, "t.filter(lambda r: r['nope'])", "EvalError", "nope")
	if !strings.Contains(e.Traceback, "cell:1") {
		t.Errorf("traceback %q does not name the line", e.Traceback)
	}
}

func TestTableGroupBy(t *testing.T) {
	s := inProcess(t)
	ok(t, s, `t = table.read("sales.csv")`)
	ok(t, s, `g = t.group_by("region", revenue="sum", n="count", avg=("units", "mean"))`)
	for code, want := range map[string]string{
		`g.columns`:           `["region", "revenue", "n", "avg"]`,
		`g.column("region")`:  `["North", "South", "East"]`,
		`g.column("revenue")`: `[150.5, 500.0, 25.25]`,
		`g.column("n")`:       `[2, 2, 1]`,
		`g.column("avg")`:     `[2.0, 3.5, None]`,
	} {
		if got := value(t, s, code); got != want {
			t.Errorf("%s = %s, want %s", code, got, want)
		}
	}
	failsWith(t, s, `t.group_by("region", revenue="total")`, "EvalError", "no aggregate")
	failsWith(t, s, `t.group_by("region")`, "EvalError", "at least one aggregate")
}

func TestTableResampleByMonth(t *testing.T) {
	s := inProcess(t)
	ok(t, s, `m = table.read("sales.csv").resample("date", "month", revenue="sum")`)
	for code, want := range map[string]string{
		`m.column("date")`:    `["2024-01-01", "2024-02-01", "2024-03-01"]`,
		`m.column("revenue")`: `[300.5, 75.25, 300.0]`,
	} {
		if got := value(t, s, code); got != want {
			t.Errorf("%s = %s, want %s", code, got, want)
		}
	}
	failsWith(t, s, `table.read("sales.csv").resample("region", "month", revenue="sum")`, "EvalError", "date")
}

func TestTableToCSVReadsBack(t *testing.T) {
	s := inProcess(t)
	r := run(t, s, `table.read("sales.csv").group_by("region", revenue="sum").to_csv("out/by_region.csv")`)
	if r.Error == nil || !strings.Contains(r.Error.Message, "out/by_region.csv") {
		t.Errorf("writing into a missing folder: %+v", r.Error)
	}
	r = run(t, s, `table.read("sales.csv").group_by("region", revenue="sum").to_csv("by_region.csv")`)
	if r.Error != nil || len(r.Files) != 1 || r.Files[0] != "by_region.csv" {
		t.Fatalf("to_csv: files %q, error %+v", r.Files, r.Error)
	}
	if got := value(t, s, `table.read("by_region.csv").column("revenue")`); got != "[150.5, 500.0, 25.25]" {
		t.Errorf("read back %s", got)
	}
	b, err := os.ReadFile(filepath.Join(s.Dir(), "by_region.csv"))
	if err != nil || !strings.HasPrefix(string(b), "region,revenue\nNorth,150.5\n") {
		t.Errorf("the file holds %q (%v)", b, err)
	}
}

func TestPrintTableIsAligned(t *testing.T) {
	s := inProcess(t)
	out := ok(t, s, `print(table.read("sales.csv").head(2))`)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) < 3 || !strings.Contains(lines[0], "region") || !strings.Contains(out, "North") {
		t.Fatalf("printed %q", out)
	}
	if i, j := strings.Index(lines[0], "revenue"), strings.Index(lines[len(lines)-1], "200"); i < 0 || j < 0 {
		t.Errorf("printed %q", out)
	}
}

func TestChartsArePNGs(t *testing.T) {
	s := inProcess(t)
	ok(t, s, `t = table.read("sales.csv")`)
	for _, code := range []string{
		`chart.bar(t, x="region", y="revenue", title="Revenue")`,
		`chart.line(t, x="date", y="revenue")`,
		`chart.scatter(t, x="units", y="revenue")`,
		`chart.hist(t, y="revenue")`,
		`chart.box(t, x="region", y="revenue")`,
	} {
		r := run(t, s, code)
		if r.Error != nil {
			t.Errorf("%s: %s", code, r.Error.Message)
			continue
		}
		if r.Value != nil || len(r.Images) != 1 {
			t.Errorf("%s: value %v, %d images", code, r.Value, len(r.Images))
			continue
		}
		img, err := png.Decode(bytes.NewReader(r.Images[0]))
		if err != nil {
			t.Errorf("%s: %v", code, err)
			continue
		}
		if b := img.Bounds(); b.Dx() != 960 || b.Dy() != 540 {
			t.Errorf("%s: %v, want 960×540", code, b)
		}
	}
	failsWith(t, s, `chart.bar(t, x="nope", y="revenue")`, "EvalError", "nope")
}

func TestModules(t *testing.T) {
	s := inProcess(t)
	for code, want := range map[string]string{
		`math.sqrt(16)`:                     "4.0",
		`json.encode({"a": [1, 2]})`:        `"{\"a\":[1,2]}"`,
		`json.decode('{"b": 3}')["b"]`:      "3",
		`time.parse_duration("1m").seconds`: "60.0",
	} {
		if got := value(t, s, code); got != want {
			t.Errorf("%s = %s, want %s", code, got, want)
		}
	}
}

func TestRuntimeErrorNamesItsLine(t *testing.T) {
	s := inProcess(t)
	e := failsWith(t, s, "a = 1\nb = 0\nc = a // b\n", "EvalError", "division by zero")
	if !strings.Contains(e.Traceback, "cell:3") {
		t.Errorf("traceback %q does not name line 3", e.Traceback)
	}
	e = failsWith(t, s, "x = 1\ny = (\n", "SyntaxError")
	if !strings.Contains(e.Message, "cell:") {
		t.Errorf("syntax error %q has no position", e.Message)
	}
}

func TestPythonStatementsGetHints(t *testing.T) {
	s := inProcess(t)
	failsWith(t, s, "import pandas as pd\ndf = pd.read_csv('sales.csv')", "SyntaxError", "Starlark has no import", "table.read(name)")
	failsWith(t, s, "from math import sqrt", "SyntaxError", "Starlark has no import")
	failsWith(t, s, "try:\n    x = 1\nexcept:\n    pass", "SyntaxError", "no try/except")
	failsWith(t, s, "class A:\n    pass", "SyntaxError", "no classes")
	failsWith(t, s, "i = 0\nwhile i < 3:\n    i += 1", "SyntaxError", "no while loops")
	failsWith(t, s, `load("x.star", "y")`, "EvalError", "Starlark has no import")
}

func TestStepLimit(t *testing.T) {
	s := open(t, Options{Mode: ModeInProcess, Limits: Limits{Steps: 1_000_000}})
	e := failsWith(t, s, "n = 0\nfor i in range(1000000000000):\n    n += i\n", "LimitError", "Starlark steps")
	if !strings.Contains(e.Traceback, "cell:") {
		t.Errorf("traceback %q", e.Traceback)
	}
	// The globals are kept, and the next cell has its own steps.
	if got := value(t, s, "n > 0"); got != "True" {
		t.Errorf("n > 0 is %s", got)
	}
}

func TestTimeLimitAndCancel(t *testing.T) {
	s := open(t, Options{Mode: ModeInProcess, Limits: Limits{Timeout: 200 * time.Millisecond}})
	failsWith(t, s, "for i in range(1000000000000):\n    pass\n", "TimeoutError", "time limit")

	s = inProcess(t)
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	go func() {
		<-started
		cancel()
	}()
	var once bool
	r, err := s.Exec(ctx, "print('go')\nfor i in range(1000000000000):\n    pass\n", func([]byte) {
		if !once {
			once = true
			close(started)
		}
	})
	if err != nil || r.Error == nil || r.Error.Name != "Cancelled" {
		t.Errorf("cancelled cell: %+v, %v", r, err)
	}
}

func TestOutputLimit(t *testing.T) {
	s := inProcess(t)
	var streamed int
	r, err := s.Exec(context.Background(), `line = "x" * 1023
for i in range(1024):
    print(line)
`, func(p []byte) { streamed += len(p) })
	if err != nil || r.Error != nil {
		t.Fatalf("%+v %v", r.Error, err)
	}
	if !strings.HasPrefix(r.Stdout, strings.Repeat("x", 1023)+"\n") || !strings.Contains(r.Stdout, "[output cut") {
		t.Errorf("stdout starts %q, ends %q", r.Stdout[:40], r.Stdout[len(r.Stdout)-120:])
	}
	if n := strings.Count(r.Stdout, "x"); n != DefaultOutput-DefaultOutput/1024 {
		t.Errorf("%d x kept, want %d", n, DefaultOutput-DefaultOutput/1024)
	}
	if streamed != len(r.Stdout) {
		t.Errorf("streamed %d bytes, the result holds %d", streamed, len(r.Stdout))
	}
}

func TestScriptCannotReachHostPaths(t *testing.T) {
	s := inProcess(t)
	outside := filepath.Join(t.TempDir(), "secret.csv")
	if err := os.WriteFile(outside, []byte("a\n1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(s.Dir(), "link.csv")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(s.Dir(), "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Dir(outside), filepath.Join(s.Dir(), "sub", "up")); err != nil {
		t.Fatal(err)
	}
	for code, want := range map[string]string{
		`table.read("../../etc/passwd.csv")`:         "not a file name",
		`table.read("/etc/passwd.csv")`:              "not a file name",
		`table.read("a\\b.csv")`:                     "not a file name",
		`table.read("/etc/passwd")`:                  "not a table file",
		`table.read("link.csv")`:                     "a link",
		`table.read("sub/up/secret.csv")`:            "out of the work folder",
		`table.read("missing.csv")`:                  "no file missing.csv",
		`table.read("sub.csv")`:                      "no file",
		`table.read("sales.csv").to_csv("link.csv")`: "a link",
		`table.read("sales.csv").to_csv("../x.csv")`: "not a file name",
	} {
		e := failsWith(t, s, code, "EvalError", want)
		if strings.Contains(e.Message, s.Dir()) {
			t.Errorf("%s: the message %q shows the host's path", code, e.Message)
		}
	}
	if b, _ := os.ReadFile(outside); string(b) != "a\n1\n" {
		t.Errorf("the file outside became %q", b)
	}
}

func TestSessionFiles(t *testing.T) {
	s := inProcess(t)
	name, err := s.AddFile("sales.csv", strings.NewReader("a\n1\n"))
	if err != nil || name != "sales (1).csv" {
		t.Fatalf("AddFile: %q, %v", name, err)
	}
	if got := value(t, s, `len(table.read("sales (1).csv"))`); got != "1" {
		t.Errorf("len %s", got)
	}
	files := s.Files()
	if len(files) != 2 || files[0].Name != "sales (1).csv" || files[1].Name != "sales.csv" || files[1].Size != int64(len(salesCSV)) {
		t.Errorf("Files = %+v", files)
	}
	f, err := s.OpenFile("sales.csv")
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := s.OpenFile("../sales.csv"); err == nil {
		t.Error("OpenFile left the folder")
	}
	if _, err := s.Unpack("sales.csv"); err != ErrNotArchive {
		t.Errorf("Unpack: %v", err)
	}
	if _, err := s.Exec(context.Background(), "  \n", nil); err != ErrEmptyCell {
		t.Errorf("empty cell: %v", err)
	}
	s.Close()
	if _, err := s.Exec(context.Background(), "1", nil); err != ErrSessionClosed {
		t.Errorf("after Close: %v", err)
	}
}

func TestPowerOperatorGetsHint(t *testing.T) {
	failsWith(t, inProcess(t), "x = 2 ** 10", "SyntaxError", "math.pow")
}

// The work folder's files may be named by their path in /mnt/data, as the
// model is told they are; no other path is read or written.
func TestWorkPathNames(t *testing.T) {
	s := inProcess(t)
	if got := value(t, s, `len(table.read("/mnt/data/sales.csv"))`); got != "5" {
		t.Errorf("rows %s", got)
	}
	ok(t, s, `table.read("/mnt/data/sales.csv").head(2).to_csv("/mnt/data/two.csv")`)
	if got := value(t, s, `len(table.read("two.csv"))`); got != "2" {
		t.Errorf("rows written %s", got)
	}
	failsWith(t, s, `table.read("/mnt/data/../sales.csv")`, "EvalError", "sales.csv")
	failsWith(t, s, `table.read("/mnt/other/sales.csv")`, "EvalError", "/mnt/other")
	failsWith(t, s, `table.read("/etc/passwd")`, "EvalError", "/etc/passwd")
}
