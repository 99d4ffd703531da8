package interpreter

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"plotline/interpreter/sandbox"
)

// fontCache returns a folder holding matplotlib's font list for py, made
// once per Python and kept in the user's cache folder, or "" if it cannot
// be made. Kernels copy it into their private /tmp before importing
// matplotlib, which would otherwise scan the system's fonts at every start
// (about a third of a second here).
//
// The list is built by Plotline's own code, outside the sandbox like the
// discovery probe (in a sandbox of its own for the bundled runtime, which
// runs nowhere else): no cell ever writes to it, and kernels see it
// read-only.
func fontCache(ctx context.Context, py *Python) string {
	base, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	sum := sha256.Sum256([]byte(py.Executable + "\x00" + py.Version + "\x00" + py.Modules["matplotlib"] + "\x00" + py.System))
	dir := filepath.Join(base, "plotline", "matplotlib-"+hex.EncodeToString(sum[:6]))
	if m, _ := filepath.Glob(filepath.Join(dir, "fontlist-*.json")); len(m) > 0 {
		return dir
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".matplotlib-")
	if err != nil {
		if os.MkdirAll(filepath.Dir(dir), 0o700) != nil {
			return ""
		}
		if tmp, err = os.MkdirTemp(filepath.Dir(dir), ".matplotlib-"); err != nil {
			return ""
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	const script = "import matplotlib; matplotlib.use('Agg'); from matplotlib import font_manager; font_manager.findfont('DejaVu Sans')"
	if py.Bundled() {
		// The bundled runtime runs only in the sandbox, which sees tmp as
		// its work folder.
		_, err = runSandboxed(ctx, py, tmp, []string{"-I", "-c", script}, []string{"MPLCONFIGDIR=" + sandbox.WorkDir})
	} else {
		cmd := exec.CommandContext(ctx, py.Executable, "-I", "-c", script)
		cmd.Env = []string{"MPLCONFIGDIR=" + tmp, "HOME=" + tmp, "PATH=/usr/local/bin:/usr/bin:/bin", "MPLBACKEND=Agg"}
		err = cmd.Run()
	}
	if err != nil {
		os.RemoveAll(tmp)
		return ""
	}
	if m, _ := filepath.Glob(filepath.Join(tmp, "fontlist-*.json")); len(m) == 0 {
		os.RemoveAll(tmp)
		return ""
	}
	// Another process may have made it meanwhile: either copy will do.
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		if m, _ := filepath.Glob(filepath.Join(dir, "fontlist-*.json")); len(m) == 0 {
			return ""
		}
	}
	return dir
}
