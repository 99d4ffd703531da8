package ui

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"plotline/app"
	"plotline/app/modeltest"
	"plotline/app/openai"
	"plotline/app/settings"
)

// silentServer accepts requests and never answers them; arrived receives
// one value a request.
func silentServer(t *testing.T) (base string, arrived chan struct{}) {
	arrived = make(chan struct{}, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Read the request, so that the server notices when the client
		// hangs up.
		io.Copy(io.Discard, r.Body)
		arrived <- struct{}{}
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/v1", arrived
}

// testByChat is Services.TestConnection as the app has it (app/cli): one
// real call through the openai adapter, tried once.
func testByChat(ctx context.Context, s settings.Settings, key string) (string, error) {
	m, err := openai.New(openai.Config{Provider: openai.ProviderCompatible, BaseURL: s.Endpoint, APIKey: key, MaxRetries: -1})
	if err != nil {
		return "", err
	}
	res, err := m.Chat(ctx, app.ChatRequest{Model: s.Model, Messages: []app.ChatMessage{{Role: "user", Content: "Reply with OK."}}}, nil)
	if err != nil {
		return "", err
	}
	return res.Text, nil
}

// settingsFor opens the settings form of w, for a compatible server at
// base; done is closed when a connection test has shown its outcome.
func settingsFor(w *window, base string) (f *settingsForm, done chan struct{}) {
	w.u.svc.TestConnection = testByChat
	f = w.u.newSettingsForm()
	f.provider.SetSelected(providerLabels[2])
	f.endpoint.SetText(base)
	done = make(chan struct{})
	f.tested = func() { close(done) }
	return f, done
}

func waitTested(t *testing.T, done chan struct{}, within time.Duration) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(within):
		t.Fatalf("the connection test did not end within %v", within)
	}
}

// Against a server that never answers, "Test connection" gives up after
// its timeout, and says so in plain words.
func TestTestConnectionTimesOut(t *testing.T) {
	w := newWindow(t)
	base, _ := silentServer(t)
	f, done := settingsFor(w, base)
	f.testTimeout = 300 * time.Millisecond
	start := time.Now()
	test.Tap(f.test)
	waitTested(t, done, 20*time.Second)
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("the test took %v with a timeout of %v", took, f.testTimeout)
	}
	want := "The model server at " + hostOf(base) + " didn't answer in 0.3 s."
	if f.message.Text != want {
		t.Fatalf("message = %q, want %q", f.message.Text, want)
	}
	if f.test.Disabled() || f.cancelTest.Visible() || f.stopTest != nil {
		t.Fatal("after the test, Test connection is still disabled or Cancel still shown")
	}
}

// Cancel ends a connection test at once.
func TestTestConnectionCancel(t *testing.T) {
	w := newWindow(t)
	base, arrived := silentServer(t)
	f, done := settingsFor(w, base)
	f.testTimeout = time.Minute
	test.Tap(f.test)
	select {
	case <-arrived:
	case <-time.After(20 * time.Second):
		t.Fatal("the test's request never reached the server")
	}
	if f.message.Text != "Testing…" || !f.test.Disabled() || !f.cancelTest.Visible() {
		t.Fatalf("while testing: message %q, test disabled %v, cancel visible %v", f.message.Text, f.test.Disabled(), f.cancelTest.Visible())
	}
	start := time.Now()
	test.Tap(f.cancelTest)
	waitTested(t, done, 20*time.Second)
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("cancelling took %v", took)
	}
	if f.message.Text != "Test cancelled." || f.test.Disabled() || f.cancelTest.Visible() {
		t.Fatalf("after Cancel: message %q, test disabled %v, cancel visible %v", f.message.Text, f.test.Disabled(), f.cancelTest.Visible())
	}
}

// A refused connection is named in the test's outcome too.
func TestTestConnectionRefused(t *testing.T) {
	w := newWindow(t)
	addr := modeltest.ClosedAddr(t)
	f, done := settingsFor(w, "http://"+addr+"/v1")
	test.Tap(f.test)
	waitTested(t, done, 20*time.Second)
	if want := "Can't reach the model server at " + addr + ". Is the server running?"; f.message.Text != want {
		t.Fatalf("message = %q, want %q", f.message.Text, want)
	}
}

// OpenAI and Azure need a key: the test asks for one rather than calling.
func TestTestConnectionWantsAKey(t *testing.T) {
	w := newWindow(t)
	f, _ := settingsFor(w, "")
	called := false
	w.u.svc.TestConnection = func(context.Context, settings.Settings, string) (string, error) { called = true; return "OK", nil }
	f.provider.SetSelected(providerLabels[0])
	test.Tap(f.test)
	if called || f.message.Text != "Enter the API key first." {
		t.Fatalf("called %v, message %q", called, f.message.Text)
	}
}

// A run that failed because no model is set up leaves a banner that sends
// the user to the settings; saving them clears it, and the welcome.
func TestSavingSettingsClearsModelBanner(t *testing.T) {
	w := newWindow(t, modeltest.Turn{Status: 401, ErrorMessage: NoModelText})
	w.u.svc.EnvConfigured = false
	w.u.showWelcomeIfNeeded()
	w.ask("Hello?")
	w.waitIdle()
	if got := w.u.bannerText(); got != NoModelText {
		t.Fatalf("banner = %q", got)
	}
	findButton(t, w.u.banner, "Open settings")
	w.u.showWelcomeIfNeeded()
	if !w.u.welcomeShown() {
		t.Fatal("no welcome before the settings are saved")
	}

	f := w.u.newSettingsForm()
	f.provider.SetSelected(providerLabels[2])
	f.endpoint.SetText(w.model.BaseURL())
	test.Tap(f.save)
	if f.message.Text != "Saved." {
		t.Fatalf("save: %q", f.message.Text)
	}
	if got := w.u.bannerText(); got != "" {
		t.Fatalf("the banner stayed after saving the settings: %q", got)
	}
	if w.u.welcomeShown() {
		t.Fatal("the welcome stayed after saving the settings")
	}

	// A banner about something else stays.
	w.u.showBanner("Could not attach /tmp/x.csv: permission denied", nil)
	test.Tap(f.save)
	if got := w.u.bannerText(); got != "Could not attach /tmp/x.csv: permission denied" {
		t.Fatalf("banner = %q", got)
	}
}

// The settings show the model questions go to (the default assistant's),
// and saving another one there makes the default assistant use it.
func TestSettingsModelIsTheModelInUse(t *testing.T) {
	w := newWindow(t)
	def := w.u.defaultAssistant()
	if def == nil || def.Model != "test-model" {
		t.Fatalf("default assistant = %+v", def)
	}
	f := w.u.newSettingsForm()
	if f.model.Text != "test-model" {
		t.Fatalf("the settings' model = %q, want the default assistant's, test-model", f.model.Text)
	}
	f.provider.SetSelected(providerLabels[2])
	f.endpoint.SetText("http://localhost:11434/v1")
	f.model.SetText("llama3.1")
	test.Tap(f.save)
	if f.message.Text != "Saved." {
		t.Fatalf("save: %q", f.message.Text)
	}
	a, err := w.u.eng.GetAssistant(context.Background(), def.ID)
	if err != nil || a.Model != "llama3.1" {
		t.Fatalf("the default assistant after saving: %+v, %v", a, err)
	}
	if s, _ := settings.Load(w.data); s.Model != "llama3.1" {
		t.Fatalf("saved settings: %+v", s)
	}
	if again := w.u.newSettingsForm(); again.model.Text != "llama3.1" {
		t.Fatalf("the settings' model after saving = %q", again.model.Text)
	}
	if !strings.Contains(w.u.modelTarget().Model, "llama3.1") {
		t.Fatalf("model target = %+v", w.u.modelTarget())
	}
}

// The runtime setting is saved for the next start, and shown as saved.
func TestSettingsRuntime(t *testing.T) {
	w := newWindow(t)
	f := w.u.newSettingsForm()
	if f.runtime.Selected != runtimeLabels[0] {
		t.Fatalf("runtime shown %q, want the automatic choice", f.runtime.Selected)
	}
	f.provider.SetSelected(providerLabels[2])
	f.endpoint.SetText("http://localhost:11434/v1")
	f.runtime.SetSelected("Starlark (no Python needed)")
	test.Tap(f.save)
	if f.message.Text != "Saved." {
		t.Fatalf("save: %q", f.message.Text)
	}
	if s, _ := settings.Load(w.data); s.Runtime != "starlark" {
		t.Fatalf("saved runtime %q", s.Runtime)
	}
	if again := w.u.newSettingsForm(); again.runtime.Selected != "Starlark (no Python needed)" {
		t.Fatalf("runtime shown after saving %q", again.runtime.Selected)
	}
	if err := (settings.Settings{Provider: settings.ProviderOpenAI, Runtime: "java"}).Validate(); err == nil {
		t.Fatal("an unknown runtime was valid")
	}
}
