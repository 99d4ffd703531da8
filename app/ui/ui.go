// Package ui is Plotline's desktop window, built with Fyne: threads on the
// left, the conversation in the middle with a composer below it, the
// thread's files on the right. It drives the same engine as `plotline ask`
// and the local API, through the same calls, and renders from the same
// event stream; it holds no engine logic.
//
// Everything that touches widgets runs on Fyne's goroutine: engine events
// arrive on the bridge's goroutine and are handed over with fyne.Do there
// (bridge.go), and only there; other background work goes through onUI,
// beside it.
package ui

import (
	"context"
	"fmt"
	"image/color"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"plotline/app"
	"plotline/app/engine"
	"plotline/app/settings"
	"plotline/plotting"
)

// Services is what the window needs from the rest of Plotline.
type Services struct {
	Engine  *engine.Engine
	DataDir string
	Keys    settings.Keys
	// Apply makes new settings (and key, if not "") take effect.
	Apply func(s settings.Settings, key string) error
	// TestConnection makes one small real call to the model with these
	// settings and returns its answer.
	TestConnection func(ctx context.Context, s settings.Settings, key string) (string, error)
	// Runtime describes the Python runtime and the sandbox (plotline doctor).
	Runtime func() string
	// EnvConfigured is true when the environment configures a model, so the
	// welcome is not needed.
	EnvConfigured bool
	// Manual leaves event delivery to the caller (tests call Pump), instead
	// of the bridge goroutine.
	Manual bool
}

// UI is the main window and its state.
type UI struct {
	app fyne.App
	win fyne.Window
	svc Services
	eng *engine.Engine
	cfg settings.Settings

	threads       []app.Thread // all, newest first
	shown         []app.Thread // after search
	query         string
	searchGen     int                 // counts queries: only the newest one's result is shown
	searching     sync.WaitGroup      // filterThreads' goroutines
	index         *searchIndex        // the threads' text, for search
	live          map[string]*liveRun // by thread id: the runs the window follows
	uiq           chan func()         // work for Fyne's goroutine, when Manual
	current       string              // thread id
	pendingDelete string              // a thread deleted, waiting for its undo time
	indexed       bool                // the search index is being filled
	tl            *timeline
	assts         []app.Assistant
	asstID        string
	attached      []string // file paths waiting to be sent

	// widgets
	split       *container.Split
	sidebar     *widget.List
	search      *escEntry
	conv        *widget.List
	convStack   *fyne.Container
	composer    *composerEntry
	send        *widget.Button
	chips       *fyne.Container
	status      *widget.Label
	stop        *widget.Button
	banner      *fyne.Container
	asstSelect  *widget.Select
	files       *filesPanel
	welcome     fyne.CanvasObject
	empty       fyne.CanvasObject // a new thread's start
	images      *imageCache
	run         runState
	ctx         context.Context
	cancel      context.CancelFunc
	sub         *app.Subscription
	rowsHeights map[int]float32
	atEnd       bool    // the conversation follows its end as it grows
	endPending  bool    // a scroll to the end is posted
	endOffset   float32 // the scroll offset of the last scroll to the end
}

// runState is what the status bar shows about the current thread's run.
type runState struct {
	id      string
	phase   string // phaseThinking, phaseCode, …
	started time.Time
	retry   *app.RunRetrying // while phase is phaseRetrying
}

// New builds the window. Call Show (or ShowAndRun on the app) after.
func New(a fyne.App, svc Services) *UI {
	u := &UI{app: a, svc: svc, eng: svc.Engine, rowsHeights: map[int]float32{}, live: map[string]*liveRun{}, uiq: make(chan func(), 64)}
	u.ctx, u.cancel = context.WithCancel(context.Background())
	u.index = newSearchIndex(u.ctx, u.eng)
	u.cfg, _ = settings.Load(svc.DataDir)
	applyTheme(a, u.cfg.Theme)
	u.win = a.NewWindow("Plotline")
	u.win.SetIcon(a.Metadata().Icon)
	u.images = newImageCache(u.eng)
	st := loadState(svc.DataDir)
	u.build()
	u.split.Offset = st.Sidebar
	u.win.Resize(fyne.NewSize(st.Width, st.Height))
	u.win.SetOnDropped(u.dropped)
	u.win.SetCloseIntercept(func() {
		u.Close()
		u.win.Close()
	})
	u.reloadAssistants()
	u.reloadThreads()
	u.showWelcomeIfNeeded()
	if st.Thread != "" && !u.welcomeShown() {
		for _, t := range u.threads {
			if t.ID == st.Thread {
				u.openThread(t.ID)
			}
		}
	}
	if st.Files {
		u.toggleFiles()
	}
	u.sub = u.eng.Bus.Subscribe("")
	if !svc.Manual {
		go u.bridge()
	}
	return u
}

// dropped attaches the files dragged onto the window.
func (u *UI) dropped(_ fyne.Position, uris []fyne.URI) {
	var paths []string
	for _, uri := range uris {
		if uri.Scheme() == "file" {
			paths = append(paths, uri.Path())
		}
	}
	u.attachAndLook(paths...)
}

// attachAndLook attaches files the analyst dropped or picked, and opens
// Quick look on the first table among them: its profile and a chart, at
// once, with no model. (Files given on the command line are attached
// without it: their chips offer Quick look.)
func (u *UI) attachAndLook(paths ...string) *quickLook {
	var table string
	for _, p := range paths {
		if u.attach(p) && table == "" && plotting.IsTable(p) {
			table = p
		}
	}
	if table == "" {
		return nil
	}
	return u.quickLookLocal(table)
}

// Window is the main window.
func (u *UI) Window() fyne.Window { return u.win }

// Close saves the window's state, finishes a delete waiting for its undo
// time, and stops the bridge.
func (u *UI) Close() {
	if u.ctx.Err() == nil {
		u.flushDeletes()
		saveState(u.svc.DataDir, u.state())
	}
	u.cancel()
	u.searching.Wait()
}

func (u *UI) build() {
	// Sidebar: search, new thread, the threads.
	u.search = newEscEntry(func() {
		u.search.SetText("")
		u.win.Canvas().Focus(u.composer)
	})
	u.search.SetPlaceHolder("Search threads (" + modifierName() + "K)")
	u.search.onFocus = func() {
		// Read the threads' text before the first keystroke needs it.
		if !u.indexed {
			u.indexed = true
			threads := u.threads
			u.searching.Add(1)
			go func() {
				defer u.searching.Done()
				u.index.fill(threads)
			}()
		}
	}
	u.search.OnChanged = func(q string) { u.setQuery(q) }
	newThread := widget.NewButtonWithIcon("New thread", theme.ContentAddIcon(), u.newThread)
	newThread.Importance = widget.HighImportance
	u.sidebar = widget.NewList(
		func() int { return len(u.shown) },
		func() fyne.CanvasObject {
			title := widget.NewLabel("thread title")
			title.Truncation = fyne.TextTruncateEllipsis
			sub := widget.NewLabel("when")
			sub.SizeName = theme.SizeNameCaptionText
			return container.New(tightVBox{}, title, sub)
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id >= len(u.shown) {
				return
			}
			t := u.shown[id]
			c := o.(*fyne.Container)
			c.Objects[0].(*widget.Label).SetText(threadTitle(t))
			sub := threadWhen(time.Unix(t.CreatedAt, 0), time.Now())
			if u.running(t.ID) {
				sub = "● running · " + sub
			}
			c.Objects[1].(*widget.Label).SetText(sub)
		})
	u.sidebar.OnSelected = func(id widget.ListItemID) {
		if id < len(u.shown) && u.shown[id].ID != u.current {
			u.openThread(u.shown[id].ID)
		}
	}
	rename := widget.NewButtonWithIcon("", theme.DocumentCreateIcon(), u.renameThread)
	del := widget.NewButtonWithIcon("", theme.DeleteIcon(), u.deleteThread)
	sideTop := container.NewVBox(newThread, u.search)
	sideBottom := container.NewHBox(widget.NewLabel("Thread:"), rename, del)
	sidebar := container.NewBorder(sideTop, sideBottom, nil, nil, u.sidebar)

	// Conversation.
	u.conv = u.newConvList()
	u.welcome = u.welcomeView()
	u.convStack = container.New(&endKeeper{u: u}, u.conv)

	// Composer.
	u.composer = newComposer(u.sendMessage)
	u.composer.onEscape = u.escape
	u.composer.SetPlaceHolder("Ask about your data… (Enter sends, Shift+Enter for a new line)")
	u.composer.SetMinRowsVisible(3)
	attach := widget.NewButtonWithIcon("", theme.ContentAddIcon(), u.pickAttachment)
	u.send = widget.NewButtonWithIcon("Send", theme.MailSendIcon(), u.sendMessage)
	u.send.Importance = widget.HighImportance
	chipsLayout := &wrapLayout{cell: fyne.NewSize(220, widget.NewButton("x", nil).MinSize().Height)}
	u.chips = container.New(chipsLayout)
	composer := container.NewBorder(u.chips, nil, attach, u.send, u.composer)
	chipsLayout.relayout = func() { u.post(func() { u.win.Content().Refresh() }) }

	// Status bar and error banner.
	u.status = widget.NewLabel("")
	u.stop = widget.NewButtonWithIcon("Stop", theme.MediaStopIcon(), u.stopRun)
	u.stop.Importance = widget.DangerImportance
	u.stop.Hide()
	u.banner = container.NewVBox()
	statusBar := container.NewBorder(nil, nil, nil, u.stop, u.status)

	// Top: assistant selector, settings, export.
	u.asstSelect = widget.NewSelect(nil, func(name string) { u.selectAssistant(name) })
	u.asstSelect.PlaceHolder = "Assistant"
	editAsst := widget.NewButtonWithIcon("", theme.DocumentCreateIcon(), u.editAssistant)
	settingsBtn := widget.NewButtonWithIcon("Settings", theme.SettingsIcon(), u.showSettings)
	exportBtn := widget.NewButtonWithIcon("Export", theme.DownloadIcon(), u.showExport)
	filesBtn := widget.NewButtonWithIcon("Files", theme.FolderIcon(), func() { u.toggleFiles() })
	asstBox := container.NewGridWrap(fyne.NewSize(220, u.asstSelect.MinSize().Height), u.asstSelect)
	top := container.NewBorder(nil, nil, container.NewHBox(widget.NewLabel("Assistant:"), asstBox, editAsst),
		container.NewHBox(filesBtn, exportBtn, settingsBtn))

	center := container.NewBorder(container.NewVBox(top, u.banner), container.NewVBox(statusBar, composer), nil, nil, u.convStack)
	u.files = newFilesPanel(u)
	u.files.box.Hide()
	main := container.NewBorder(nil, nil, nil, u.files.box, center)
	u.split = container.NewHSplit(sidebar, main)
	u.win.SetContent(u.split)
	sc := map[string]shortcut{}
	for _, k := range u.shortcuts() {
		sc[k.what] = k
	}
	u.win.SetMainMenu(fyne.NewMainMenu(
		fyne.NewMenu("File",
			u.menuItem("New thread", sc["New thread"]),
			u.menuItem("Attach files…", sc["Attach files"]),
			u.menuItem("Export…", sc["Export the thread"]),
			fyne.NewMenuItemSeparator(),
			u.menuItem("Settings…", sc["Settings"]),
		),
		fyne.NewMenu("Thread",
			u.menuItem("Search threads", sc["Search threads"]),
			fyne.NewMenuItem("Regenerate the last answer", u.regenerate),
			fyne.NewMenuItem("Edit the last question", u.editLastQuestion),
			fyne.NewMenuItemSeparator(),
			fyne.NewMenuItem("Rename…", u.renameThread),
			fyne.NewMenuItem("Delete…", u.deleteThread),
			fyne.NewMenuItemSeparator(),
			fyne.NewMenuItem("Stop the answer (Esc)", u.stopRun),
		),
		fyne.NewMenu("Help",
			u.menuItem("Keyboard shortcuts", sc["Keyboard shortcuts"]),
		),
	))
	u.win.Canvas().SetOnTypedKey(func(k *fyne.KeyEvent) {
		if k.Name == fyne.KeyEscape {
			u.escape()
		}
	})
}

// newConvList makes the conversation's list: a row per timeline row,
// each as high as its content at the list's width.
func (u *UI) newConvList() *widget.List {
	l := widget.NewList(
		func() int {
			if u.tl == nil {
				return 0
			}
			return len(u.tl.rows)
		},
		// A row's height is known only once it is drawn, and the list draws
		// only rows it sees: a row not drawn yet must not be 0 high, or a
		// new answer at the end would never be seen, so never drawn.
		func() fyne.CanvasObject {
			min := canvas.NewRectangle(color.Transparent)
			min.SetMinSize(fyne.NewSize(0, 48))
			return container.NewStack(min)
		},
		func(id widget.ListItemID, o fyne.CanvasObject) { u.renderRow(id, o.(*fyne.Container)) },
	)
	l.OnSelected = func(widget.ListItemID) { l.UnselectAll() }
	return l
}

// resetConv starts the conversation's list afresh for another thread: a
// list keeps the heights it was given by row number, and the rows of the
// thread shown before would leave their heights (gaps, or rows cut off)
// where this thread's rows were not drawn yet.
func (u *UI) resetConv() {
	u.rowsHeights = map[int]float32{}
	u.atEnd, u.endOffset = true, 0
	if u.tl == nil {
		return // nothing shown: no heights to forget
	}
	old := u.conv
	u.conv = u.newConvList()
	for i, o := range u.convStack.Objects {
		if o == old {
			u.convStack.Objects[i] = u.conv
			u.convStack.Refresh()
		}
	}
}

// --- threads ---

func threadTitle(t app.Thread) string {
	if s := strings.TrimSpace(t.Metadata["title"]); s != "" {
		return s
	}
	return "New thread"
}

// threadWhen says when a thread was made, in the thread list's words.
func threadWhen(t, now time.Time) string {
	y1, m1, d1 := t.Date()
	y2, m2, d2 := now.Date()
	switch {
	case y1 == y2 && m1 == m2 && d1 == d2:
		return "Today " + t.Format("15:04")
	case now.Sub(t) < 48*time.Hour && now.AddDate(0, 0, -1).Day() == d1:
		return "Yesterday " + t.Format("15:04")
	case now.Sub(t) < 6*24*time.Hour:
		return t.Format("Monday 15:04")
	case y1 == y2:
		return t.Format("2 Jan")
	}
	return t.Format("2 Jan 2006")
}

// tightVBox stacks objects with no space between them.
type tightVBox struct{}

func (tightVBox) MinSize(objs []fyne.CanvasObject) fyne.Size {
	var s fyne.Size
	for _, o := range objs {
		m := o.MinSize()
		s.Width = max(s.Width, m.Width)
		s.Height += m.Height
	}
	// The labels' own padding is enough between title and date.
	return fyne.NewSize(s.Width, s.Height-theme.Padding()*2)
}

func (tightVBox) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	y := float32(0)
	for i, o := range objs {
		h := o.MinSize().Height
		if i > 0 {
			y -= theme.Padding() * 2
		}
		o.Move(fyne.NewPos(0, y))
		o.Resize(fyne.NewSize(size.Width, h))
		y += h
	}
}

func (u *UI) reloadThreads() {
	all, err := u.eng.AllThreads(u.ctx)
	if err != nil {
		u.showBanner("Could not list the threads: "+err.Error(), nil)
		return
	}
	if u.pendingDelete != "" {
		kept := all[:0:0]
		for _, t := range all {
			if t.ID != u.pendingDelete {
				kept = append(kept, t)
			}
		}
		all = kept
	}
	u.threads = all
	u.filterThreads()
}

// filterThreads shows the threads that match the search box. The
// filtering runs off Fyne's goroutine; a newer query's result wins.
func (u *UI) filterThreads() {
	u.searchGen++
	gen, threads, current := u.searchGen, u.threads, u.current
	q := strings.ToLower(strings.TrimSpace(u.query))
	if q == "" {
		u.showThreads(threads, -1)
		return
	}
	u.searching.Add(1)
	go func() {
		defer u.searching.Done()
		shown, pos := u.index.filter(threads, q, current)
		u.post(func() {
			if gen != u.searchGen {
				return
			}
			if u.current != current {
				pos = -1
			}
			u.showThreads(shown, pos)
		})
	}()
}

// showThreads puts threads in the thread list; pos, if not -1, is the
// current thread's place among them.
func (u *UI) showThreads(threads []app.Thread, pos int) {
	u.shown = threads
	u.sidebar.Refresh()
	if pos >= 0 {
		u.sidebar.Select(pos)
		return
	}
	u.selectCurrentInSidebar()
}

func (u *UI) selectCurrentInSidebar() {
	for i, t := range u.shown {
		if t.ID == u.current {
			u.sidebar.Select(i)
			return
		}
	}
	u.sidebar.UnselectAll()
}

// setQuery filters threads by title and by message text.
func (u *UI) setQuery(q string) {
	u.query = q
	u.filterThreads()
}

// forgetText drops a thread's indexed text after its messages changed.
func (u *UI) forgetText(threadID string) { u.index.forget(threadID) }

func messageText(m app.Message) string {
	var parts []string
	for _, c := range m.Content {
		if c.Text != nil {
			parts = append(parts, c.Text.Value)
		}
	}
	return strings.Join(parts, "\n")
}

func (u *UI) newThread() {
	u.current = ""
	u.resetConv()
	u.tl = nil
	u.conv.Refresh()
	if !u.welcomeShown() {
		u.hideWelcome()
	}
	u.sidebar.UnselectAll()
	u.files.refresh()
	u.setStatus(runState{})
	u.win.Canvas().Focus(u.composer)
}

func (u *UI) openThread(id string) {
	tr, err := u.eng.Transcript(u.ctx, id)
	if err != nil {
		if app.ErrorCode(err) == app.ENOTFOUND {
			// Deleted elsewhere (the API, another window): drop it.
			u.showBanner("That thread no longer exists.", nil)
			u.newThread()
			u.reloadThreads()
			return
		}
		u.showBanner("Could not open the thread: "+err.Error(), nil)
		u.selectCurrentInSidebar()
		return
	}
	u.showThread(id, tr)
}

// showThread shows a thread's conversation, from its transcript; the
// engine's events keep it up to date.
func (u *UI) showThread(id string, tr app.Transcript) {
	u.current = id
	u.resetConv()
	u.tl = u.withLive(id, tr)
	if t, err := u.eng.GetThread(u.ctx, id); err == nil {
		if a := t.Metadata["assistant_id"]; a != "" {
			u.setAssistantByID(a)
		}
	}
	u.hideWelcome()
	u.conv.Refresh()
	u.scrollToEnd()
	u.files.refresh()
	u.refreshRunState()
	u.selectCurrentInSidebar()
}

func (u *UI) renameThread() {
	if u.current == "" {
		return
	}
	t, err := u.eng.GetThread(u.ctx, u.current)
	if err != nil {
		return
	}
	id := u.current
	e := newEscEntry(nil)
	e.SetText(threadTitle(*t))
	d := dialog.NewForm("Rename thread", "Rename", "Cancel", []*widget.FormItem{widget.NewFormItem("Title", e)}, func(ok bool) {
		if ok && strings.TrimSpace(e.Text) != "" {
			u.setThreadTitle(id, e.Text)
		}
	}, u.win)
	e.onEscape = d.Hide
	e.onSubmit = d.Submit
	d.Resize(fyne.NewSize(480, d.MinSize().Height))
	d.Show()
	u.win.Canvas().Focus(e)
	e.TypedShortcut(&fyne.ShortcutSelectAll{}) // typing replaces the old title
}

func (u *UI) setThreadTitle(id, title string) error {
	t, err := u.eng.GetThread(u.ctx, id)
	if err != nil {
		return err
	}
	md := app.Metadata{}
	for k, v := range t.Metadata {
		md[k] = v
	}
	md["title"] = strings.TrimSpace(title)
	if _, err := u.eng.UpdateThread(u.ctx, id, app.ThreadParams{Metadata: &md}); err != nil {
		u.showBanner(err.Error(), nil)
		return err
	}
	u.reloadThreads()
	return nil
}

func (u *UI) deleteThread() {
	if u.current == "" {
		return
	}
	id := u.current
	title := u.currentTitle()
	msg := widget.NewLabel("Delete “" + title + "”, its messages and its files?")
	msg.Wrapping = fyne.TextWrapWord
	d := dialog.NewCustomConfirm("Delete thread", "Delete", "Cancel", msg, func(ok bool) {
		if ok {
			u.deleteLater(id, title)
		}
	}, u.win)
	d.Resize(fyne.NewSize(420, d.MinSize().Height))
	d.Show()
}

// undoTime is how long a deleted thread can be brought back.
const undoTime = 10 * time.Second

// deleteLater takes a thread out of the window at once, and deletes it
// when undoTime has passed without Undo, or when the window closes.
func (u *UI) deleteLater(id, title string) {
	u.flushDeletes() // one undo at a time
	u.pendingDelete = id
	if u.current == id {
		u.newThread()
	}
	u.reloadThreads()
	undo := func() {
		if u.pendingDelete == id {
			u.pendingDelete = ""
			u.clearBanner()
			u.reloadThreads()
			u.openThread(id)
		}
	}
	u.showNotice("Deleted “"+title+"”.", "Undo", undo)
	time.AfterFunc(undoTime, func() {
		u.post(func() {
			if u.pendingDelete == id {
				u.flushDeletes()
				u.clearBanner()
			}
		})
	})
}

// flushDeletes deletes the thread waiting for its undo time, if any.
func (u *UI) flushDeletes() {
	if id := u.pendingDelete; id != "" {
		u.pendingDelete = ""
		u.doDeleteThread(id)
	}
}

// doDeleteThread deletes a thread from the store.
func (u *UI) doDeleteThread(id string) {
	if err := u.eng.DeleteThread(u.ctx, id); err != nil && app.ErrorCode(err) != app.ENOTFOUND {
		u.showBanner("Could not delete the thread: "+err.Error(), nil)
		return
	}
	if u.current == id {
		u.newThread()
	}
	u.reloadThreads()
}

// --- assistants ---

func (u *UI) reloadAssistants() {
	all, err := u.eng.AllAssistants(u.ctx)
	if err != nil {
		u.showBanner("Could not list the assistants: "+err.Error(), nil)
		return
	}
	u.assts = all
	var names []string
	for _, a := range u.assts {
		names = append(names, assistantName(a))
	}
	u.asstSelect.Options = names
	if u.asstID == "" && len(u.assts) > 0 {
		u.asstID = u.assts[0].ID
		for _, a := range u.assts {
			if engine.IsDefaultAssistant(&a) {
				u.asstID = a.ID
			}
		}
	}
	u.setAssistantByID(u.asstID)
}

func assistantName(a app.Assistant) string {
	if a.Name != nil && *a.Name != "" {
		return *a.Name
	}
	return a.ID
}

func (u *UI) setAssistantByID(id string) {
	for _, a := range u.assts {
		if a.ID == id {
			u.asstID = id
			u.asstSelect.SetSelected(assistantName(a))
			return
		}
	}
}

func (u *UI) selectAssistant(name string) {
	for _, a := range u.assts {
		if assistantName(a) == name {
			u.asstID = a.ID
		}
	}
}

// --- composer and runs ---

// attachable are the kinds of file the attach dialog lists: data, the
// documents and archives the sandbox can read, and images.
var attachable = []string{".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".xls", ".json", ".jsonl", ".parquet", ".xml",
	".html", ".md", ".pdf", ".docx", ".pptx", ".zip", ".tar", ".gz", ".tgz", ".sqlite", ".db", ".png", ".jpg", ".jpeg"}

func (u *UI) pickAttachment() {
	d := dialog.NewFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		r.Close()
		u.attachAndLook(r.URI().Path())
	}, u.win)
	d.SetFilter(storage.NewExtensionFileFilter(attachable))
	d.SetConfirmText("Attach")
	d.Resize(dialogSize(u.win))
	d.Show()
}

// Attach puts files on the next question, as dropping them on the
// window does: for `plotline FILE…`, and a file manager's "Open with".
func (u *UI) Attach(paths ...string) {
	for _, p := range paths {
		u.attach(p)
	}
}

// attach puts a file on the next question, and reports whether it is
// there (it may have been already).
func (u *UI) attach(path string) bool {
	if fi, err := os.Stat(path); err != nil || !fi.Mode().IsRegular() {
		u.showBanner("Only files can be attached: "+filepath.Base(path)+" is not one.", nil)
		return false
	}
	if slices.Contains(u.attached, path) {
		return true
	}
	u.attached = append(u.attached, path)
	u.refreshChips()
	return true
}

func (u *UI) refreshChips() {
	u.chips.Objects = nil
	for _, p := range u.attached {
		name := p[strings.LastIndexAny(p, `/\`)+1:]
		label := widget.NewLabel(name)
		label.Truncation = fyne.TextTruncateEllipsis
		remove := widget.NewButtonWithIcon("", theme.CancelIcon(), func() { u.detach(p) })
		remove.Importance = widget.LowImportance
		actions := fyne.CanvasObject(remove)
		if plotting.IsTable(p) {
			look := widget.NewButtonWithIcon("", theme.VisibilityIcon(), func() { u.quickLookLocal(p) })
			look.Importance = widget.LowImportance
			actions = container.NewHBox(look, remove)
		}
		chip := container.NewBorder(nil, nil, widget.NewIcon(theme.FileIcon()), actions, label)
		u.chips.Add(chip)
	}
	u.chips.Refresh()
	if u.chips.MinSize().Height != u.chips.Size().Height {
		// A row of chips more or less: the composer's height changes.
		u.win.Content().Refresh()
	}
}

// detach takes a file off the question.
func (u *UI) detach(path string) {
	for i, q := range u.attached {
		if q == path {
			u.attached = append(u.attached[:i], u.attached[i+1:]...)
			break
		}
	}
	u.refreshChips()
}

// sendMessage sends the composer's text and attachments, then runs the
// thread's assistant.
func (u *UI) sendMessage() {
	text := strings.TrimSpace(u.composer.Text)
	if text == "" && len(u.attached) == 0 {
		return
	}
	if u.run.id != "" {
		if u.eng.ActiveRun(u.current) != nil {
			u.showBanner("Wait for the current answer, or stop it, before you send another question.", nil)
			return
		}
		// It has ended; the window has not heard yet.
		u.setStatus(runState{})
	}
	if u.asstID == "" {
		u.showBanner("There is no assistant yet: open Settings to set up a model first.", u.showSettings)
		return
	}
	if text == "" {
		text = "Here are my files."
	}
	var files []engine.AskFile
	for _, p := range u.attached {
		f, err := openLocal(p)
		if err != nil {
			u.showBanner(fmt.Sprintf("Could not attach %s: %v", p, err), nil)
			return
		}
		defer f.Close()
		files = append(files, engine.AskFile{Name: p[strings.LastIndexAny(p, `/\`)+1:], Data: f})
	}
	th, run, _, err := u.eng.Ask(u.ctx, engine.AskParams{ThreadID: u.current, AssistantID: u.asstID, Text: text, Files: files})
	if run == nil {
		u.showRunError(err)
		return
	}
	u.composer.SetText("")
	u.attached = nil
	u.refreshChips()
	u.clearBanner()
	// What the run makes comes from its events, which wait in the window's
	// subscription: the window follows the run from here.
	u.follow(app.Event{Name: "thread.run.created", ThreadID: th.ID, RunID: run.ID})
	if u.current != th.ID {
		// A new thread: its question comes from the transcript.
		tr, err := u.eng.Transcript(u.ctx, th.ID)
		if err != nil {
			u.showBanner("Could not open the thread: "+err.Error(), nil)
		}
		u.current = th.ID
		u.reloadThreads()
		u.showThread(th.ID, tr)
	}
	u.setStatus(u.liveState(th.ID))
	u.scrollToEnd() // the analyst wants to see the answer come
}

func (u *UI) stopRun() {
	if u.run.id == "" || u.current == "" {
		return
	}
	if _, err := u.eng.CancelRun(u.ctx, u.current, u.run.id); err != nil {
		// It ended on its own meanwhile; its event says how.
		u.refreshRunState()
		return
	}
	u.status.SetText(phaseStopping + "…")
}

// refreshRunState shows whether the current thread has an active run: as
// the window followed it, or, for a run it saw start before it opened, as
// the engine has it.
func (u *UI) refreshRunState() {
	if s := u.liveState(u.current); s.id != "" {
		u.setStatus(s)
		return
	}
	r := u.eng.ActiveRun(u.current)
	if r == nil {
		u.setStatus(runState{})
		return
	}
	phase := phaseThinking
	switch r.Status {
	case app.RunRequiresAction:
		phase = phaseWaiting
	case app.RunCancelling:
		phase = phaseStopping
	}
	u.setStatus(runState{id: r.ID, phase: phase, started: time.Unix(r.CreatedAt, 0)})
}

// setStatus shows the run's phase, with a Stop button while it runs.
func (u *UI) setStatus(s runState) {
	u.run = s
	if s.id == "" {
		u.status.SetText("")
		u.stop.Hide()
		u.send.Enable()
		return
	}
	u.stop.Show()
	u.send.Disable()
	u.showPhase()
}

// showPhase shows the run's phase and how long it has lasted.
func (u *UI) showPhase() {
	if u.run.phase == phaseRetrying && u.run.retry != nil {
		u.status.SetText(u.run.retry.Say(u.run.retry.After - time.Since(u.run.started)))
		return
	}
	text := u.run.phase
	if text != phaseWaiting {
		text += "…"
	}
	if secs := int(time.Since(u.run.started).Seconds()); secs > 0 && u.run.phase != phaseStopping {
		text = fmt.Sprintf("%s (%d s)", text, secs)
	}
	u.status.SetText(text)
}

// --- banner ---

func (u *UI) showBanner(msg string, action func()) {
	u.banner.Objects = nil
	label := widget.NewLabel(msg)
	label.Wrapping = fyne.TextWrapWord
	label.Importance = widget.DangerImportance
	buttons := container.NewHBox()
	if action != nil {
		buttons.Add(widget.NewButton("Open settings", action))
	}
	buttons.Add(widget.NewButtonWithIcon("", theme.CancelIcon(), u.clearBanner))
	u.banner.Add(container.NewBorder(nil, nil, nil, buttons, label))
	u.banner.Refresh()
}

// showRetryBanner offers to run the thread again, and to open the
// settings when the failure may be the model's configuration.
func (u *UI) showRetryBanner(msg string, offerSettings bool) {
	u.showBanner(msg, nil)
	row := u.banner.Objects[0].(*fyne.Container)
	btns := row.Objects[len(row.Objects)-1].(*fyne.Container)
	retry := widget.NewButtonWithIcon("Retry", theme.ViewRefreshIcon(), func() {
		u.clearBanner()
		u.startRun()
	})
	btns.Objects = append([]fyne.CanvasObject{retry}, btns.Objects...)
	if offerSettings {
		btns.Objects = append([]fyne.CanvasObject{widget.NewButton("Open settings", u.showSettings)}, btns.Objects...)
	}
	btns.Refresh()
}

// startRun runs the thread's assistant again, on the thread as it is.
func (u *UI) startRun() {
	run, _, err := u.eng.CreateRun(u.ctx, u.current, app.RunParams{AssistantID: u.asstID})
	if err != nil {
		u.showRunError(err)
		return
	}
	u.clearBanner()
	u.follow(app.Event{Name: "thread.run.created", ThreadID: u.current, RunID: run.ID})
	u.setStatus(u.liveState(u.current))
}

// showRunError says why a question or a run was refused, by the error's
// code.
func (u *UI) showRunError(err error) {
	switch app.ErrorCode(err) {
	case app.ELOCKED:
		u.showBanner("Wait for the current answer, or stop it, before you send another question.", nil)
		u.refreshRunState()
	case app.EMODEL:
		p := explain(err, u.modelTarget())
		var openSettings func()
		if p.action == actSettings {
			openSettings = u.showSettings
		}
		u.showBanner(p.text, openSettings)
	case app.EUNAVAILABLE:
		u.showBanner("Plotline cannot run this now: "+err.Error(), nil)
	default:
		u.showBanner(err.Error(), nil)
	}
}

// showNotice shows a message that is not an error, with one action.
func (u *UI) showNotice(msg, label string, action func()) {
	u.banner.Objects = nil
	l := widget.NewLabel(msg)
	l.Wrapping = fyne.TextWrapWord
	buttons := container.NewHBox(widget.NewButton(label, action), widget.NewButtonWithIcon("", theme.CancelIcon(), u.clearBanner))
	u.banner.Add(container.NewBorder(nil, nil, nil, buttons, l))
	u.banner.Refresh()
}

// regenerate runs the thread's assistant again for its last question,
// in place of the answer it gave.
func (u *UI) regenerate() {
	if u.current == "" || u.run.id != "" || u.tl == nil {
		return
	}
	// The answer is the assistant messages after the last question.
	var answer []string
	for i := len(u.tl.rows) - 1; i >= 0; i-- {
		r := u.tl.rows[i]
		if r.kind == rowUser {
			break
		}
		if r.kind == rowAssistant {
			answer = append(answer, r.id)
		}
	}
	for _, id := range answer {
		if err := u.eng.DeleteMessage(u.ctx, u.current, id); err != nil && app.ErrorCode(err) != app.ENOTFOUND {
			u.showBanner("Could not remove the old answer: "+err.Error(), nil)
			return
		}
	}
	if len(answer) > 0 {
		u.openThread(u.current)
	}
	u.startRun()
}

// editLastQuestion puts the thread's last question in the composer, to be
// changed and sent again.
func (u *UI) editLastQuestion() {
	if u.tl == nil {
		return
	}
	for i := len(u.tl.rows) - 1; i >= 0; i-- {
		if r := u.tl.rows[i]; r.kind == rowUser {
			u.composer.SetText(r.text)
			u.composer.CursorRow = len(strings.Split(r.text, "\n")) - 1
			u.win.Canvas().Focus(u.composer)
			return
		}
	}
}

func (u *UI) clearBanner() {
	u.banner.Objects = nil
	u.banner.Refresh()
}

// bannerText is the banner's message, for tests.
func (u *UI) bannerText() string {
	for _, o := range u.banner.Objects {
		if c, ok := o.(*fyne.Container); ok {
			for _, w := range c.Objects {
				if l, ok := w.(*widget.Label); ok {
					return l.Text
				}
			}
		}
	}
	return ""
}
