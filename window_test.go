package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/widget"

	"plotline/app"
	"plotline/app/modeltest"
	"plotline/app/sqlite"
	"plotline/interpreter/interptest"
)

// TestWindowSmoke starts the real plotline window on a virtual display,
// with a temporary data folder and the scripted model, types a question,
// waits for the answer, and takes a screenshot (PLOTLINE_SCREENSHOT names
// the file to keep; `make screenshot` sets it).
func TestWindowSmoke(t *testing.T) {
	for _, tool := range []string{"Xvfb", "xdotool", "import"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (scripts/install-deps.sh --xvfb installs it)", tool)
		}
	}
	display, x := xserver(t)

	args, _ := json.Marshal(map[string]string{"code": "import pandas as pd\n" +
		"df = pd.DataFrame({'month': ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun'], 'revenue': [120, 150, 180, 210, 260, 310]})\n" +
		"ax = df.plot(x='month', y='revenue', kind='bar', title='Revenue by month', legend=False)\n" +
		"ax.set_ylabel('revenue')\n" +
		"print(df.revenue.sum())"})
	srv := modeltest.NewServer(t,
		modeltest.Turn{ToolCalls: []modeltest.ToolCall{{Name: "python", Arguments: string(args)}}},
		modeltest.Turn{Text: "Revenue grew every month, from **120** in January to **310** in June: **1,230** in all.\n\n" +
			"| month | revenue |\n|---|---|\n| Jan | 120 |\n| Jun | 310 |", ChunkSize: 6},
	)
	data := t.TempDir()
	os.WriteFile(filepath.Join(data, "settings.json"), []byte(`{"provider":"compatible","endpoint":"`+srv.BaseURL()+`","model":"test-model","theme":"light"}`), 0o600)

	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "PLOTLINE_TEST_MAIN=1", "DISPLAY="+display, "PLOTLINE_DATA="+data, "LANG=en_US.UTF-8",
		"OPENAI_API_KEY=", "OPENAI_BASE_URL=")
	logs, _ := os.Create(filepath.Join(t.TempDir(), "window.log"))
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	var win string
	if !interptest.Eventually(60*time.Second, func() bool {
		out, err := x("xdotool", "search", "--onlyvisible", "--name", "^Plotline$")
		if f := strings.Fields(out); err == nil && len(f) > 0 {
			win = f[0]
		}
		return win != ""
	}) {
		t.Fatalf("the window did not appear; its log:\n%s", readFile(logs.Name()))
	}
	x("xdotool", "windowsize", win, "1280", "860")
	x("xdotool", "windowmove", win, "0", "0")
	time.Sleep(time.Second)
	// Click into the composer, type the question, send it with Enter.
	x("xdotool", "mousemove", "--window", win, "700", "820", "click", "1")
	x("xdotool", "type", "--delay", "5", "Plot revenue by month")
	x("xdotool", "key", "Return")

	st, err := sqlite.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var status string
	if !interptest.Eventually(90*time.Second, func() bool {
		recs, _, err := st.List(context.Background(), app.Query{Kind: app.KindRun, ListOptions: app.ListOptions{Limit: 1}})
		if err != nil || len(recs) == 0 {
			return false
		}
		status = recs[0].Tag
		return app.Terminal(status)
	}) {
		failShot := filepath.Join(os.TempDir(), "plotline-smoke-failure.png")
		x("import", "-window", "root", failShot)
		t.Fatalf("no finished run (screen: %s); the window's log:\n%s", failShot, readFile(logs.Name()))
	}
	if status != app.RunFailed && status != app.RunCompleted {
		t.Fatalf("run status %s", status)
	}
	time.Sleep(1500 * time.Millisecond) // let the window draw the answer
	shot := os.Getenv("PLOTLINE_SCREENSHOT")
	if shot == "" {
		shot = filepath.Join(t.TempDir(), "screenshot.png")
	}
	if out, err := x("import", "-window", "root", shot); err != nil {
		t.Fatalf("screenshot: %v %s", err, out)
	}
	fi, err := os.Stat(shot)
	if err != nil || fi.Size() < 10000 {
		t.Fatalf("screenshot %s: %v", shot, err)
	}
	if status != app.RunCompleted {
		t.Fatalf("the run %s; the window's log:\n%s", status, readFile(logs.Name()))
	}
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

// xserver starts a virtual display for a test or benchmark, or skips.
func xserver(tb testing.TB) (display string, run func(args ...string) (string, error)) {
	for _, tool := range []string{"Xvfb", "xdotool"} {
		if _, err := exec.LookPath(tool); err != nil {
			tb.Skipf("%s is not installed (scripts/install-deps.sh --xvfb installs it)", tool)
		}
	}
	// -displayfd lets the server pick a free display and tell which.
	r, w, err := os.Pipe()
	if err != nil {
		tb.Fatal(err)
	}
	xvfb := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1280x860x24", "-nolisten", "tcp")
	xvfb.ExtraFiles = []*os.File{w}
	if err := xvfb.Start(); err != nil {
		tb.Fatal(err)
	}
	w.Close()
	// SIGTERM, not SIGKILL: the server then removes its lock file.
	tb.Cleanup(func() { xvfb.Process.Signal(syscall.SIGTERM); xvfb.Wait() })
	var num int
	if _, err := fmt.Fscan(r, &num); err != nil {
		tb.Fatalf("the virtual display did not start: %v", err)
	}
	r.Close()
	display = fmt.Sprintf(":%d", num)
	run = func(args ...string) (string, error) {
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = append(os.Environ(), "DISPLAY="+display)
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	if !interptest.Eventually(10*time.Second, func() bool { _, err := run("xdotool", "getdisplaygeometry"); return err == nil }) {
		tb.Fatal("the virtual display did not start")
	}
	return display, run
}

// seedThreads fills a data folder with n threads of a few messages each.
func seedThreads(tb testing.TB, data string, n int) {
	st, err := sqlite.Open(data)
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	now := time.Now().Unix()
	for i := 0; i < n; i++ {
		th := app.Thread{ID: fmt.Sprintf("thread_seed%02d", i), Object: app.KindThread, CreatedAt: now,
			Metadata: app.Metadata{"title": fmt.Sprintf("Seeded thread %d", i)}}
		b, _ := json.Marshal(th)
		recs := []app.Record{{Kind: app.KindThread, ID: th.ID, CreatedAt: now, Data: b}}
		for j := 0; j < 6; j++ {
			role := []string{"user", "assistant"}[j%2]
			m := app.Message{ID: fmt.Sprintf("msg_seed%02d_%d", i, j), Object: app.KindMessage, CreatedAt: now, ThreadID: th.ID,
				Status: app.MessageCompleted, Role: role, Metadata: app.Metadata{}, Attachments: []app.Attachment{},
				Content: []app.Content{{Type: "text", Text: &app.Text{Value: strings.Repeat("Some analysis text. ", 30), Annotations: []app.Annotation{}}}}}
			mb, _ := json.Marshal(m)
			recs = append(recs, app.Record{Kind: app.KindMessage, ID: m.ID, Parent: th.ID, CreatedAt: now, Data: mb})
		}
		if err := st.Save(context.Background(), recs...); err != nil {
			tb.Fatal(err)
		}
	}
}

// startWindow starts the window (or, with bare, a plain Fyne window as the
// reference) and returns once it is on screen.
func startWindow(tb testing.TB, display, data string, bare bool, run func(...string) (string, error)) (*exec.Cmd, time.Duration) {
	cmd := exec.Command(os.Args[0])
	mode := "1"
	if bare {
		mode = "bare"
	}
	cmd.Env = append(os.Environ(), "PLOTLINE_TEST_MAIN="+mode, "DISPLAY="+display, "PLOTLINE_DATA="+data, "LANG=en_US.UTF-8",
		"OPENAI_API_KEY=sk-none", "OPENAI_BASE_URL=http://127.0.0.1:9/v1")
	start := time.Now()
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	if !interptest.Eventually(60*time.Second, func() bool {
		out, err := run("xdotool", "search", "--onlyvisible", "--name", "^Plotline$")
		return err == nil && out != ""
	}) {
		cmd.Process.Kill()
		cmd.Wait()
		tb.Fatal("the window did not appear")
	}
	return cmd, time.Since(start)
}

func rssMB(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			var kb float64
			fmt.Sscan(strings.Fields(l)[1], &kb)
			return kb / 1024
		}
	}
	return 0
}

// BenchmarkWindowStart times plotline's start to a visible window with 20
// threads in its store, and its memory once idle; the reference is a bare
// Fyne window from the same binary.
func BenchmarkWindowStart(b *testing.B) {
	display, run := xserver(b)
	data := b.TempDir()
	seedThreads(b, data, 20)
	var starts, refs []time.Duration
	var rss, refRSS float64
	for i := 0; i < b.N; i++ {
		cmd, d := startWindow(b, display, data, false, run)
		starts = append(starts, d)
		if i == 0 {
			time.Sleep(3 * time.Second) // idle: the pool's kernel is started, the window drawn
			rss = rssMB(cmd.Process.Pid)
		}
		cmd.Process.Kill()
		cmd.Wait()
		ref, d := startWindow(b, display, data, true, run)
		refs = append(refs, d)
		if i == 0 {
			time.Sleep(3 * time.Second)
			refRSS = rssMB(ref.Process.Pid)
		}
		ref.Process.Kill()
		ref.Wait()
	}
	b.ReportMetric(median(starts), "median-ms")
	b.ReportMetric(median(refs), "bare-fyne-ms")
	b.ReportMetric(rss, "idle-rss-MB")
	b.ReportMetric(refRSS, "bare-fyne-rss-MB")
}

func median(d []time.Duration) float64 {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return float64(s[len(s)/2]) / float64(time.Millisecond)
}

// bareWindow shows a plain Fyne window titled like Plotline's.
func bareWindow() {
	a := fyneapp.New()
	w := a.NewWindow("Plotline")
	w.SetContent(widget.NewLabel("reference"))
	w.Resize(fyne.NewSize(1200, 780))
	w.ShowAndRun()
}
