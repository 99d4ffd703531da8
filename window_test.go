package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
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
// with a temporary data folder, the scripted model and ten files given on
// the command line, and drives it with xdotool as an analyst would: the
// window is resized to 1024×700 with the ten files attached and must stay
// that size; a question runs code that is stopped with Escape; a second
// question draws a chart, which the screenshot must show. PLOTLINE_SCREENSHOT
// names the file to keep the screenshot in (`make screenshot` sets it).
func TestWindowSmoke(t *testing.T) {
	for _, tool := range []string{"Xvfb", "xdotool", "import"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (scripts/install-deps.sh --xvfb installs it)", tool)
		}
	}
	display, x := xserver(t)

	slow, _ := json.Marshal(map[string]string{"code": "import time\nprint('Reading the files…', flush=True)\ntime.sleep(120)"})
	chart, _ := json.Marshal(map[string]string{"code": "import pandas as pd\n" +
		"df = pd.DataFrame({'month': ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun'], 'revenue': [120, 150, 180, 210, 260, 310]})\n" +
		"ax = df.plot(x='month', y='revenue', kind='bar', title='Revenue by month', legend=False)\n" +
		"ax.set_ylabel('revenue')\n" +
		"print(df.revenue.sum())"})
	srv := modeltest.NewServer(t,
		modeltest.Turn{ToolCalls: []modeltest.ToolCall{{Name: "python", Arguments: string(slow)}}},
		modeltest.Turn{ToolCalls: []modeltest.ToolCall{{Name: "python", Arguments: string(chart)}}},
		modeltest.Turn{Text: "Revenue grew every month, from **120** in January to **310** in June: **1,230** in all.\n\n" +
			"| month | revenue |\n|---|---:|\n| Jan | 120 |\n| Jun | 310 |", ChunkSize: 6},
	)
	data := t.TempDir()
	os.WriteFile(filepath.Join(data, "settings.json"), []byte(`{"provider":"compatible","endpoint":"`+srv.BaseURL()+`","model":"test-model","theme":"light"}`), 0o600)
	files := t.TempDir()
	var args []string
	for i := range 10 {
		p := filepath.Join(files, fmt.Sprintf("regional-sales-%02d-2026.csv", i+1))
		os.WriteFile(p, []byte("month,revenue\nJan,120\nFeb,150\n"), 0o644)
		args = append(args, p)
	}

	w := launch(t, display, x, "1", args, "PLOTLINE_DATA="+data, "OPENAI_API_KEY=", "OPENAI_BASE_URL=")
	win, logs := w.win, w.logs
	fail := func(format string, a ...any) {
		t.Helper()
		shot := filepath.Join(os.TempDir(), "plotline-smoke-failure.png")
		x("import", "-window", "root", shot)
		t.Fatalf(format+" (screen: %s); the window's log:\n%s", append(a, shot, readFile(logs.Name()))...)
	}

	// With the ten files attached, 1024×700 holds: the chips wrap.
	x("xdotool", "windowmove", win, "0", "0")
	x("xdotool", "windowsize", win, "1024", "700")
	if !interptest.Eventually(10*time.Second, func() bool { return geometry(x, win) == "1024x700" }) {
		fail("with ten files attached the window is %s, not 1024x700", geometry(x, win))
	}
	settle(x)
	if geometry(x, win) != "1024x700" {
		fail("the window grew to %s after drawing the ten attachments", geometry(x, win))
	}

	st, err := sqlite.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	lastRun := func() string {
		recs, _, err := st.List(ctx, app.Query{Kind: app.KindRun, ListOptions: app.ListOptions{Limit: 1}})
		if err != nil || len(recs) == 0 {
			return ""
		}
		return recs[0].Tag
	}
	runs := func() int {
		recs, _, _ := st.List(ctx, app.Query{Kind: app.KindRun, ListOptions: app.ListOptions{Limit: 10}})
		return len(recs)
	}
	codeRunning := func() bool {
		recs, _, err := st.List(ctx, app.Query{Kind: app.KindRunStep, ListOptions: app.ListOptions{Limit: 1}})
		return err == nil && len(recs) == 1 && strings.Contains(string(recs[0].Data), `"type":"tool_calls"`)
	}

	// Ask; the code runs; Escape stops it.
	x("xdotool", "windowfocus", "--sync", win)
	x("xdotool", "key", "ctrl+n") // a new thread, with the composer focused
	x("xdotool", "type", "--delay", "5", "Summarise these files")
	x("xdotool", "key", "Return")
	if !interptest.Eventually(90*time.Second, func() bool { return runs() == 1 && codeRunning() }) {
		fail("the first question's code did not start")
	}
	x("xdotool", "key", "Escape")
	if !interptest.Eventually(30*time.Second, func() bool { return lastRun() == app.RunCancelled }) {
		fail("Escape did not stop the run: %s", lastRun())
	}
	msgs, _, _ := st.List(ctx, app.Query{Kind: app.KindMessage, ListOptions: app.ListOptions{Limit: 1, Order: "asc"}})
	if len(msgs) != 1 || strings.Count(string(msgs[0].Data), `"file_id"`) != 10 {
		t.Fatalf("the first question did not carry the ten files: %d messages", len(msgs))
	}

	// Ask again: a chart and a table.
	x("xdotool", "type", "--delay", "5", "Plot revenue by month")
	x("xdotool", "key", "Return")
	if !interptest.Eventually(90*time.Second, func() bool { return runs() == 2 && app.Terminal(lastRun()) }) {
		fail("no second run finished")
	}
	if s := lastRun(); s != app.RunCompleted {
		fail("the second run %s", s)
	}
	shot := os.Getenv("PLOTLINE_SCREENSHOT")
	if shot == "" {
		shot = filepath.Join(t.TempDir(), "screenshot.png")
	}
	// The window draws the answer soon after the store has it: wait for
	// the screen to show the chart, whose bars are matplotlib's first
	// colour, #1f77b4.
	bars := 0
	interptest.Eventually(30*time.Second, func() bool {
		if out, err := capture(x, "1024x700", shot); err != nil {
			t.Fatalf("screenshot: %v %s", err, out)
		}
		img := readPNG(t, shot)
		if b := img.Bounds(); b.Dx() != 1024 || b.Dy() != 700 {
			fail("the screenshot is %v", b)
		}
		bars = countNear(img, color.RGBA{0x1f, 0x77, 0xb4, 0xff}, 24)
		return bars >= 2000
	})
	if bars < 2000 {
		fail("the screen shows no chart (%d pixels of its bars' colour)", bars)
	}
	settle(x)
	capture(x, "1024x700", shot)
	if geometry(x, win) != "1024x700" {
		fail("the window is %s after the answer", geometry(x, win))
	}
	// A normal session leaves the terminal quiet.
	if out := strings.TrimSpace(readFile(logs.Name())); out != "" {
		t.Fatalf("the window printed:\n%s", out)
	}
}

// capture takes a screenshot of the window, at the top left of the
// screen and of size WxH (a window's own capture can come out black
// under a server with no window manager).
func capture(x func(...string) (string, error), size, path string) (string, error) {
	return x("import", "-window", "root", "-crop", size+"+0+0", "+repage", path)
}

// geometry is the window's size as WIDTHxHEIGHT.
func geometry(x func(...string) (string, error), win string) string {
	out, _ := x("xdotool", "getwindowgeometry", win)
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == "Geometry:" {
			return f[1]
		}
	}
	return out
}

// settle waits until two screenshots of the window in a row are the same:
// the window has drawn what it had to.
func settle(x func(...string) (string, error)) {
	dir, _ := os.MkdirTemp("", "plotline-settle")
	defer os.RemoveAll(dir)
	var last []byte
	interptest.Eventually(20*time.Second, func() bool {
		p := filepath.Join(dir, "s.png")
		if _, err := x("import", "-window", "root", p); err != nil {
			return false
		}
		b, _ := os.ReadFile(p)
		same := last != nil && bytes.Equal(b, last)
		last = b
		return same
	})
}

func readPNG(t *testing.T, p string) image.Image {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// countNear counts the pixels within tol of c in each channel.
func countNear(img image.Image, c color.RGBA, tol int) int {
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if abs(int(r>>8)-int(c.R)) <= tol && abs(int(g>>8)-int(c.G)) <= tol && abs(int(bl>>8)-int(c.B)) <= tol {
				n++
			}
		}
	}
	return n
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

// xserver starts a virtual display for a test or benchmark, or skips.
func xserver(tb testing.TB) (display string, run func(args ...string) (string, error)) {
	return xserverSized(tb, "1280x860x24")
}

// xserverSized is xserver with a screen of WxHxDEPTH.
func xserverSized(tb testing.TB, screen string) (display string, run func(args ...string) (string, error)) {
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
	xvfb := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", screen, "-nolisten", "tcp")
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
func startWindow(tb testing.TB, display, data string, bare bool, run func(...string) (string, error)) *window {
	mode := "1"
	if bare {
		mode = "bare"
	}
	return launch(tb, display, run, mode, nil, "PLOTLINE_DATA="+data, "OPENAI_API_KEY=sk-none", "OPENAI_BASE_URL=http://127.0.0.1:9/v1")
}

// window is a plotline (or reference) window started by launch.
type window struct {
	cmd  *exec.Cmd
	win  string        // its X window id
	logs *os.File      // what it printed
	took time.Duration // from its start to its window on screen
	stop func()        // kills it and waits for its end
}

// launch starts the test binary as plotline (mode "1") or as the bare
// reference window ("bare"), with args and env, on x's display, and waits
// for its window. The virtual X server now and then refuses a new client
// ("Failed to open display"); a start that fails so is tried again, as
// it is not the window's doing. The window is killed when tb ends.
func launch(tb testing.TB, display string, x func(...string) (string, error), mode string, args []string, env ...string) *window {
	tb.Helper()
	for try := 1; ; try++ {
		cmd := exec.Command(os.Args[0], args...)
		cmd.Env = append(append(os.Environ(), "PLOTLINE_TEST_MAIN="+mode, "DISPLAY="+display, "LANG=en_US.UTF-8"), env...)
		logs, err := os.CreateTemp(tb.TempDir(), "window-*.log")
		if err != nil {
			tb.Fatal(err)
		}
		cmd.Stdout, cmd.Stderr = logs, logs
		start := time.Now()
		if err := cmd.Start(); err != nil {
			tb.Fatal(err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		stop := func() { cmd.Process.Kill(); <-exited }
		tb.Cleanup(stop)
		var win, out string
		appeared := interptest.Eventually(60*time.Second, func() bool {
			select {
			case <-exited:
				return true
			default:
			}
			out, err = x("xdotool", "search", "--onlyvisible", "--name", "^Plotline$")
			if f := strings.Fields(out); err == nil && len(f) > 0 {
				win = f[len(f)-1]
			}
			return win != ""
		})
		if win != "" {
			return &window{cmd: cmd, win: win, logs: logs, took: time.Since(start), stop: stop}
		}
		if !appeared {
			cmd.Process.Signal(syscall.SIGQUIT) // its goroutines, in its log
			select {
			case <-exited:
			case <-time.After(5 * time.Second):
			}
		}
		<-exited
		log := readFile(logs.Name())
		if try < 3 && strings.Contains(log, "Failed to open display") {
			tb.Logf("the X server refused the window (try %d); starting it again", try)
			continue
		}
		tb.Fatalf("the window did not appear; xdotool said %q (%v); its log:\n%s", out, err, log)
	}
}

// rssMB is a process's resident memory, and the part of it that is its
// own (anonymous, not pages of mapped files), in MB.
func rssMB(pid int) (rss, anon float64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		var kb float64
		fmt.Sscan(f[1], &kb)
		switch f[0] {
		case "VmRSS:":
			rss = kb / 1024
		case "RssAnon:":
			anon = kb / 1024
		}
	}
	return rss, anon
}

// BenchmarkWindowStart times plotline's start to a visible window with 20
// threads in its store, and its memory once idle; the reference is a bare
// Fyne window from the same binary.
func BenchmarkWindowStart(b *testing.B) {
	display, run := xserver(b)
	data := b.TempDir()
	seedThreads(b, data, 20)
	var starts, refs []time.Duration
	var rss, refRSS, anon, refAnon float64
	for i := 0; i < b.N; i++ {
		w := startWindow(b, display, data, false, run)
		starts = append(starts, w.took)
		if i == 0 {
			time.Sleep(5 * time.Second) // idle: the pool's kernels started, the window drawn and settled
			rss, anon = rssMB(w.cmd.Process.Pid)
		}
		w.stop()
		ref := startWindow(b, display, data, true, run)
		refs = append(refs, ref.took)
		if i == 0 {
			time.Sleep(5 * time.Second)
			refRSS, refAnon = rssMB(ref.cmd.Process.Pid)
		}
		ref.stop()
	}
	b.ReportMetric(interptest.Ms(interptest.Median(starts)), "median-ms")
	b.ReportMetric(interptest.Ms(interptest.Median(refs)), "bare-fyne-ms")
	b.ReportMetric(rss, "idle-rss-MB")
	b.ReportMetric(refRSS, "bare-fyne-rss-MB")
	b.ReportMetric(anon, "idle-anon-MB")
	b.ReportMetric(refAnon, "bare-fyne-anon-MB")
}

// bareWindow shows a plain Fyne window titled like Plotline's.
func bareWindow() {
	a := fyneapp.New()
	w := a.NewWindow("Plotline")
	w.SetContent(widget.NewLabel("reference"))
	w.Resize(fyne.NewSize(1200, 780))
	w.ShowAndRun()
}

// TestWindowScreenshots takes the screenshots the README and a review
// need: a thread with a chart, a table, code that failed and a file
// preview, at 1024×700, 1440×900 and 1920×1080, in the light and the dark
// theme. It runs only when PLOTLINE_SCREENSHOTS names a folder to write
// them in.
func TestWindowScreenshots(t *testing.T) {
	dir := os.Getenv("PLOTLINE_SCREENSHOTS")
	if dir == "" {
		t.Skip("PLOTLINE_SCREENSHOTS is not set")
	}
	themes := []string{"light", "dark"}
	if th := os.Getenv("PLOTLINE_THEME"); th != "" {
		themes = []string{th}
	}
	for _, th := range themes {
		t.Run(th, func(t *testing.T) {
			display, x := xserverSized(t, "1920x1080x24")
			chart, _ := json.Marshal(map[string]string{"code": "import pandas as pd\n" +
				"df = pd.read_csv('sales.csv')\n" +
				"ax = df.groupby('region').revenue.sum().plot(kind='bar', title='Revenue by region')\n" +
				"ax.set_ylabel('revenue (k€)')\n" +
				"print(df.groupby('region').revenue.sum())"})
			bad, _ := json.Marshal(map[string]string{"code": "df['profit'].mean()"})
			srv := modeltest.NewServer(t,
				modeltest.Turn{ToolCalls: []modeltest.ToolCall{{Name: "python", Arguments: string(chart)}}},
				modeltest.Turn{Text: "**North** leads with 1,240 k€, ahead of South.\n\n| region | revenue (k€) | share |\n|---|---|---|\n| North | 1,240 | 41.3% |\n| South | 980 | 32.7% |\n| West | 780 | 26.0% |"},
				modeltest.Turn{ToolCalls: []modeltest.ToolCall{{Name: "python", Arguments: string(bad)}}},
				modeltest.Turn{Text: "The file has no `profit` column, so I can't compute it. Its columns are `region`, `month` and `revenue`."},
			)
			data := t.TempDir()
			os.WriteFile(filepath.Join(data, "settings.json"), []byte(`{"provider":"compatible","endpoint":"`+srv.BaseURL()+`","model":"test-model","theme":"`+th+`"}`), 0o600)
			csv := filepath.Join(t.TempDir(), "sales.csv")
			os.WriteFile(csv, []byte("region,month,revenue\nNorth,Jan,400\nNorth,Feb,840\nSouth,Jan,500\nSouth,Feb,480\nWest,Jan,380\nWest,Feb,400\n"), 0o644)
			win := launch(t, display, x, "1", []string{csv}, "PLOTLINE_DATA="+data, "OPENAI_API_KEY=", "OPENAI_BASE_URL=").win
			x("xdotool", "windowmove", win, "0", "0")
			x("xdotool", "windowsize", win, "1440", "900")
			settle(x)
			capture(x, "1440x900", filepath.Join(dir, th+"-new-thread.png"))
			st, err := sqlite.Open(data)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			runs := func(status string) int {
				recs, _, _ := st.List(context.Background(), app.Query{Kind: app.KindRun, Tag: status, ListOptions: app.ListOptions{Limit: 10}})
				return len(recs)
			}
			x("xdotool", "windowfocus", "--sync", win)
			x("xdotool", "key", "ctrl+n")
			for i, q := range []string{"Which region sells most?", "What is the mean profit?"} {
				x("xdotool", "type", "--delay", "5", q)
				x("xdotool", "key", "Return")
				if !interptest.Eventually(90*time.Second, func() bool { return runs(app.RunCompleted) == i+1 }) {
					capture(x, "1440x900", filepath.Join(dir, th+"-failure.png"))
					t.Fatalf("run %d did not complete (screen: %s)", i+1, filepath.Join(dir, th+"-failure.png"))
				}
			}
			for _, size := range []string{"1024x700", "1440x900", "1920x1080"} {
				wh := strings.Split(size, "x")
				x("xdotool", "windowsize", win, wh[0], wh[1])
				settle(x)
				capture(x, size, filepath.Join(dir, th+"-"+size+".png"))
			}
			x("xdotool", "key", "ctrl+e")
			settle(x)
			capture(x, "1920x1080", filepath.Join(dir, th+"-export.png"))
			x("xdotool", "key", "Escape")
			for _, k := range []struct{ keys, name string }{{"ctrl+comma", "settings"}, {"ctrl+slash", "shortcuts"}} {
				x("xdotool", "key", k.keys)
				settle(x)
				capture(x, "1920x1080", filepath.Join(dir, th+"-"+k.name+".png"))
				x("xdotool", "key", "Escape")
			}
			x("xdotool", "mousemove", "1690", "49", "click", "1") // Files
			settle(x)
			capture(x, "1920x1080", filepath.Join(dir, th+"-files.png"))
		})
	}
}

// With the Starlark runtime chosen in the settings, the real window
// answers through the starlark tool: the chart drawn by the built-ins
// shows in the thread, titled as Starlark code. Screenshots go to
// PLOTLINE_SCREENSHOTS when it is set.
func TestWindowStarlarkRuntime(t *testing.T) {
	display, x := xserverSized(t, "1440x900x24")
	code, _ := json.Marshal(map[string]string{"code": `t = table.read("/mnt/data/sales.csv")
by = t.group_by("region", revenue="sum").sort("revenue", reverse=True)
print(by)
chart.bar(by, x="region", y="revenue", title="Revenue by region")`})
	srv := modeltest.NewServer(t,
		modeltest.Turn{ToolCalls: []modeltest.ToolCall{{Name: "starlark", Arguments: string(code)}}},
		modeltest.Turn{Text: "**North** sells most: 1,240."},
	)
	data := t.TempDir()
	os.WriteFile(filepath.Join(data, "settings.json"), []byte(`{"provider":"compatible","endpoint":"`+srv.BaseURL()+`","model":"test-model","runtime":"starlark"}`), 0o600)
	csv := filepath.Join(t.TempDir(), "sales.csv")
	os.WriteFile(csv, []byte("region,month,revenue\nNorth,Jan,400\nNorth,Feb,840\nSouth,Jan,500\nSouth,Feb,480\nWest,Jan,380\nWest,Feb,400\n"), 0o644)
	win := launch(t, display, x, "1", []string{csv}, "PLOTLINE_DATA="+data, "OPENAI_API_KEY=", "OPENAI_BASE_URL=", "PLOTLINE_RUNTIME=").win
	x("xdotool", "windowmove", win, "0", "0")
	x("xdotool", "windowsize", win, "1440", "900")
	st, err := sqlite.Open(data)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	x("xdotool", "windowfocus", "--sync", win)
	x("xdotool", "key", "ctrl+n")
	x("xdotool", "type", "--delay", "5", "Which region sells most?")
	x("xdotool", "key", "Return")
	if !interptest.Eventually(90*time.Second, func() bool {
		recs, _, _ := st.List(context.Background(), app.Query{Kind: app.KindRun, Tag: app.RunCompleted, ListOptions: app.ListOptions{Limit: 10}})
		return len(recs) == 1
	}) {
		shot := filepath.Join(os.TempDir(), "plotline-starlark-failure.png")
		capture(x, "1440x900", shot)
		t.Fatalf("the run did not complete (screen: %s; model requests: %d)", shot, len(srv.Requests()))
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || len(reqs[0].Tools) != 1 || reqs[0].Tools[0].Name != "starlark" {
		t.Fatalf("the model was not given the starlark tool: %+v", reqs)
	}
	if out := reqs[1].Messages[len(reqs[1].Messages)-1].Content; !strings.Contains(out, "North") || !strings.Contains(out, "1240") || !strings.Contains(out, "image") {
		t.Fatalf("the code's output: %q", out)
	}
	if dir := os.Getenv("PLOTLINE_SCREENSHOTS"); dir != "" {
		settle(x)
		capture(x, "1440x900", filepath.Join(dir, "starlark-1440x900.png"))
		x("xdotool", "key", "ctrl+comma")
		settle(x)
		capture(x, "1440x900", filepath.Join(dir, "starlark-settings.png"))
	}
}
