package ui

import (
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
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
		content = u.messageView(r, "You", theme.AccountIcon())
	case rowAssistant:
		content = u.messageView(r, "Assistant", theme.ComputerIcon())
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
	// Rows are drawn again when they grow and when the window is resized:
	// either can move the end out of view.
	u.keepAtEnd()
}

// keepAtEnd scrolls the conversation to its end again once the heights
// of the rows being drawn are known, unless the analyst has scrolled up
// to read: a row's height is known only when it is drawn, so the first
// scroll to the end stops short of rows that grow.
func (u *UI) keepAtEnd() {
	if !u.atEnd || u.endPending || u.scrolledAway() {
		return
	}
	u.endPending = true
	u.post(func() {
		u.endPending = false
		if u.atEnd && !u.scrolledAway() {
			u.scrollToEnd()
		}
	})
}

// endKeeper lays out the conversation as a stack does, and keeps its end
// in view when the window's size changes.
type endKeeper struct {
	u    *UI
	size fyne.Size
}

func (k *endKeeper) Layout(objects []fyne.CanvasObject, size fyne.Size) {
	for _, o := range objects {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
	if size != k.size {
		k.size = size
		k.u.keepAtEnd()
	}
}

func (k *endKeeper) MinSize(objects []fyne.CanvasObject) fyne.Size {
	var m fyne.Size
	for _, o := range objects {
		m = m.Max(o.MinSize())
	}
	return m
}

// scrollToEnd shows the end of the conversation, and keeps it shown as
// rows grow.
func (u *UI) scrollToEnd() {
	u.conv.ScrollToBottom()
	u.endOffset = u.conv.GetScrollOffset()
	u.atEnd = true
}

// scrolledAway reports whether the analyst scrolled up since the last
// scrollToEnd.
func (u *UI) scrolledAway() bool {
	if u.conv.GetScrollOffset() < u.endOffset-1 {
		u.atEnd = false
		return true
	}
	return false
}

// heading is a message's or a block's first line: an icon and a bold
// title, with its actions on the right.
func heading(text string, icon fyne.Resource, actions ...fyne.CanvasObject) fyne.CanvasObject {
	l := widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	return container.NewBorder(nil, nil, container.NewHBox(widget.NewIcon(icon), l), container.NewHBox(actions...))
}

// smallButton is a quiet button for a block's action.
func smallButton(text string, icon fyne.Resource, tapped func()) *widget.Button {
	b := widget.NewButtonWithIcon(text, icon, tapped)
	b.Importance = widget.LowImportance
	return b
}

// copyText puts text on the clipboard and says what was copied.
func (u *UI) copyText(text, what string) {
	u.app.Clipboard().SetContent(text)
	if u.status != nil {
		u.status.SetText(what + " copied.")
	}
}

// messageView shows a user's or the assistant's message: its images, its
// Markdown (prose, tables, fenced code) and attachments, with a Copy
// action and a context menu.
func (u *UI) messageView(r *row, who string, icon fyne.Resource) fyne.CanvasObject {
	text := r.text
	if r.kind == rowAssistant && r.status == app.MessageInProgress && text == "" {
		text = "…"
	}
	blocks := splitMarkdown(text)
	cp := smallButton("Copy", theme.ContentCopyIcon(), func() { u.copyText(r.text, "Message") })
	parts := []fyne.CanvasObject{heading(who, icon, cp)}
	for _, id := range r.images {
		parts = append(parts, u.imageView(id))
	}
	parts = append(parts, u.markdownBlocks(blocks, r.annotations)...)
	if len(r.attachments) > 0 {
		chips := container.NewHBox()
		for _, id := range r.attachments {
			chips.Add(widget.NewButtonWithIcon(u.images.name(id), theme.FileIcon(), func() { u.saveFile(id) }))
		}
		parts = append(parts, chips)
	}
	if r.kind == rowAssistant && r.status == app.MessageIncomplete {
		l := widget.NewLabel("(stopped before the answer was complete)")
		l.Importance = widget.WarningImportance
		parts = append(parts, l)
	}
	return withMenu(container.NewVBox(parts...), u.messageMenu(r.text, blocks)...)
}

// messageMenu is a message's context menu: its text as Markdown, each of
// its tables as TSV, each of its code blocks.
func (u *UI) messageMenu(text string, blocks []block) []*fyne.MenuItem {
	items := []*fyne.MenuItem{fyne.NewMenuItem("Copy text", func() { u.copyText(text, "Message") })}
	var tables, codes []block
	for _, b := range blocks {
		switch {
		case b.table != nil:
			tables = append(tables, b)
		case b.code != nil:
			codes = append(codes, b)
		}
	}
	for i, b := range tables {
		label := "Copy table as TSV"
		if len(tables) > 1 {
			label = fmt.Sprintf("Copy table %d as TSV", i+1)
		}
		tsv := tableTSV(b.table)
		items = append(items, fyne.NewMenuItem(label, func() { u.copyText(tsv, "Table") }))
	}
	for i, b := range codes {
		label := "Copy code"
		if len(codes) > 1 {
			label = fmt.Sprintf("Copy code block %d", i+1)
		}
		code := *b.code
		items = append(items, fyne.NewMenuItem(label, func() { u.copyText(code, "Code") }))
	}
	return items
}

// markdownBlocks renders Markdown: prose with RichText, tables as grids
// and fenced code as code blocks; sandbox:/mnt/data links become buttons
// that save the linked file.
func (u *UI) markdownBlocks(blocks []block, anns []app.Annotation) []fyne.CanvasObject {
	var out []fyne.CanvasObject
	for _, b := range blocks {
		switch {
		case b.table != nil:
			out = append(out, u.tableView(b.table, b.align))
		case b.code != nil:
			out = append(out, u.codeBlock(b.lang, *b.code, "Copy code", "Code"))
		default:
			rt := widget.NewRichTextFromMarkdown(b.text)
			rt.Wrapping = fyne.TextWrapWord
			for _, seg := range rt.Segments {
				u.linkSegments(seg, anns)
			}
			out = append(out, rt)
		}
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

// tableView draws a GFM table with a Copy as TSV action.
func (u *UI) tableView(t [][]string, align []colAlign) fyne.CanvasObject {
	tsv := tableTSV(t)
	cp := smallButton("Copy as TSV", theme.ContentCopyIcon(), func() { u.copyText(tsv, "Table") })
	return container.NewVBox(newTable(t, align), container.NewHBox(cp))
}

// codeBlock shows code or output in a monospace, selectable label on a
// background of its own, under a caption with a copy action.
func (u *UI) codeBlock(caption, text, copyLabel, what string) fyne.CanvasObject {
	l := widget.NewLabelWithStyle(text, fyne.TextAlignLeading, fyne.TextStyle{Monospace: true})
	l.Selectable = true
	l.Wrapping = fyne.TextWrapBreak
	capt := widget.NewLabelWithStyle(caption, fyne.TextAlignLeading, fyne.TextStyle{Italic: true})
	capt.SizeName = theme.SizeNameCaptionText
	cp := smallButton(copyLabel, theme.ContentCopyIcon(), func() { u.copyText(text, what) })
	head := container.NewBorder(nil, nil, capt, cp)
	return container.NewStack(newSurface(themeColor(theme.ColorNameInputBackground), 6), container.NewVBox(head, l))
}

// stepState says how a code step ended: running, stopped, failed (the
// run failed), error (the code raised; with the error), or ran.
func stepState(r *row) string {
	switch r.status {
	case app.StepInProgress:
		return "running"
	case app.StepCancelled:
		return "stopped"
	case app.StepFailed:
		return "failed"
	case app.StepExpired:
		return "expired"
	}
	if r.err != "" {
		e := []rune(r.err)
		if len(e) > 80 {
			e = append(e[:79], '…')
		}
		return "error: " + string(e)
	}
	return "ran"
}

// codeTitle is a code step's one-line summary, for code in language.
func codeTitle(r *row, language string) string {
	lines := strings.Count(strings.TrimRight(r.code, "\n"), "\n") + 1
	title := fmt.Sprintf("%s, %d lines", language, lines)
	if lines == 1 {
		title = language + ", 1 line"
	}
	charts := ""
	if len(r.images) > 0 {
		charts = fmt.Sprintf("%d chart(s)", len(r.images))
	}
	state := stepState(r)
	switch {
	case charts == "":
		return title + ", " + state
	case r.err != "" && strings.HasPrefix(state, "error: "):
		// The error last, where its own commas cannot be mistaken.
		return title + ", " + charts + ", " + state
	}
	return title + ", " + state + ", " + charts
}

func (u *UI) codeView(id widget.ListItemID, r *row) fyne.CanvasObject {
	icon := theme.MenuExpandIcon()
	if r.expanded {
		icon = theme.MenuDropDownIcon()
	}
	toggle := widget.NewButtonWithIcon(codeTitle(r, u.eng.CodeTool().Language), icon, func() {
		r.expanded = !r.expanded
		u.conv.RefreshItem(id)
	})
	toggle.Alignment = widget.ButtonAlignLeading
	toggle.Importance = widget.LowImportance
	var head fyne.CanvasObject = toggle
	if r.err != "" && r.status == app.StepCompleted {
		head = container.NewBorder(nil, nil, nil, widget.NewIcon(theme.NewErrorThemedResource(theme.ErrorIcon())), toggle)
	}
	code, logs := r.code, strings.TrimRight(r.logs, "\n")
	items := []*fyne.MenuItem{fyne.NewMenuItem("Copy code", func() { u.copyText(code, "Code") })}
	if logs != "" {
		items = append(items, fyne.NewMenuItem("Copy output", func() { u.copyText(logs, "Output") }))
	}
	if !r.expanded {
		return withMenu(head, items...)
	}
	details := []fyne.CanvasObject{head, u.codeBlock("python", code, "Copy code", "Code")}
	if logs != "" {
		details = append(details, u.codeBlock("Output", logs, "Copy output", "Output"))
	}
	for _, img := range r.images {
		details = append(details, u.imageView(img))
	}
	return withMenu(container.NewVBox(details...), items...)
}

func (u *UI) functionView(r *row) fyne.CanvasObject {
	f := r.function
	text := fmt.Sprintf("Called %s(%s)", f.Name, f.Arguments)
	if f.Output != nil {
		text += " → " + *f.Output
	}
	l := widget.NewLabel(text)
	l.Wrapping = fyne.TextWrapWord
	l.Selectable = true
	return l
}

// withMenu puts content over a contextMenu: a secondary tap (right click)
// anywhere on it that a child does not take opens the menu there. Behind
// the content rather than around it, it costs the layout nothing.
func withMenu(content fyne.CanvasObject, items ...*fyne.MenuItem) *fyne.Container {
	return container.NewStack(newContextMenu(items...), content)
}

// contextMenu is an empty area that shows a menu of actions on a
// secondary tap.
type contextMenu struct {
	widget.BaseWidget
	items []*fyne.MenuItem
}

func newContextMenu(items ...*fyne.MenuItem) *contextMenu {
	c := &contextMenu{items: items}
	c.ExtendBaseWidget(c)
	return c
}

func (c *contextMenu) CreateRenderer() fyne.WidgetRenderer {
	return widget.NewSimpleRenderer(container.NewWithoutLayout())
}

// TappedSecondary opens the menu where the tap was.
func (c *contextMenu) TappedSecondary(ev *fyne.PointEvent) {
	cv := fyne.CurrentApp().Driver().CanvasForObject(c)
	if cv == nil || len(c.items) == 0 {
		return
	}
	widget.ShowPopUpMenuAtPosition(fyne.NewMenu("", c.items...), cv, ev.AbsolutePosition)
}

// newTable lays a GFM table out as a grid of labels: the header in bold
// above a rule, a thin rule between rows, figures right-aligned (unless
// the delimiter row aligns the column), every cell cut with an ellipsis
// at its column's edge. Columns take their widest cell's width; when the
// table is wider than its place, the widest columns give way first.
func newTable(t [][]string, align []colAlign) *fyne.Container {
	rows, cols := len(t), len(t[0])
	numeric := numericColumns(t)
	l := &tableLayout{rows: rows, cols: cols, natural: make([]float32, cols)}
	var objs []fyne.CanvasObject
	for r, row := range t {
		for c, cell := range row {
			st := plainCell(cell)
			lb := widget.NewLabelWithStyle(st.text, cellAlign(align, numeric, c), fyne.TextStyle{Bold: r == 0 || st.bold, Monospace: st.monospace})
			l.natural[c] = max(l.natural[c], lb.MinSize().Width)
			lb.Truncation = fyne.TextTruncateEllipsis
			lb.Refresh()
			objs = append(objs, lb)
		}
	}
	for r := 0; r < rows-1; r++ {
		fill := themeColor(theme.ColorNameInputBorder)
		if r == 0 {
			fill = themeColor(theme.ColorNameForeground)
		}
		objs = append(objs, newSurface(fill, 0))
	}
	return container.New(l, objs...)
}

// cellAlign is column c's alignment.
func cellAlign(align []colAlign, numeric []bool, c int) fyne.TextAlign {
	a := alignNone
	if c < len(align) {
		a = align[c]
	}
	switch {
	case a == alignRight, a == alignNone && numeric[c]:
		return fyne.TextAlignTrailing
	case a == alignCenter:
		return fyne.TextAlignCenter
	}
	return fyne.TextAlignLeading
}

// tableLayout places a table's cells (row by row) and then its rules
// (one under each row but the last).
type tableLayout struct {
	rows, cols int
	natural    []float32 // each column's widest cell
}

const (
	minColumn   float32 = 36
	headerRule  float32 = 2
	rowRule     float32 = 1
	columnSlack float32 = 1
)

// widths fits the columns in avail: all at their natural width if they
// fit, else the narrow ones keep theirs and the others share the rest.
func (l *tableLayout) widths(avail float32) []float32 {
	w := make([]float32, l.cols)
	var total float32
	for c, n := range l.natural {
		w[c] = n + columnSlack
		total += w[c]
	}
	if total <= avail {
		return w
	}
	fixed := make([]bool, l.cols)
	left, open := avail, l.cols
	for changed := true; changed && open > 0; {
		changed = false
		share := left / float32(open)
		for c := range w {
			if !fixed[c] && w[c] <= share {
				fixed[c], changed = true, true
				left -= w[c]
				open--
			}
		}
	}
	if open > 0 {
		share := max(left/float32(open), minColumn)
		for c := range w {
			if !fixed[c] {
				w[c] = share
			}
		}
	}
	return w
}

func (l *tableLayout) rowHeight(objs []fyne.CanvasObject) float32 {
	var h float32
	for _, o := range objs[:l.rows*l.cols] {
		h = max(h, o.MinSize().Height)
	}
	return h
}

func (l *tableLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	w := l.widths(size.Width)
	var total float32
	for _, x := range w {
		total += x
	}
	rh := l.rowHeight(objs)
	var y float32
	for r := 0; r < l.rows; r++ {
		var x float32
		for c := 0; c < l.cols; c++ {
			o := objs[r*l.cols+c]
			o.Move(fyne.NewPos(x, y))
			o.Resize(fyne.NewSize(w[c], rh))
			x += w[c]
		}
		y += rh
		if r < l.rows-1 {
			th := rowRule
			if r == 0 {
				th = headerRule
			}
			rule := objs[l.rows*l.cols+r]
			rule.Move(fyne.NewPos(0, y))
			rule.Resize(fyne.NewSize(total, th))
			y += th
		}
	}
}

func (l *tableLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var w float32
	for _, n := range l.natural {
		w += min(n+columnSlack, minColumn)
	}
	h := float32(l.rows) * l.rowHeight(objs)
	if l.rows > 1 {
		h += headerRule + float32(l.rows-2)*rowRule
	}
	return fyne.NewSize(w, h)
}
