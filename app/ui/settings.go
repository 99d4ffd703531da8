package ui

import (
	"context"
	"errors"
	"strconv"
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

// Labels of the providers in the settings form.
var providerLabels = []string{"OpenAI", "Azure OpenAI", "OpenAI-compatible / local (Ollama, LM Studio…)"}

func providerOf(label string) string {
	switch label {
	case providerLabels[0]:
		return settings.ProviderOpenAI
	case providerLabels[1]:
		return settings.ProviderAzure
	case providerLabels[2]:
		return settings.ProviderCompatible
	}
	return ""
}

func labelOf(provider string) string {
	switch provider {
	case settings.ProviderOpenAI:
		return providerLabels[0]
	case settings.ProviderAzure:
		return providerLabels[1]
	case settings.ProviderCompatible:
		return providerLabels[2]
	}
	return ""
}

// settingsForm is the settings dialog's content and state.
type settingsForm struct {
	u          *UI
	provider   *widget.Select
	endpoint   *widget.Entry
	model      *widget.Entry
	apiVersion *widget.Entry
	key        *widget.Entry
	theme      *widget.RadioGroup
	timeout    *widget.Entry
	memory     *widget.Entry
	message    *widget.Label
	runtime    *widget.Select
	test       *widget.Button
	cancelTest *widget.Button
	save       *widget.Button
	content    fyne.CanvasObject
	onSaved    func()

	// testTimeout bounds "Test connection"; stopTest ends a test in
	// progress (nil when none is); tested, if set, is called once a
	// test's outcome is shown (for tests).
	testTimeout time.Duration
	stopTest    context.CancelFunc
	tested      func()
}

// testConnectionTimeout is how long "Test connection" waits for an answer:
// a server that is up answers a one-word question well within it.
const testConnectionTimeout = 10 * time.Second

func (u *UI) newSettingsForm() *settingsForm {
	f := &settingsForm{u: u, testTimeout: testConnectionTimeout}
	c := u.cfg
	f.provider = widget.NewSelect(providerLabels, func(string) { f.adapt() })
	f.endpoint = widget.NewEntry()
	f.endpoint.SetPlaceHolder("https://…  (for a local server: http://localhost:11434/v1)")
	f.model = widget.NewEntry()
	f.model.SetPlaceHolder(engine.DefaultModel + ", or the Azure deployment name")
	f.apiVersion = widget.NewEntry()
	f.apiVersion.SetPlaceHolder("2024-10-21")
	f.key = widget.NewPasswordEntry()
	if k, where, _ := u.svc.Keys.Get(); k != "" {
		f.key.SetPlaceHolder("saved (" + settings.Mask(k) + ", in " + keyPlace(where) + "); type to replace")
	} else {
		f.key.SetPlaceHolder("the API key (not needed for most local servers)")
	}
	f.theme = widget.NewRadioGroup([]string{"system", "light", "dark"}, nil)
	f.theme.Horizontal = true
	f.timeout = widget.NewEntry()
	f.timeout.SetPlaceHolder("120")
	f.memory = widget.NewEntry()
	f.memory.SetPlaceHolder("2048")
	f.runtime = widget.NewSelect(runtimeLabels, nil)
	f.runtime.SetSelected(runtimeLabel(c.Runtime))
	f.message = widget.NewLabel("")
	f.message.Wrapping = fyne.TextWrapWord
	f.test = widget.NewButtonWithIcon("Test connection", theme.ViewRefreshIcon(), f.testConnection)
	f.cancelTest = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), func() {
		if f.stopTest != nil {
			f.stopTest()
		}
	})
	f.cancelTest.Hide()
	f.save = widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), f.submit)
	f.save.Importance = widget.HighImportance

	f.provider.SetSelected(labelOf(c.Provider))
	f.endpoint.SetText(c.Endpoint)
	// The model in use is the default assistant's: the field shows it, and
	// saving changes it (submit).
	f.model.SetText(u.modelInUse())
	f.apiVersion.SetText(c.APIVersion)
	if c.Theme == "" {
		c.Theme = "system"
	}
	f.theme.SetSelected(c.Theme)
	if c.CellTimeoutSeconds > 0 {
		f.timeout.SetText(strconv.Itoa(c.CellTimeoutSeconds))
	}
	if c.MemoryMB > 0 {
		f.memory.SetText(strconv.Itoa(c.MemoryMB))
	}
	runtime := "Python: unknown"
	if u.svc.Runtime != nil {
		runtime = u.svc.Runtime()
	}
	rt := widget.NewLabel(runtime)
	rt.Wrapping = fyne.TextWrapWord
	runs := widget.NewFormItem("Code runs as", f.runtime)
	runs.HintText = "from the next start of Plotline"
	form := widget.NewForm(
		widget.NewFormItem("Provider", f.provider),
		widget.NewFormItem("Endpoint", f.endpoint),
		widget.NewFormItem("Model", f.model),
		widget.NewFormItem("API version", f.apiVersion),
		widget.NewFormItem("API key", f.key),
		widget.NewFormItem("Theme", f.theme),
		widget.NewFormItem("Cell time limit (s)", f.timeout),
		widget.NewFormItem("Memory limit (MB)", f.memory),
		runs,
	)
	f.content = container.NewVBox(form, f.message, container.NewHBox(f.test, f.cancelTest, f.save),
		widget.NewSeparator(), widget.NewLabelWithStyle("Runtime", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), rt)
	f.adapt()
	return f
}

// The runtimes, as the settings offer them.
var (
	runtimeLabels = []string{"Python if it can run here, else Starlark", "Python (sandboxed)", "Starlark (no Python needed)"}
	runtimeValues = []string{"auto", "python", "starlark"}
)

func runtimeLabel(v string) string {
	for i, r := range runtimeValues {
		if r == v {
			return runtimeLabels[i]
		}
	}
	return runtimeLabels[0]
}

func runtimeOf(label string) string {
	for i, l := range runtimeLabels {
		if l == label {
			return runtimeValues[i]
		}
	}
	return ""
}

func keyPlace(where string) string {
	if where == "keychain" {
		return "the system keychain"
	}
	return where
}

// adapt shows only the fields the chosen provider uses.
func (f *settingsForm) adapt() {
	switch providerOf(f.provider.Selected) {
	case settings.ProviderAzure:
		f.apiVersion.Enable()
		f.endpoint.Enable()
	case settings.ProviderOpenAI:
		f.apiVersion.Disable()
	default:
		f.apiVersion.Disable()
		f.endpoint.Enable()
	}
}

// values reads the form; the error says what is wrong in it.
func (f *settingsForm) values() (settings.Settings, error) {
	s := settings.Settings{
		Provider:   providerOf(f.provider.Selected),
		Endpoint:   strings.TrimSpace(f.endpoint.Text),
		Model:      strings.TrimSpace(f.model.Text),
		APIVersion: strings.TrimSpace(f.apiVersion.Text),
		Theme:      f.theme.Selected,
		Runtime:    runtimeOf(f.runtime.Selected),
	}
	var err error
	if s.CellTimeoutSeconds, err = atoiOrZero(f.timeout.Text, "cell time limit"); err != nil {
		return s, err
	}
	if s.MemoryMB, err = atoiOrZero(f.memory.Text, "memory limit"); err != nil {
		return s, err
	}
	return s, s.Validate()
}

func atoiOrZero(v, what string) (int, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, &formError{"the " + what + " must be a whole number"}
	}
	return n, nil
}

type formError struct{ msg string }

func (e *formError) Error() string { return e.msg }

func (f *settingsForm) fail(msg string) {
	f.message.Importance = widget.DangerImportance
	f.message.SetText(msg)
}

// submit validates and saves the settings and the key, and applies them.
func (f *settingsForm) submit() {
	s, err := f.values()
	if err != nil {
		f.fail("Not saved: " + err.Error() + ".")
		return
	}
	u := f.u
	if err := s.Save(u.svc.DataDir); err != nil {
		f.fail("Not saved: " + err.Error())
		return
	}
	key := f.key.Text
	warning := ""
	if key != "" {
		insecure, err := u.svc.Keys.Set(key)
		if err != nil {
			f.fail("The key could not be saved: " + err.Error())
			return
		}
		if insecure {
			warning = " No system keychain was found, so the key is kept in a file only you can read, in Plotline's data folder."
		}
	}
	if u.svc.Apply != nil {
		if err := u.svc.Apply(s, key); err != nil {
			f.fail("Saved, but not applied: " + err.Error())
			return
		}
	}
	u.cfg = s
	applyTheme(u.app, s.Theme)
	modelErr := u.setDefaultModel(s.Model)
	u.reloadAssistants()
	u.showWelcomeIfNeeded()
	// A banner that sent the user here was about the settings just
	// replaced ("No model is set up yet", a refused key…).
	if u.bannerOffersSettings() {
		u.clearBanner()
	}
	if modelErr != nil {
		f.fail("Saved, but the assistant's model was not changed: " + modelErr.Error())
		return
	}
	f.message.Importance = widget.SuccessImportance
	if warning != "" {
		f.message.Importance = widget.WarningImportance
	}
	f.message.SetText("Saved." + warning)
	if f.onSaved != nil && warning == "" {
		f.onSaved()
	}
}

// setDefaultModel makes the default assistant use the model named in the
// settings, so that the model is set in one place.
func (u *UI) setDefaultModel(name string) error {
	a := u.defaultAssistant()
	name = strings.TrimSpace(name)
	if a == nil || name == "" || name == a.Model {
		return nil
	}
	_, err := u.eng.UpdateAssistant(u.ctx, a.ID, app.AssistantParams{Model: &name})
	return err
}

// testConnection makes one small real call and says what came back, or
// why nothing did, within testTimeout; Cancel ends it sooner.
func (f *settingsForm) testConnection() {
	s, err := f.values()
	if err != nil {
		f.fail(err.Error() + ".")
		return
	}
	key := f.key.Text
	if key == "" {
		key, _, _ = f.u.svc.Keys.Get()
	}
	if f.u.svc.TestConnection == nil || f.stopTest != nil {
		return
	}
	if key == "" && s.Provider != settings.ProviderCompatible {
		f.fail("Enter the API key first.")
		return
	}
	target := ModelTarget{Endpoint: s.Endpoint, Provider: s.Provider, Model: s.Model, Timeout: f.testTimeout}
	if target.Endpoint == "" && s.Provider == settings.ProviderOpenAI {
		target.Endpoint = "https://api.openai.com/v1"
	}
	if target.Model == "" {
		target.Model = f.u.modelInUse()
	}
	s.Model = target.Model
	f.message.Importance = widget.MediumImportance
	f.message.SetText("Testing…")
	f.test.Disable()
	f.cancelTest.Show()
	ctx, cancel := context.WithTimeout(context.Background(), f.testTimeout)
	f.stopTest = cancel
	go func() {
		answer, err := f.u.svc.TestConnection(ctx, s, key)
		why := ctx.Err()
		cancel()
		onUI(func() {
			f.stopTest = nil
			f.test.Enable()
			f.cancelTest.Hide()
			switch {
			case err == nil:
				f.message.Importance = widget.SuccessImportance
				f.message.SetText("It works. The model answered: " + short(answer))
			case errors.Is(why, context.Canceled):
				f.message.Importance = widget.MediumImportance
				f.message.SetText("Test cancelled.")
			case errors.Is(why, context.DeadlineExceeded):
				f.fail(timeoutText(hostOf(target.Endpoint), f.testTimeout).text)
			default:
				f.fail(explain(err, target).text)
			}
			if f.tested != nil {
				f.tested()
			}
		})
	}()
}

func (u *UI) showSettings() {
	f := u.newSettingsForm()
	d := dialog.NewCustom("Settings", "Close", container.NewVScroll(f.content), u.win)
	f.onSaved = d.Hide
	d.SetOnClosed(func() {
		if f.stopTest != nil {
			f.stopTest()
		}
	})
	d.Resize(fyne.NewSize(640, 600))
	d.Show()
}
