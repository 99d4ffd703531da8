// Package settings keeps the desktop app's preferences: which model
// provider to use and how, the theme, and the sandbox's limits. The API key
// is kept apart, in the OS keychain (github.com/zalando/go-keyring: macOS
// Keychain, Windows Credential Manager, the Secret Service on Linux), or,
// where there is none, in a file only the user can read, with a warning.
package settings

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/zalando/go-keyring"
)

// Providers the window offers.
// They are the model adapter's names (app/openai), which the command
// line checks.
const (
	ProviderOpenAI     = "openai"
	ProviderAzure      = "azure"
	ProviderCompatible = "compatible"
)

// Settings are the user's preferences.
type Settings struct {
	Provider   string `json:"provider"`
	Endpoint   string `json:"endpoint"`    // base URL (compatible) or resource endpoint (Azure); empty for OpenAI
	Model      string `json:"model"`       // model name, or Azure deployment
	APIVersion string `json:"api_version"` // Azure only
	Theme      string `json:"theme"`       // system, light or dark
	// CellTimeout and MemoryMB are the sandbox's limits; zero means default.
	CellTimeoutSeconds int `json:"cell_timeout_seconds"`
	MemoryMB           int `json:"memory_mb"`
	// Runtime runs the model's code: "auto" (or ""), "python" or
	// "starlark", from the next start; PLOTLINE_RUNTIME overrides it.
	Runtime string `json:"runtime,omitempty"`
}

const fileName = "settings.json"

// Load reads the settings in dir; missing settings are not an error.
func Load(dir string) (Settings, error) {
	var s Settings
	b, err := os.ReadFile(filepath.Join(dir, fileName))
	if errors.Is(err, os.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return Settings{}, fmt.Errorf("settings file %s is damaged: %w", filepath.Join(dir, fileName), err)
	}
	return s, nil
}

// Save writes the settings atomically.
func (s Settings) Save(dir string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, fileName+".tmp")
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, fileName))
}

// Configured reports whether a provider was chosen.
func (s Settings) Configured() bool { return s.Provider != "" }

// Validate checks the settings a user typed, in plain words.
func (s Settings) Validate() error {
	switch s.Provider {
	case ProviderOpenAI:
		if s.Endpoint != "" {
			if err := checkURL(s.Endpoint); err != nil {
				return err
			}
		}
	case ProviderAzure, ProviderCompatible:
		if strings.TrimSpace(s.Endpoint) == "" {
			return errors.New("the endpoint is empty: enter the server's address, such as http://localhost:11434/v1")
		}
		if err := checkURL(s.Endpoint); err != nil {
			return err
		}
		if s.Provider == ProviderAzure && strings.TrimSpace(s.Model) == "" {
			return errors.New("enter the name of the Azure deployment to use")
		}
	default:
		return errors.New("choose a provider")
	}
	if s.Theme != "" && s.Theme != "system" && s.Theme != "light" && s.Theme != "dark" {
		return fmt.Errorf("unknown theme %q", s.Theme)
	}
	switch s.Runtime {
	case "", "auto", "python", "starlark":
	default:
		return fmt.Errorf("unknown runtime %q: choose auto, python or starlark", s.Runtime)
	}
	if s.CellTimeoutSeconds < 0 || s.MemoryMB < 0 {
		return errors.New("limits cannot be negative")
	}
	return nil
}

func checkURL(raw string) error {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not a web address: it should look like https://example.com/v1", raw)
	}
	return nil
}

// Limits returns the sandbox limits, zero where the default applies.
func (s Settings) Limits() (time.Duration, int64) {
	return time.Duration(s.CellTimeoutSeconds) * time.Second, int64(s.MemoryMB) << 20
}

// Keys keep the API key: in the OS keychain when there is one, else in a
// 0600 file in the data folder.
type Keys struct {
	Dir     string
	Service string // keychain service name; default "plotline"
}

const keyUser = "model-api-key"

func (k Keys) service() string {
	if k.Service == "" {
		return "plotline"
	}
	return k.Service
}

func (k Keys) file() string { return filepath.Join(k.Dir, "model-api-key") }

// Get returns the key and where it was kept ("keychain" or the file's
// path); an empty key when none was saved.
func (k Keys) Get() (key, where string, err error) {
	if v, err := keyring.Get(k.service(), keyUser); err == nil {
		return v, "keychain", nil
	}
	b, err := os.ReadFile(k.file())
	if errors.Is(err, os.ErrNotExist) {
		return "", "", nil
	}
	if err != nil {
		return "", "", err
	}
	return strings.TrimSpace(string(b)), k.file(), nil
}

// Set keeps the key, in the keychain if it can. insecure is true when it
// went to the file instead: the window then shows a warning.
func (k Keys) Set(key string) (insecure bool, err error) {
	if err := keyring.Set(k.service(), keyUser, key); err == nil {
		os.Remove(k.file()) // no copy left behind
		return false, nil
	}
	if err := os.WriteFile(k.file(), []byte(key+"\n"), 0o600); err != nil {
		return true, err
	}
	return true, os.Chmod(k.file(), 0o600)
}

// Mask shows a key the way the window may: its start and end only.
func Mask(key string) string {
	if len(key) <= 8 {
		return strings.Repeat("•", len(key))
	}
	return key[:3] + strings.Repeat("•", 8) + key[len(key)-4:]
}
