package cli

import (
	"fmt"
	"io"
	"log"
	"strings"
	"sync"

	"fyne.io/fyne/v2"

	"plotline/app/ui"
)

// hasDisplay reports whether a window can open here: on Linux and the BSDs
// the environment must name an X11 or Wayland session; macOS and Windows
// always have one.
func hasDisplay(goos string, getenv func(string) string) bool {
	switch goos {
	case "darwin", "windows", "ios", "android", "js":
		return true
	}
	return getenv("DISPLAY") != "" || getenv("WAYLAND_DISPLAY") != ""
}

// noDisplay says, in one line, why the window cannot open and what works
// without one.
func noDisplay(why string) string {
	return "plotline: the window needs a graphical session (" + why + "); " +
		"without one, use plotline ask, plotline serve or plotline exec (plotline help says how)."
}

// newWindow builds the window. A display that is named but cannot be
// opened makes Fyne's GLFW driver panic; that becomes an error, and any
// other panic stays one.
func newWindow(a fyne.App, svc ui.Services) (u *ui.UI, err error) {
	defer func() {
		if r := recover(); r != nil {
			msg := fmt.Sprint(r)
			if !strings.Contains(msg, "GLFW") && !strings.Contains(strings.ToLower(msg), "display") {
				panic(r)
			}
			err = fmt.Errorf("%s", msg)
		}
	}()
	return ui.New(a, svc), nil
}

// fyneNoise are the reports Fyne logs on a normal start and use that say
// nothing the user can or needs to act on:
//
//   - "Preferences load error: EOF": Fyne watches its preferences folder and
//     reloads the file on every change; when it saves the file as the app
//     quits, the reload may read it just after it was emptied. Fyne's
//     preferences keep only the file dialog's last folder and layout.
//   - "Getting favorite locations … this computer does not define a VIDEOS
//     folder": the file dialog's shortcuts for Desktop, Documents, …,
//     Videos, when one of those folders does not exist; the dialog still
//     works and lists the ones that do.
var fyneNoise = []string{
	"Fyne error:  Preferences load error:",
	"Fyne error:  Getting favorite locations",
}

// quietFyneLog sends the standard logger, which in Plotline only Fyne
// writes to, to w less fyneNoise; the func it returns puts back the
// previous writer.
func quietFyneLog(w io.Writer) func() {
	prev := log.Writer()
	log.SetOutput(&fyneLogFilter{w: w})
	return func() { log.SetOutput(prev) }
}

// fyneLogFilter drops a report of fyneNoise and its Cause and At lines
// (fyne.LogError logs each of the three lines with its own call).
type fyneLogFilter struct {
	mu       sync.Mutex
	w        io.Writer
	skipping bool
}

func (f *fyneLogFilter) Write(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	line := string(p)
	for _, n := range fyneNoise {
		if strings.Contains(line, n) {
			f.skipping = true
			return len(p), nil
		}
	}
	if f.skipping && (strings.Contains(line, "  Cause: ") || strings.Contains(line, "  At: ")) {
		return len(p), nil
	}
	f.skipping = false
	return f.w.Write(p)
}
