package ui

import (
	"encoding/json"
	"os"
	"path/filepath"

	"fyne.io/fyne/v2"
)

// windowState is what the window restores on its next start: where the
// analyst was, and how the window was laid out.
type windowState struct {
	Thread  string  `json:"thread,omitempty"`
	Width   float32 `json:"width,omitempty"`
	Height  float32 `json:"height,omitempty"`
	Sidebar float64 `json:"sidebar,omitempty"` // the thread list's share of the width
	Files   bool    `json:"files,omitempty"`   // the files panel is open
}

const stateFile = "window.json"

// defaultSize is the window's size on a first start.
var defaultSize = fyne.NewSize(1200, 780)

// loadState reads the saved state; anything missing or odd is left at
// its default.
func loadState(dir string) windowState {
	def := windowState{Width: defaultSize.Width, Height: defaultSize.Height, Sidebar: 0.22}
	s := def
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil || json.Unmarshal(b, &s) != nil {
		return def
	}
	if s.Width < 640 || s.Width > 8192 || s.Height < 480 || s.Height > 8192 {
		s.Width, s.Height = def.Width, def.Height
	}
	if s.Sidebar < 0.1 || s.Sidebar > 0.5 {
		s.Sidebar = def.Sidebar
	}
	return s
}

// saveState writes the state beside the settings, replacing the old file
// whole.
func saveState(dir string, s windowState) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".window-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, stateFile))
}

// state is the window's state now.
func (u *UI) state() windowState {
	size := u.win.Canvas().Size()
	return windowState{Thread: u.current, Width: size.Width, Height: size.Height, Sidebar: u.split.Offset,
		Files: u.files.box.Visible()}
}
