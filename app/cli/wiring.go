package cli

import (
	"fmt"
	"os"
	"path/filepath"

	"plotline/interpreter"
)

// dataDir is the folder Plotline keeps its threads and files in: --data,
// else PLOTLINE_DATA, else plotline under the user's config folder.
func dataDir(flagValue string) (string, error) {
	if flagValue != "" {
		return filepath.Abs(flagValue)
	}
	if d := os.Getenv("PLOTLINE_DATA"); d != "" {
		return filepath.Abs(d)
	}
	cfg, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no data folder: set PLOTLINE_DATA or pass --data (%v)", err)
	}
	return filepath.Join(cfg, "plotline"), nil
}

// warmKernels is how many ready kernels the long-running commands (the
// window and serve) keep, so that new threads start at once.
const warmKernels = interpreter.DefaultPoolSize
