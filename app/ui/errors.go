package ui

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"

	"plotline/app"
	"plotline/app/engine"
	"plotline/app/settings"
)

// This file is the one place that turns the model's failures into words
// for people: the run-failed banner, the banner of a refused question, the
// settings' "Test connection", and (through ModelErrorText) the window's
// model, so that a failed run already carries them in its last_error.

// errorAction is what the message about a failure offers to do about it.
type errorAction int

const (
	actNone     errorAction = iota
	actSettings             // the endpoint, key or model is wrong: open the settings
	actRetry                // it may pass: try again
)

// plainError is a failure in plain words, and the action that fits it.
type plainError struct {
	text   string
	action errorAction
}

// ModelTarget is what the words may name: where a call to the model went.
type ModelTarget struct {
	Endpoint string // the base URL called (or its host)
	Provider string // settings.Provider*, "" if unknown
	Model    string // the model asked for (on Azure, the deployment)
	// Timeout is how long the caller waited before it gave up, when known.
	Timeout time.Duration
}

// NoModelText is the failure of a run when no model is set up.
const NoModelText = "No model is set up yet. Open Settings, choose a provider and enter its key."

// BadSettingsText is the failure of a run when the saved settings do not
// make a model client.
func BadSettingsText(err error) string {
	return "The model settings do not work (" + scrub(err.Error()) + "). Open Settings to fix them."
}

// ModelErrorText says in plain words why a call to the model failed. It
// never includes an API key.
func ModelErrorText(err error, t ModelTarget) string { return explain(err, t).text }

// explainError says in plain words why a run failed.
func explainError(e *app.LastError) string { return explainLastError(e, ModelTarget{}).text }

// explainLastError is a run's last_error in plain words, with its action.
func explainLastError(e *app.LastError, t ModelTarget) plainError {
	if e == nil {
		return plainError{}
	}
	status := -1 // unknown: a server_error may be a transport failure, 401, 5xx…
	switch e.Code {
	case app.ErrCodeRateLimit:
		status = 429
	case app.ErrCodeInvalid:
		status = 400 // or 404, 413, 422: the words below tell them apart
	}
	p, ok := classify(status, "", e.Message, 0, t)
	if !ok {
		p = plainError{text: "The answer failed: " + short(e.Message), action: actRetry}
	}
	return p
}

// explain is an error from a call to the model (or the engine refusing a
// question) in plain words, with its action.
func explain(err error, t ModelTarget) plainError {
	switch {
	case err == nil:
		return plainError{}
	case errors.Is(err, context.Canceled):
		return plainError{text: "Cancelled."}
	case errors.Is(err, context.DeadlineExceeded):
		return timeoutText(hostOf(t.Endpoint), t.Timeout)
	}
	var me *app.ModelError
	if errors.As(err, &me) {
		if p, ok := classify(me.Status, me.Code, me.Message, me.RetryAfter, t); ok {
			return p
		}
		if me.Status == 0 {
			return plainError{text: "The model server failed: " + strings.TrimSuffix(short(me.Message), ".") + ".", action: actRetry}
		}
		return plainError{text: fmt.Sprintf("The model server answered %d: %s", me.Status, short(me.Message)), action: actRetry}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return timeoutText(firstNonEmpty(hostIn(err.Error()), hostOf(t.Endpoint)), t.Timeout)
	}
	if p, ok := classify(0, "", err.Error(), 0, t); ok {
		return p
	}
	return plainError{text: short(err.Error())}
}

var (
	// Words that mean the key was refused, when the status is lost (a
	// run's last_error keeps only its message).
	keyWords = regexp.MustCompile(`(?i)\bapi[ _-]?key\b|unauthori[sz]ed|authenticat|invalid subscription key|\binvalid_api_key\b`)
	// A model or deployment the server does not have: Ollama's `model
	// "x" not found, try pulling it first`, OpenAI's "The model `x` does
	// not exist or you do not have access to it.", Azure's "The API
	// deployment for this resource does not exist.", vLLM's "The model `x`
	// does not exist."
	modelMissingWords = regexp.MustCompile(`(?i)\b(model|deployment)\b[^;\n]{0,80}?\b(not found|does not exist|doesn't exist|not exist|is not available|unknown)\b|\b(unknown|no such|invalid) (model|deployment)\b`)
	quotedName        = regexp.MustCompile("(?i)\\b(?:model|deployment)\\b\\s*[\"'`“]([^\"'`”]{1,120})[\"'`”]")
	timeoutWords      = regexp.MustCompile(`(?i)timeout awaiting response headers|no response from the model server in time|i/o timeout|Client\.Timeout exceeded|deadline exceeded|timed out`)
	noHostWords       = regexp.MustCompile(`(?i)no such host|server misbehaving|name resolution|Name or service not known`)
	unreachableWords  = regexp.MustCompile(`(?i)connection refused|no route to host|network is unreachable|host is down|cannot assign requested address`)
	quotaWords        = regexp.MustCompile(`(?i)\bquota\b|billing|insufficient_quota`)
)

// classify recognises a failure by its status (0 for a failure without
// one, such as a refused connection; -1 when it is not known), code and
// message; ok is false when it is none of the kinds it knows.
func classify(status int, code, msg string, retryAfter time.Duration, t ModelTarget) (plainError, bool) {
	if p, ok := recognise(msg); ok {
		return p, true
	}
	host := firstNonEmpty(hostIn(msg), hostOf(t.Endpoint))
	switch {
	case status == 429 || code == "rate_limit_exceeded" || code == "insufficient_quota":
		if code == "insufficient_quota" || quotaWords.MatchString(msg) {
			return plainError{text: "The account has no quota left with the model's service. Check its plan and billing, or use another key.", action: actSettings}, true
		}
		if retryAfter > 0 {
			return plainError{text: "The model's service is rate limiting requests. Try again in " + seconds(retryAfter) + ".", action: actRetry}, true
		}
		return plainError{text: "The model's service is rate limiting requests. Try again in a moment.", action: actRetry}, true
	case status == 401 || status == 403 || code == "invalid_api_key" || status == -1 && keyWords.MatchString(msg):
		return plainError{text: "The API key was refused.", action: actSettings}, true
	case (status == 400 || status == 404 || status == 422 || code == "model_not_found" || code == "DeploymentNotFound") &&
		(code == "model_not_found" || code == "DeploymentNotFound" || modelMissingWords.MatchString(msg)):
		return modelMissing(nameIn(msg, t.Model), t.Provider), true
	case status == 404:
		where := "this address"
		if host != "" {
			where = host
		}
		return plainError{text: "The server at " + where + " has no chat API at that path. Check the endpoint in Settings.", action: actSettings}, true
	case status == 408 || status == 504 || timeoutWords.MatchString(msg):
		return timeoutText(host, t.Timeout), true
	case noHostWords.MatchString(msg):
		name := hostname(host)
		if name == "" {
			return plainError{text: "Can't find the model server. Check the endpoint in Settings.", action: actSettings}, true
		}
		return plainError{text: "Can't find the model server " + name + ". Check the endpoint in Settings.", action: actSettings}, true
	case unreachableWords.MatchString(msg):
		if host == "" {
			return plainError{text: "Can't reach the model server. Is the server running?", action: actSettings}, true
		}
		return plainError{text: "Can't reach the model server at " + host + ". " + serverHint(host, t.Provider), action: actSettings}, true
	case status >= 500:
		return plainError{text: fmt.Sprintf("The model server had a problem (error %d). Try again in a moment.", status), action: actRetry}, true
	case status == 400 || status == 413 || status == 422:
		return plainError{text: "The model refused the request: " + short(msg), action: actNone}, true
	}
	return plainError{}, false
}

func modelMissing(name, provider string) plainError {
	what, where := "model", "this server"
	if provider == settings.ProviderAzure {
		what, where = "deployment", "this Azure resource"
	}
	if name == "" {
		return plainError{text: "The " + what + " named in Settings doesn't exist on " + where + ".", action: actSettings}
	}
	return plainError{text: "The " + what + " '" + name + "' doesn't exist on " + where + ".", action: actSettings}
}

func timeoutText(host string, waited time.Duration) plainError {
	who := "The model server"
	if host != "" {
		who += " at " + host
	}
	if waited > 0 {
		return plainError{text: who + " didn't answer in " + seconds(waited) + ".", action: actRetry}
	}
	return plainError{text: who + " didn't answer in time.", action: actRetry}
}

// ours are the sentences this file writes, so that a message that is
// already in plain words (a run of the window's model) keeps its words
// and gets its action.
var ours = []struct {
	re     *regexp.Regexp
	action errorAction
}{
	{regexp.MustCompile(`^Can't (reach|find) the model server\b`), actSettings},
	{regexp.MustCompile(`^The API key was refused\.`), actSettings},
	{regexp.MustCompile(`^The (model|deployment) .* doesn't exist on `), actSettings},
	{regexp.MustCompile(`^The server at .* has no chat API at that path\.`), actSettings},
	{regexp.MustCompile(`^The model server (at \S+ )?didn't answer in `), actRetry},
	{regexp.MustCompile(`^The model's service is rate limiting requests\.`), actRetry},
	{regexp.MustCompile(`^The account has no quota left\b`), actSettings},
	{regexp.MustCompile(`^The model server had a problem \(error \d+\)\.`), actRetry},
	{regexp.MustCompile(`^The model server (failed|answered \d+): `), actRetry},
	{regexp.MustCompile(`^The model refused the request: `), actNone},
	{regexp.MustCompile(`^` + regexp.QuoteMeta(NoModelText) + `$`), actSettings},
	{regexp.MustCompile(`^The model settings do not work \(`), actSettings},
}

func recognise(msg string) (plainError, bool) {
	for _, o := range ours {
		if o.re.MatchString(msg) {
			return plainError{text: msg, action: o.action}, true
		}
	}
	return plainError{}, false
}

var (
	urlInMessage  = regexp.MustCompile(`\b(?:Post|Get|Put) "([^"]+)"`)
	dialInMessage = regexp.MustCompile(`\bdial (?:tcp|tcp4|tcp6|udp) ([^\s:]*(?::\d+)?|\[[0-9a-fA-F:.]+\]:\d+): `)
	lookupInError = regexp.MustCompile(`\blookup ([A-Za-z0-9.\-]+)`)
)

// hostIn finds the server a transport error names: the URL of the request
// (as the user wrote it), else the address dialled or looked up.
func hostIn(msg string) string {
	if m := urlInMessage.FindStringSubmatch(msg); m != nil {
		if h := hostOf(m[1]); h != "" {
			return h
		}
	}
	if m := dialInMessage.FindStringSubmatch(msg); m != nil && m[1] != "" {
		return m[1]
	}
	if m := lookupInError.FindStringSubmatch(msg); m != nil {
		return m[1]
	}
	return ""
}

// hostOf is the host (and port, if one is written) of a base URL.
func hostOf(endpoint string) string {
	endpoint = strings.TrimSpace(endpoint)
	if endpoint == "" {
		return ""
	}
	if !strings.Contains(endpoint, "://") {
		endpoint = "http://" + endpoint
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return ""
	}
	return u.Host
}

func hostname(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return host
}

// serverHint names the local server a port belongs to, or says what to
// check.
func serverHint(host, provider string) string {
	name := strings.ToLower(hostname(host))
	_, port, _ := net.SplitHostPort(host)
	switch {
	case port == "11434" || strings.Contains(name, "ollama"):
		return "Is Ollama running?"
	case port == "1234" || strings.Contains(name, "lmstudio"):
		return "Is LM Studio running?"
	case provider == settings.ProviderOpenAI || provider == settings.ProviderAzure ||
		name == "api.openai.com" || strings.HasSuffix(name, ".azure.com"):
		return "Check your internet connection."
	}
	return "Is the server running?"
}

// nameIn is the model a message names in quotes, else the one asked for.
func nameIn(msg, asked string) string {
	if m := quotedName.FindStringSubmatch(msg); m != nil {
		return m[1]
	}
	return asked
}

// seconds says a wait the way the window does: "10 s", "0.5 s", "5 min".
func seconds(d time.Duration) string {
	if d >= 2*time.Minute && d%time.Minute == 0 {
		return strconv.Itoa(int(d/time.Minute)) + " min"
	}
	if d >= time.Second {
		d = d.Round(time.Second)
	}
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + " s"
}

var (
	keyLike  = regexp.MustCompile(`\bsk-[A-Za-z0-9_\-*•.]{6,}|\b[0-9a-fA-F]{32}\b`)
	userinfo = regexp.MustCompile(`(https?://)[^/\s"@]+@`)
)

// scrub removes what looks like a key or a password from text that came
// from a server or a library.
func scrub(s string) string {
	s = keyLike.ReplaceAllString(s, "[key]")
	return userinfo.ReplaceAllString(s, "$1")
}

// short is a server's message, scrubbed and cut to a line or two.
func short(s string) string {
	s = strings.Join(strings.Fields(scrub(s)), " ")
	if r := []rune(s); len(r) > 200 {
		s = string(r[:200]) + "…"
	}
	return s
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// modelTarget is the model the window's settings and default assistant
// name, for the words of a failure.
func (u *UI) modelTarget() ModelTarget {
	t := ModelTarget{Endpoint: u.cfg.Endpoint, Provider: u.cfg.Provider, Model: u.modelInUse()}
	if t.Provider == settings.ProviderOpenAI && t.Endpoint == "" {
		t.Endpoint = "https://api.openai.com/v1"
	}
	return t
}

// defaultAssistant is the data-analyst assistant, as last listed.
func (u *UI) defaultAssistant() *app.Assistant {
	for i := range u.assts {
		if engine.IsDefaultAssistant(&u.assts[i]) {
			return &u.assts[i]
		}
	}
	return nil
}

// modelInUse is the model questions go to by default: the default
// assistant's, else the one in the settings.
func (u *UI) modelInUse() string {
	if a := u.defaultAssistant(); a != nil && a.Model != "" {
		return a.Model
	}
	return u.cfg.Model
}

// bannerOffersSettings reports whether the banner sends the user to the
// settings, that is, whether it is about the model's configuration.
func (u *UI) bannerOffersSettings() bool {
	found := false
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		switch v := o.(type) {
		case *widget.Button:
			found = found || v.Text == "Open settings"
		case *fyne.Container:
			for _, c := range v.Objects {
				walk(c)
			}
		}
	}
	walk(u.banner)
	return found
}
