package starlark

import (
	"context"
	goruntime "runtime"
	"strings"
	"testing"
	"time"
)

// workerModes are the worker modes this machine runs.
func workerModes(t *testing.T) []Mode {
	if goruntime.GOOS != "linux" {
		t.Skip("workers run on Linux only")
	}
	modes := []Mode{ModeChild}
	if err := sandboxErr(); err == nil {
		modes = append(modes, ModeSandbox)
	} else {
		t.Logf("the sandbox cannot start here (%v); only the plain child is tested", err)
	}
	return modes
}

// eachWorker runs test on a session in each worker mode, with a small
// memory cap so that a runaway cell reaches it quickly.
func eachWorker(t *testing.T, lim Limits, test func(t *testing.T, s *Session)) {
	if lim.Memory == 0 {
		lim.Memory = 256 << 20
	}
	for _, m := range workerModes(t) {
		t.Run(string(m), func(t *testing.T) { test(t, open(t, Options{Mode: m, Limits: lim})) })
	}
}

func TestWorkerKeepsGlobalsAndRunsBuiltins(t *testing.T) {
	eachWorker(t, Limits{}, testWorkerKeepsGlobals)
}

func testWorkerKeepsGlobals(t *testing.T, s *Session) {
	ok(t, s, `t = table.read("sales.csv")`)
	ok(t, s, `total = 0`)
	ok(t, s, `total += 1`)
	if got := value(t, s, `total`); got != "1" {
		t.Errorf("total = %s", got)
	}
	var streamed strings.Builder
	r, err := s.Exec(context.Background(), `print(t.group_by("region", revenue="sum").column("revenue"))
chart.bar(t, x="region", y="revenue")
t.head(1).to_csv("one.csv")`, func(p []byte) { streamed.Write(p) })
	if err != nil || r.Error != nil {
		t.Fatalf("%+v %v", r, err)
	}
	if r.Stdout != "[150.5, 500.0, 25.25]\n" || streamed.String() != r.Stdout {
		t.Errorf("stdout %q, streamed %q", r.Stdout, streamed.String())
	}
	if len(r.Images) != 1 || len(r.Files) != 1 || r.Files[0] != "one.csv" || r.Restarted {
		t.Errorf("images %d, files %q, restarted %v", len(r.Images), r.Files, r.Restarted)
	}
	failsWith(t, s, "1 // 0", "EvalError", "division by zero")
	failsWith(t, s, "import os", "SyntaxError", "Starlark has no import")
}

func TestWorkerMemoryCap(t *testing.T) { eachWorker(t, Limits{}, testWorkerMemoryCap) }

func testWorkerMemoryCap(t *testing.T, s *Session) {
	if raceEnabled && s.Mode() == ModeChild {
		t.Skip("the race detector's shadow memory does not fit under the address-space limit")
	}
	ok(t, s, "kept = 1")
	// Doubling a list runs through memory in a few dozen steps.
	r := run(t, s, "x = [0]\nfor i in range(64):\n    x = x + x\n")
	if r.Error == nil || r.Error.Name != "MemoryError" || !strings.Contains(r.Error.Message, "256 MiB") {
		t.Fatalf("the runaway cell ended with %+v", r.Error)
	}
	// The session goes on in a new worker, which says its globals are gone.
	r = run(t, s, "kept")
	if r.Error == nil || !strings.Contains(r.Error.Message, "undefined: kept") || !r.Restarted {
		t.Errorf("after the memory cap: %+v, restarted %v", r.Error, r.Restarted)
	}
	if got := value(t, s, "len(table.read('sales.csv'))"); got != "5" {
		t.Errorf("len %s", got)
	}
	if r := run(t, s, "1 + 1"); r.Restarted {
		t.Error("a second cell in the new worker says it restarted")
	}
}

func TestWorkerCancel(t *testing.T) { eachWorker(t, Limits{}, testWorkerCancel) }

func testWorkerCancel(t *testing.T, s *Session) {
	ok(t, s, "kept = 2")
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan struct{}, 1)
	go func() {
		<-first
		cancel()
	}()
	r, err := s.Exec(ctx, "print('go')\nfor i in range(1000000000000):\n    pass\n", func([]byte) {
		select {
		case first <- struct{}{}:
		default:
		}
	})
	if err != nil || r.Error == nil || r.Error.Name != "Cancelled" {
		t.Fatalf("cancelled cell: %+v, %v", r, err)
	}
	if got := value(t, s, "kept"); got != "2" {
		t.Errorf("kept = %s after a cancel", got)
	}
}

func TestWorkerTimeLimit(t *testing.T) {
	eachWorker(t, Limits{Timeout: 300 * time.Millisecond}, testWorkerTimeLimit)
}

func testWorkerTimeLimit(t *testing.T, s *Session) {
	failsWith(t, s, "for i in range(1000000000000):\n    pass\n", "TimeoutError", "time limit")
}

func TestWorkerCloseStopsRunningCell(t *testing.T) { eachWorker(t, Limits{}, testWorkerClose) }

func testWorkerClose(t *testing.T, s *Session) {
	ok(t, s, "1")
	res := make(chan *Result, 1)
	started := make(chan struct{}, 1)
	go func() {
		r, _ := s.Exec(context.Background(), "print('go')\nfor i in range(1000000000000):\n    pass\n", func([]byte) {
			select {
			case started <- struct{}{}:
			default:
			}
		})
		res <- r
	}()
	<-started
	s.Close()
	if r := <-res; r == nil || r.Error == nil || r.Error.Name != "Cancelled" {
		t.Errorf("the cell running at Close: %+v", r)
	}
}
