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
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"plotline/app"
	"plotline/app/engine"
	"plotline/app/settings"
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

	threads   []app.Thread // all, newest first
	shown     []app.Thread // after search
	query     string
	matches   map[string]bool   // thread ids whose text matches query
	textIndex map[string]string // thread id → its text, for search
	current   string            // thread id
	tl        *timeline
	assts     []app.Assistant
	asstID    string
	attached  []string // file paths waiting to be sent

	// widgets
	sidebar     *widget.List
	search      *widget.Entry
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
	images      *imageCache
	run         runState
	ctx         context.Context
	cancel      context.CancelFunc
	sub         *app.Subscription
	rowsHeights map[int]float32
}

// runState is what the status bar shows about the current thread's run.
type runState struct {
	id      string
	phase   string // thinking, running code, waiting
	started time.Time
	ticker  *time.Ticker
}

// New builds the window. Call Show (or ShowAndRun on the app) after.
func New(a fyne.App, svc Services) *UI {
	u := &UI{app: a, svc: svc, eng: svc.Engine, matches: map[string]bool{}, rowsHeights: map[int]float32{}}
	u.ctx, u.cancel = context.WithCancel(context.Background())
	u.cfg, _ = settings.Load(svc.DataDir)
	applyTheme(a, u.cfg.Theme)
	u.win = a.NewWindow("Plotline")
	u.win.SetIcon(a.Metadata().Icon)
	u.images = newImageCache(u.eng)
	u.build()
	u.win.Resize(fyne.NewSize(1200, 780))
	u.win.SetOnDropped(u.dropped)
	u.win.SetCloseIntercept(func() {
		u.cancel()
		u.win.Close()
	})
	u.reloadAssistants()
	u.reloadThreads()
	u.showWelcomeIfNeeded()
	u.sub = u.eng.Bus.Subscribe("")
	if !svc.Manual {
		go u.bridge()
	}
	return u
}

// dropped attaches the files dragged onto the window.
func (u *UI) dropped(_ fyne.Position, uris []fyne.URI) {
	for _, uri := range uris {
		if uri.Scheme() == "file" {
			u.attach(uri.Path())
		}
	}
}

// Window is the main window.
func (u *UI) Window() fyne.Window { return u.win }

// Close stops the bridge.
func (u *UI) Close() { u.cancel() }

func (u *UI) build() {
	// Sidebar: search, new thread, the threads.
	u.search = widget.NewEntry()
	u.search.SetPlaceHolder("Search threads")
	u.search.OnChanged = func(q string) { u.setQuery(q) }
	newThread := widget.NewButtonWithIcon("New thread", theme.ContentAddIcon(), u.newThread)
	newThread.Importance = widget.HighImportance
	u.sidebar = widget.NewList(
		func() int { return len(u.shown) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("thread title")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(id widget.ListItemID, o fyne.CanvasObject) {
			if id < len(u.shown) {
				o.(*widget.Label).SetText(threadTitle(u.shown[id]))
			}
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
	u.conv = widget.NewList(
		func() int {
			if u.tl == nil {
				return 0
			}
			return len(u.tl.rows)
		},
		func() fyne.CanvasObject { return container.NewStack() },
		func(id widget.ListItemID, o fyne.CanvasObject) { u.renderRow(id, o.(*fyne.Container)) },
	)
	u.conv.OnSelected = func(id widget.ListItemID) { u.conv.UnselectAll() }
	u.welcome = u.welcomeView()
	u.convStack = container.NewStack(u.conv)

	// Composer.
	u.composer = newComposer(u.sendMessage)
	u.composer.SetPlaceHolder("Ask about your data… (Enter sends, Shift+Enter for a new line)")
	u.composer.SetMinRowsVisible(3)
	attach := widget.NewButtonWithIcon("", theme.ContentAddIcon(), u.pickAttachment)
	u.send = widget.NewButtonWithIcon("Send", theme.MailSendIcon(), u.sendMessage)
	u.send.Importance = widget.HighImportance
	u.chips = container.NewHBox()
	composer := container.NewBorder(u.chips, nil, attach, u.send, u.composer)

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
	split := container.NewHSplit(sidebar, main)
	split.Offset = 0.22
	u.win.SetContent(split)
	u.win.SetMainMenu(fyne.NewMainMenu(
		fyne.NewMenu("File",
			fyne.NewMenuItem("New thread", u.newThread),
			fyne.NewMenuItem("Attach a file…", u.pickAttachment),
			fyne.NewMenuItemSeparator(),
			fyne.NewMenuItem("Export as Markdown…", func() { u.exportMarkdown() }),
			fyne.NewMenuItem("Export as notebook…", func() { u.exportNotebook() }),
			fyne.NewMenuItemSeparator(),
			fyne.NewMenuItem("Settings…", u.showSettings),
		),
	))
}

// --- threads ---

func threadTitle(t app.Thread) string {
	if s := strings.TrimSpace(t.Metadata["title"]); s != "" {
		return s
	}
	return "New thread"
}

func (u *UI) reloadThreads() {
	all, err := u.eng.AllThreads(u.ctx)
	if err != nil {
		u.showBanner("Could not list the threads: "+err.Error(), nil)
		return
	}
	u.threads = all
	u.filterThreads()
}

func (u *UI) filterThreads() {
	u.shown = u.shown[:0]
	q := strings.ToLower(strings.TrimSpace(u.query))
	for _, t := range u.threads {
		if q == "" || strings.Contains(strings.ToLower(threadTitle(t)), q) || u.matches[t.ID] {
			u.shown = append(u.shown, t)
		}
	}
	u.sidebar.Refresh()
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

// setQuery filters threads by title at once, and by message text too.
func (u *UI) setQuery(q string) {
	u.query = q
	u.matches = map[string]bool{}
	if ql := strings.ToLower(strings.TrimSpace(q)); ql != "" {
		for _, t := range u.threads {
			if strings.Contains(u.searchText(t.ID), ql) {
				u.matches[t.ID] = true
			}
		}
	}
	u.filterThreads()
}

// searchText is a thread's messages' text, lower-cased, read from the
// store once and kept until the thread's messages change (see handle), so
// that typing in the search box reads nothing.
func (u *UI) searchText(threadID string) string {
	if s, ok := u.textIndex[threadID]; ok {
		return s
	}
	tr, err := u.eng.Transcript(u.ctx, threadID)
	if err != nil {
		return ""
	}
	var b strings.Builder
	for _, e := range tr {
		if e.Message != nil {
			b.WriteString(strings.ToLower(messageText(*e.Message)))
			b.WriteByte('\n')
		}
	}
	if u.textIndex == nil {
		u.textIndex = map[string]string{}
	}
	u.textIndex[threadID] = b.String()
	return u.textIndex[threadID]
}

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
	u.tl = nil
	u.conv.Refresh()
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
	u.rowsHeights = map[int]float32{}
	u.tl = buildTimeline(id, tr)
	if t, err := u.eng.GetThread(u.ctx, id); err == nil {
		if a := t.Metadata["assistant_id"]; a != "" {
			u.setAssistantByID(a)
		}
	}
	u.hideWelcome()
	u.conv.Refresh()
	u.conv.ScrollToBottom()
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
	e := widget.NewEntry()
	e.SetText(threadTitle(*t))
	dialog.ShowForm("Rename thread", "Rename", "Cancel", []*widget.FormItem{widget.NewFormItem("Title", e)}, func(ok bool) {
		if ok {
			u.setThreadTitle(u.current, e.Text)
		}
	}, u.win)
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
	dialog.ShowConfirm("Delete thread", "Delete this thread, its messages and its files? This cannot be undone.", func(ok bool) {
		if ok {
			u.doDeleteThread(id)
		}
	}, u.win)
}

func (u *UI) doDeleteThread(id string) {
	if err := u.eng.DeleteThread(u.ctx, id); err != nil {
		u.showBanner(err.Error(), nil)
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

func (u *UI) pickAttachment() {
	dialog.ShowFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		r.Close()
		u.attach(r.URI().Path())
	}, u.win)
}

func (u *UI) attach(path string) {
	for _, p := range u.attached {
		if p == path {
			return
		}
	}
	u.attached = append(u.attached, path)
	u.refreshChips()
}

func (u *UI) refreshChips() {
	u.chips.Objects = nil
	for _, p := range u.attached {
		p := p
		name := p[strings.LastIndexAny(p, `/\`)+1:]
		chip := widget.NewButtonWithIcon(name, theme.CancelIcon(), func() {
			for i, q := range u.attached {
				if q == p {
					u.attached = append(u.attached[:i], u.attached[i+1:]...)
					break
				}
			}
			u.refreshChips()
		})
		chip.Importance = widget.LowImportance
		u.chips.Add(chip)
	}
	u.chips.Refresh()
}

// sendMessage sends the composer's text and attachments, then runs the
// thread's assistant.
func (u *UI) sendMessage() {
	text := strings.TrimSpace(u.composer.Text)
	if text == "" && len(u.attached) == 0 {
		return
	}
	if u.run.id != "" {
		u.showBanner("Wait for the current answer, or stop it, before you send another question.", nil)
		return
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
	if u.current != th.ID {
		// A new thread: its question comes from the transcript. What the
		// run made so far does not: its events wait in the window's
		// subscription, and would show its first deltas twice.
		tr, err := u.eng.Transcript(u.ctx, th.ID)
		if err != nil {
			u.showBanner("Could not open the thread: "+err.Error(), nil)
		}
		u.current = th.ID
		u.reloadThreads()
		u.showThread(th.ID, withoutRun(tr, run.ID))
	}
	u.setStatus(runState{id: run.ID, phase: "Thinking…", started: time.Now()})
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
	u.status.SetText("Stopping…")
}

// refreshRunState shows whether the current thread has an active run.
func (u *UI) refreshRunState() {
	r := u.eng.ActiveRun(u.current)
	if r == nil {
		u.setStatus(runState{})
		return
	}
	phase := "Thinking…"
	switch r.Status {
	case app.RunRequiresAction:
		phase = "Waiting for tool outputs"
	case app.RunCancelling:
		phase = "Stopping…"
	}
	u.setStatus(runState{id: r.ID, phase: phase, started: time.Now()})
}

// setStatus shows the run's phase, with a Stop button while it runs.
func (u *UI) setStatus(s runState) {
	if u.run.ticker != nil {
		u.run.ticker.Stop()
	}
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

func (u *UI) showPhase() {
	text := u.run.phase
	if u.run.phase == "Running code" {
		text = fmt.Sprintf("Running code (%d s)", int(time.Since(u.run.started).Seconds()))
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
	u.setStatus(runState{id: run.ID, phase: "Thinking…", started: time.Now()})
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
