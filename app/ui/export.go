package ui

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"plotline/app/export"
)

// showExport offers the two export formats.
func (u *UI) showExport() {
	if u.current == "" {
		u.showBanner("Open a thread to export it.", nil)
		return
	}
	dialog.ShowCustomConfirm("Export thread", "Markdown", "Notebook",
		container1("Export this thread as Markdown (with its charts beside it), or as a Jupyter notebook?"),
		func(markdown bool) {
			if markdown {
				u.exportMarkdown()
			} else {
				u.exportNotebook()
			}
		}, u.win)
}

func (u *UI) exportMarkdown() {
	if u.current == "" {
		return
	}
	dialog.ShowFolderOpen(func(dir fyne.ListableURI, err error) {
		if err != nil || dir == nil {
			return
		}
		p, err := u.writeMarkdown(dir.Path())
		if err != nil {
			u.showBanner("Export failed: "+err.Error(), nil)
			return
		}
		u.status.SetText("Exported to " + p)
	}, u.win)
}

func (u *UI) exportNotebook() {
	if u.current == "" {
		return
	}
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		defer w.Close()
		if err := u.writeNotebook(w); err != nil {
			u.showBanner("Export failed: "+err.Error(), nil)
			return
		}
		u.status.SetText("Exported to " + w.URI().Path())
	}, u.win)
	d.SetFileName(exportBase(u.currentTitle()) + ".ipynb")
	d.Show()
}

func (u *UI) currentTitle() string {
	for _, t := range u.threads {
		if t.ID == u.current {
			return threadTitle(t)
		}
	}
	return "thread"
}

// exportBase makes a file name from a title.
func exportBase(title string) string {
	var b strings.Builder
	for _, r := range title {
		switch {
		case r == '/' || r == '\\' || r == ':' || r == 0 || r < 32:
			b.WriteRune('-')
		default:
			b.WriteRune(r)
		}
	}
	s := strings.Trim(strings.TrimSpace(b.String()), ".")
	if s == "" {
		s = "thread"
	}
	if len([]rune(s)) > 60 {
		s = string([]rune(s)[:60])
	}
	return s
}

// writeMarkdown writes the thread as NAME.md with its images in NAME-files.
func (u *UI) writeMarkdown(dir string) (string, error) {
	th, err := u.exportThread()
	if err != nil {
		return "", err
	}
	base := exportBase(th.Title)
	mdPath := filepath.Join(dir, base+".md")
	f, err := os.Create(mdPath)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if err := exportMarkdown(f, th, u.exportFiles(), dir, filepath.Join(dir, base+"-files")); err != nil {
		return "", fmt.Errorf("write %s: %w", mdPath, err)
	}
	return mdPath, nil
}

func (u *UI) writeNotebook(w io.Writer) error {
	th, err := u.exportThread()
	if err != nil {
		return err
	}
	return export.Notebook(w, th, u.exportFiles())
}

func exportMarkdown(w io.Writer, th export.Thread, files export.Files, mdDir, imageDir string) error {
	return export.Markdown(w, th, files, mdDir, imageDir)
}

// exportThread gathers the current thread's transcript for an export.
func (u *UI) exportThread() (export.Thread, error) {
	tr, err := u.eng.Transcript(u.ctx, u.current)
	if err != nil {
		return export.Thread{}, err
	}
	return export.Thread{Title: u.currentTitle(), Transcript: tr}, nil
}

func (u *UI) exportFiles() export.Files {
	return func(id string) (string, io.ReadCloser, error) {
		f, rc, err := u.eng.OpenFile(u.ctx, id)
		if err != nil {
			return "", nil, err
		}
		return f.Filename, rc, nil
	}
}

func container1(text string) fyne.CanvasObject {
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	return l
}
