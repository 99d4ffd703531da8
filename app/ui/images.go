package ui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // decoders, to copy images that are not PNG as PNG
	_ "image/jpeg"
	"image/png"
	"io"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
	"golang.design/x/clipboard"

	"plotline/app/engine"
)

// imageCache keeps the bytes of the images the conversation shows, and
// the clipboard they are copied to.
type imageCache struct {
	eng   *engine.Engine
	mu    sync.Mutex
	res   map[string]fyne.Resource
	names map[string]string
	clip  imageClipboard
}

func newImageCache(eng *engine.Engine) *imageCache {
	return &imageCache{eng: eng, res: map[string]fyne.Resource{}, names: map[string]string{}, clip: &systemClipboard{}}
}

const maxPreviewBytes = 64 << 20

func (c *imageCache) resource(id string) (fyne.Resource, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.res[id]; ok {
		return r, nil
	}
	f, rc, err := c.eng.OpenFile(context.Background(), id)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	if f.Bytes > maxPreviewBytes {
		return nil, fmt.Errorf("%s is too large to show", f.Filename)
	}
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, err
	}
	r := fyne.NewStaticResource(path.Base(f.Filename), b)
	c.res[id] = r
	c.names[id] = path.Base(f.Filename)
	return r, nil
}

// name is the file's base name, for buttons and dialogs.
func (c *imageCache) name(id string) string {
	c.mu.Lock()
	n, ok := c.names[id]
	c.mu.Unlock()
	if ok {
		return n
	}
	f, err := c.eng.GetFile(context.Background(), id)
	if err != nil {
		return id
	}
	n = path.Base(f.Filename)
	c.mu.Lock()
	c.names[id] = n
	c.mu.Unlock()
	return n
}

// tempFile writes the image to a new temporary folder, under name.
func (c *imageCache) tempFile(id, name string) (string, error) {
	r, err := c.resource(id)
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "plotline-copy-")
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, filepath.Base(name))
	return p, os.WriteFile(p, r.Content(), 0o600)
}

// imageClipboard puts a PNG image on the system clipboard.
type imageClipboard interface {
	WritePNG(data []byte) error
}

// errNoImageClipboard says the system clipboard cannot take images here
// (no X display, or no libX11).
var errNoImageClipboard = errors.New("the system clipboard cannot take images here")

// systemClipboard is the desktop's clipboard, set up on first use.
type systemClipboard struct {
	once sync.Once
	err  error
}

func (s *systemClipboard) WritePNG(data []byte) error {
	s.once.Do(func() {
		if err := clipboard.Init(); err != nil {
			s.err = fmt.Errorf("%w: %v", errNoImageClipboard, err)
		}
	})
	if s.err != nil {
		return s.err
	}
	if clipboard.Write(clipboard.FmtImage, data) == nil {
		return errNoImageClipboard
	}
	return nil
}

// asPNG returns the image's bytes as PNG, converting other formats.
func asPNG(b []byte) ([]byte, error) {
	if bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		return b, nil
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := png.Encode(&out, img); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// copyImage puts the image on the clipboard as PNG data. Where the system
// clipboard takes no images, the image is saved to a temporary file and
// its path copied as text instead, and the status says so.
func (u *UI) copyImage(fileID string) {
	res, err := u.images.resource(fileID)
	if err != nil {
		u.showBanner("Could not copy the image: "+err.Error(), nil)
		return
	}
	data, err := asPNG(res.Content())
	if err == nil {
		err = u.images.clip.WritePNG(data)
	}
	if err == nil {
		u.status.SetText("Image copied.")
		return
	}
	p, ferr := u.images.tempFile(fileID, u.chartName(fileID))
	if ferr != nil {
		u.showBanner("Could not copy the image: "+ferr.Error(), nil)
		return
	}
	u.app.Clipboard().SetContent((&url.URL{Scheme: "file", Path: p}).String())
	u.status.SetText("This system's clipboard takes no images: copied the image's file path instead (" + p + ").")
}

// generatedImage matches the names the engine gives the charts it keeps
// ("<step id>-image-1.png"), which say nothing to a reader.
var generatedImage = regexp.MustCompile(`^[0-9A-Za-z]{8,}-image-[0-9]+\.png$`)

// chartName is a readable file name for an image: its own name when it has
// one, else the chart's title as its code set it, else "chart-N.png" by
// its place in the conversation.
func (u *UI) chartName(fileID string) string {
	n := u.images.name(fileID)
	if n != fileID && !generatedImage.MatchString(n) {
		return n
	}
	if u.tl == nil {
		return "chart.png"
	}
	k := 0
	seen := map[string]bool{}
	for _, r := range u.tl.rows {
		for i, id := range r.images {
			if seen[id] {
				continue
			}
			seen[id] = true
			k++
			if id != fileID {
				continue
			}
			if r.kind == rowCode {
				if t := chartTitle(r.code, i, len(r.images)); t != "" {
					return t + ".png"
				}
			}
			return fmt.Sprintf("chart-%d.png", k)
		}
	}
	return "chart.png"
}

var (
	// A title given as a plain string literal: title("…"), set_title('…'),
	// suptitle("…"), title="…".
	titleCall  = regexp.MustCompile(`\b(suptitle|title|set_title)\s*\(\s*[rRuU]?("[^"\n]*"|'[^'\n]*')`)
	titleParam = regexp.MustCompile(`\btitle\s*=\s*[rRuU]?("[^"\n]*"|'[^'\n]*')`)
	unsafeName = regexp.MustCompile(`[/\\:*?"<>|\x00-\x1f]+`)
)

// chartTitle is the title code gave image i of n it made, when the code
// says so unambiguously: a figure title for a cell's one chart, else one
// title a chart.
func chartTitle(code string, i, n int) string {
	var titles, sup []string
	for _, m := range titleCall.FindAllStringSubmatch(code, -1) {
		t := m[2][1 : len(m[2])-1]
		if m[1] == "suptitle" {
			sup = append(sup, t)
		}
		titles = append(titles, t)
	}
	for _, m := range titleParam.FindAllStringSubmatch(code, -1) {
		titles = append(titles, m[1][1:len(m[1])-1])
	}
	var t string
	switch {
	case n == 1 && len(sup) == 1:
		t = sup[0]
	case len(titles) == n && len(sup) == 0:
		t = titles[i]
	}
	t = strings.Join(strings.Fields(unsafeName.ReplaceAllString(t, " ")), " ")
	if r := []rune(t); len(r) > 80 {
		t = string(r[:80])
	}
	return strings.TrimRight(t, ". ")
}

// saveImage asks, over win, where to save an image, offering name.
func (u *UI) saveImage(fileID, name string, win fyne.Window) {
	u.saveDialog(win, name, func(w fyne.URIWriteCloser) error {
		res, err := u.images.resource(fileID)
		if err != nil {
			return err
		}
		_, err = w.Write(res.Content())
		return err
	})
}

// imageView shows an image at a readable size on a rounded card that
// fits the theme (dimmed a little in a dark one, so that a white chart
// does not glare), with save, copy and open-full-size.
func (u *UI) imageView(fileID string) fyne.CanvasObject {
	res, err := u.images.resource(fileID)
	if err != nil {
		return widget.NewLabel("(image not available: " + err.Error() + ")")
	}
	img := canvas.NewImageFromResource(res)
	img.FillMode = canvas.ImageFillContain
	img.ScaleMode = canvas.ImageScaleSmooth
	img.CornerRadius = 6
	img.SetMinSize(fitImage(res.Content(), fyne.NewSize(560, 400)))
	dim := newSurface(dimColor, 6)
	card := container.NewStack(newSurface(themeColor(theme.ColorNameInputBackground), 10),
		container.NewPadded(container.NewStack(img, dim)))
	save := widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), func() { u.saveImage(fileID, u.chartName(fileID), u.win) })
	open := widget.NewButtonWithIcon("Full size", theme.ZoomInIcon(), func() { u.openFullSize(fileID) })
	cp := widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() { u.copyImage(fileID) })
	for _, b := range []*widget.Button{save, open, cp} {
		b.Importance = widget.LowImportance
	}
	return container.NewVBox(container.NewHBox(card), container.NewHBox(save, cp, open))
}

// fitImage is the largest size within box with the image's proportions
// (box itself if they cannot be read), so that no band of the card shows
// beside the image.
func fitImage(data []byte, box fyne.Size) fyne.Size {
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width <= 0 || cfg.Height <= 0 {
		return box
	}
	w, h := float32(cfg.Width), float32(cfg.Height)
	scale := min(box.Width/w, box.Height/h)
	return fyne.NewSize(w*scale, h*scale)
}

// openFullSize shows the image at its own size in a window of its own,
// titled with its readable name; Escape closes it.
func (u *UI) openFullSize(fileID string) fyne.Window {
	res, err := u.images.resource(fileID)
	if err != nil {
		u.showBanner("Could not open the image: "+err.Error(), nil)
		return nil
	}
	name := u.chartName(fileID)
	w := u.app.NewWindow("Chart — " + name)
	img := canvas.NewImageFromResource(res)
	img.FillMode = canvas.ImageFillOriginal
	save := widget.NewButtonWithIcon("Save…", theme.DocumentSaveIcon(), func() { u.saveImage(fileID, name, w) })
	cp := widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() { u.copyImage(fileID) })
	closeBtn := widget.NewButtonWithIcon("Close", theme.CancelIcon(), w.Close)
	for _, b := range []*widget.Button{save, cp, closeBtn} {
		b.Importance = widget.LowImportance
	}
	w.SetContent(container.NewBorder(container.NewHBox(save, cp, closeBtn), nil, nil, nil, container.NewScroll(img)))
	w.Canvas().SetOnTypedKey(func(k *fyne.KeyEvent) {
		if k.Name == fyne.KeyEscape {
			w.Close()
		}
	})
	w.Resize(fyne.NewSize(1000, 760))
	w.Show()
	return w
}
