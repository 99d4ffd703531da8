package ui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
)

// TestChipsWrapWithinTheWindow: ten attachments with long names wrap in
// rows within a 1024-pixel window, and never widen it.
func TestChipsWrapWithinTheWindow(t *testing.T) {
	w := newWindow(t)
	w.u.win.Resize(fyne.NewSize(1024, 700))
	dir := t.TempDir()
	for i := range 10 {
		p := filepath.Join(dir, fmt.Sprintf("quarterly-revenue-by-region-and-product-line-%02d.csv", i))
		os.WriteFile(p, []byte("x\n1\n"), 0o644)
		w.u.attach(p)
	}
	// The rows settle once the composer is laid out at the new width.
	w.u.Pump(5*time.Second, func() bool {
		return w.u.chips.Size().Height >= w.u.chips.MinSize().Height-0.5 && w.u.chips.MinSize().Height > 0
	})
	if min := w.u.win.Content().MinSize(); min.Width > 1024 || min.Height > 700 {
		t.Fatalf("the window needs %v with ten attachments", min)
	}
	rows := map[float32]bool{}
	for _, c := range w.u.chips.Objects {
		if right := c.Position().X + c.Size().Width; right > w.u.chips.Size().Width+0.5 {
			t.Fatalf("a chip ends at %v, past the composer's %v", right, w.u.chips.Size().Width)
		}
		rows[c.Position().Y] = true
	}
	if len(rows) < 2 {
		t.Fatalf("the chips are in %d row(s)", len(rows))
	}
	if h := w.u.chips.Size().Height; h < w.u.chips.MinSize().Height-0.5 {
		t.Fatalf("the chips have %v of height for %v", h, w.u.chips.MinSize().Height)
	}
	// Removing them all gives the height back.
	for len(w.u.attached) > 0 {
		w.u.detach(w.u.attached[0])
	}
	if h := w.u.chips.MinSize().Height; h != 0 || strings.Contains(texts(w.u.chips), "quarterly") {
		t.Fatalf("no attachments, yet the chips take %v", h)
	}
}
