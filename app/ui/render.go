package ui

import (
	"fmt"
	"net/url"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"plotline/app"
)

// renderRow fills a conversation item for row id. The list reuses items,
// so the item's content is rebuilt, and its height set to what it needs
// at the list's width.
func (u *UI) renderRow(id widget.ListItemID, box *fyne.Container) {
	if u.tl == nil || id >= len(u.tl.rows) {
		box.Objects = nil
		return
	}
	r := u.tl.rows[id]
	var content fyne.CanvasObject
	switch r.kind {
	case rowUser:
		content = u.userView(r)
	case rowAssistant:
		content = u.assistantView(r)
	case rowCode:
		content = u.codeView(id, r)
	case rowFunction:
		content = u.functionView(r)
	}
	box.Objects = []fyne.CanvasObject{container.NewPadded(content)}
	box.Refresh()
	w := u.conv.Size().Width
	if w < 200 {
		w = 800
	}
	box.Resize(fyne.NewSize(w, box.MinSize().Height))
	h := box.MinSize().Height
	if u.rowsHeights[id] != h {
		u.rowsHeights[id] = h
		u.conv.SetItemHeight(id, h)
	}
}

func heading(text string, icon fyne.Resource) fyne.CanvasObject {
	l := widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	return container.NewHBox(widget.NewIcon(icon), l)
}

func (u *UI) userView(r *row) fyne.CanvasObject {
	parts := []fyne.CanvasObject{heading("You", theme.AccountIcon())}
	parts = append(parts, u.markdownView(r.text, nil)...)
	if len(r.attachments) > 0 {
		chips := container.NewHBox()
		for _, id := range r.attachments {
			name := u.images.name(id)
			chips.Add(widget.NewButtonWithIcon(name, theme.FileIcon(), func() { u.saveFile(id) }))
		}
		parts = append(parts, chips)
	}
	return container.NewVBox(parts...)
}

func (u *UI) assistantView(r *row) fyne.CanvasObject {
	parts := []fyne.CanvasObject{heading("Assistant", theme.ComputerIcon())}
	for _, id := range r.images {
		parts = append(parts, u.imageView(id))
	}
	text := r.text
	if r.status == app.MessageInProgress && text == "" {
		text = "…"
	}
	parts = append(parts, u.markdownView(text, r.annotations)...)
	if r.status == app.MessageIncomplete {
		l := widget.NewLabel("(stopped before the answer was complete)")
		l.Importance = widget.WarningImportance
		parts = append(parts, l)
	}
	return container.NewVBox(parts...)
}

// markdownView renders Markdown: prose with RichText, tables as grids;
// sandbox:/mnt/data links become buttons that save the linked file.
func (u *UI) markdownView(text string, anns []app.Annotation) []fyne.CanvasObject {
	var out []fyne.CanvasObject
	for _, b := range splitMarkdown(text) {
		if b.table != nil {
			out = append(out, tableView(b.table))
			continue
		}
		rt := widget.NewRichTextFromMarkdown(b.text)
		rt.Wrapping = fyne.TextWrapWord
		for _, seg := range rt.Segments {
			u.linkSegments(seg, anns)
		}
		out = append(out, rt)
	}
	return out
}

// linkSegments makes sandbox: links save their file.
func (u *UI) linkSegments(seg widget.RichTextSegment, anns []app.Annotation) {
	switch s := seg.(type) {
	case *widget.HyperlinkSegment:
		if s.URL != nil && s.URL.Scheme == "sandbox" {
			link := "sandbox:" + s.URL.Opaque + s.URL.Path
			for _, a := range anns {
				if a.FilePath != nil && (a.Text == link || strings.HasSuffix(a.Text, s.URL.Path)) {
					id := a.FilePath.FileID
					s.OnTapped = func() { u.saveFile(id) }
				}
			}
			if s.OnTapped == nil {
				s.OnTapped = func() { u.showBanner("That file is not available.", nil) }
			}
		}
	case *widget.ParagraphSegment:
		for _, c := range s.Texts {
			u.linkSegments(c, anns)
		}
	case *widget.ListSegment:
		for _, c := range s.Items {
			u.linkSegments(c, anns)
		}
	}
}

// tableView draws a GFM table as a grid of labels, header in bold.
func tableView(t [][]string) fyne.CanvasObject {
	cols := len(t[0])
	grid := container.NewGridWithColumns(cols)
	for r, row := range t {
		for _, cell := range row {
			l := widget.NewLabelWithStyle(cell, fyne.TextAlignLeading, fyne.TextStyle{Bold: r == 0})
			l.Truncation = fyne.TextTruncateEllipsis
			grid.Add(l)
		}
	}
	return container.NewVBox(grid, widget.NewSeparator())
}

func (u *UI) codeView(id widget.ListItemID, r *row) fyne.CanvasObject {
	lines := strings.Count(strings.TrimRight(r.code, "\n"), "\n") + 1
	state := "ran"
	switch r.status {
	case app.StepInProgress:
		state = "running"
	case app.StepCancelled:
		state = "stopped"
	case app.StepFailed:
		state = "failed"
	}
	title := fmt.Sprintf("Python, %d lines, %s", lines, state)
	if len(r.images) > 0 {
		title += fmt.Sprintf(", %d chart(s)", len(r.images))
	}
	code := widget.NewRichText(&widget.TextSegment{Style: widget.RichTextStyleCodeBlock, Text: r.code})
	code.Wrapping = fyne.TextWrapBreak
	details := []fyne.CanvasObject{code}
	if r.logs != "" {
		logs := widget.NewRichText(&widget.TextSegment{Style: widget.RichTextStyleCodeBlock, Text: strings.TrimRight(r.logs, "\n")})
		logs.Wrapping = fyne.TextWrapBreak
		details = append(details, widget.NewLabelWithStyle("Output", fyne.TextAlignLeading, fyne.TextStyle{Italic: true}), logs)
	}
	for _, img := range r.images {
		details = append(details, u.imageView(img))
	}
	icon := theme.MenuExpandIcon()
	if r.expanded {
		icon = theme.MenuDropDownIcon()
	}
	toggle := widget.NewButtonWithIcon(title, icon, func() {
		r.expanded = !r.expanded
		u.conv.RefreshItem(id)
	})
	toggle.Alignment = widget.ButtonAlignLeading
	toggle.Importance = widget.LowImportance
	if !r.expanded {
		return toggle
	}
	return container.NewVBox(append([]fyne.CanvasObject{toggle}, details...)...)
}

func (u *UI) functionView(r *row) fyne.CanvasObject {
	f := r.function
	text := fmt.Sprintf("Called %s(%s)", f.Name, f.Arguments)
	if f.Output != nil {
		text += " → " + *f.Output
	}
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	return l
}

// imageView shows an image at a readable size, with save, copy and
// open-full-size.
func (u *UI) imageView(fileID string) fyne.CanvasObject {
	res, err := u.images.resource(fileID)
	if err != nil {
		return widget.NewLabel("(image not available: " + err.Error() + ")")
	}
	img := canvas.NewImageFromResource(res)
	img.FillMode = canvas.ImageFillContain
	img.ScaleMode = canvas.ImageScaleSmooth
	img.SetMinSize(fyne.NewSize(560, 400))
	save := widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), func() { u.saveFile(fileID) })
	open := widget.NewButtonWithIcon("Full size", theme.ZoomInIcon(), func() { u.openFullSize(fileID) })
	cp := widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() { u.copyImage(fileID) })
	for _, b := range []*widget.Button{save, open, cp} {
		b.Importance = widget.LowImportance
	}
	return container.NewVBox(container.NewHBox(img), container.NewHBox(save, cp, open))
}

func (u *UI) openFullSize(fileID string) {
	res, err := u.images.resource(fileID)
	if err != nil {
		return
	}
	w := u.app.NewWindow(u.images.name(fileID))
	img := canvas.NewImageFromResource(res)
	img.FillMode = canvas.ImageFillOriginal
	w.SetContent(container.NewScroll(img))
	w.Resize(fyne.NewSize(1000, 760))
	w.Show()
}

// copyImage puts the image on the clipboard as a file: Fyne's clipboard
// carries text, so the image is saved to a temporary file whose path is
// copied, which file managers and most editors accept as a paste.
func (u *UI) copyImage(fileID string) {
	p, err := u.images.tempFile(fileID)
	if err != nil {
		u.showBanner("Could not copy the image: "+err.Error(), nil)
		return
	}
	u.app.Clipboard().SetContent((&url.URL{Scheme: "file", Path: p}).String())
	u.status.SetText("Image copied.")
}
