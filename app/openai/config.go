package openai

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Providers a Config can name.
const (
	ProviderOpenAI     = "openai"     // api.openai.com, or a gateway that behaves exactly like it
	ProviderAzure      = "azure"      // Azure OpenAI: deployments, api-version, api-key header
	ProviderCompatible = "compatible" // any Chat Completions server: Ollama, LM Studio, llama.cpp, vLLM …
)

// Defaults New applies to a zero field.
const (
	DefaultAzureAPIVersion = "2024-10-21" // the latest GA data-plane version at the time of writing
	DefaultMaxRetries      = 2
	// DefaultTimeout bounds the wait for response headers from a hosted
	// provider (OpenAI, Azure).
	DefaultTimeout = 60 * time.Second
	// DefaultLocalTimeout is the same bound for a compatible server: a local
	// server sends its headers only after loading the weights and reading the
	// whole prompt, which on a laptop CPU can take minutes, and a retry after a
	// timeout would only queue the same work again.
	DefaultLocalTimeout = 5 * time.Minute
)

// placeholderKey is sent to compatible servers that need no key: the SDK
// and some servers refuse an empty Authorization header, none check this one.
const placeholderKey = "sk-no-key-required"

const openAIBaseURL = "https://api.openai.com/v1"

// Config says which model server to talk to and how.
type Config struct {
	Provider   string // ProviderOpenAI, ProviderAzure or ProviderCompatible
	BaseURL    string // OpenAI/compatible: the base URL ending in /v1; Azure: the resource endpoint
	APIKey     string // never printed; see String
	APIVersion string // Azure only; default DefaultAzureAPIVersion
	// Model is the model used when a request names none; on Azure it is the
	// deployment name.
	Model string
	// MaxRetries is how often a request that failed with a connection error,
	// 408, 409, 429 or 5xx is tried again. 0 means DefaultMaxRetries; a
	// negative value turns retries off.
	MaxRetries int
	// Timeout bounds the wait for the response headers of each attempt (time
	// to first byte). It never cuts a stream that has started. 0 means
	// DefaultTimeout, or DefaultLocalTimeout for a compatible server. Ignored
	// when HTTPClient is set.
	Timeout time.Duration
	// HTTPClient, if set, is used as is (it should have no Client.Timeout,
	// which would cut long streams).
	HTTPClient *http.Client
}

// ConfigFromEnv reads the configuration from environment variables,
// through getenv (os.Getenv in production):
//
//   - Azure OpenAI, when AZURE_OPENAI_ENDPOINT is set: AZURE_OPENAI_API_KEY
//     (required) and OPENAI_API_VERSION (default DefaultAzureAPIVersion);
//   - OpenAI, when OPENAI_API_KEY is set and OPENAI_BASE_URL is unset or
//     points at api.openai.com;
//   - a compatible server, when OPENAI_BASE_URL points anywhere else
//     (OPENAI_API_KEY optional);
//
// PLOTLINE_MODEL names the default model (Azure: deployment), and
// PLOTLINE_PROVIDER (openai, azure or compatible) overrides the guess, e.g.
// for a gateway that fronts OpenAI itself. With nothing set, the error says
// which variables to set.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	env := func(k string) string { return strings.TrimSpace(getenv(k)) }
	cfg := Config{Model: env("PLOTLINE_MODEL")}

	provider := strings.ToLower(env("PLOTLINE_PROVIDER"))
	switch provider {
	case "":
		switch {
		case env("AZURE_OPENAI_ENDPOINT") != "":
			provider = ProviderAzure
		case env("OPENAI_BASE_URL") != "" && !isOpenAIHost(env("OPENAI_BASE_URL")):
			provider = ProviderCompatible
		case env("OPENAI_API_KEY") != "":
			provider = ProviderOpenAI
		case env("OPENAI_BASE_URL") != "":
			return cfg, errors.New("model: OPENAI_BASE_URL points at OpenAI but OPENAI_API_KEY is not set")
		default:
			return cfg, errors.New("model: no model server configured: set OPENAI_API_KEY for OpenAI; " +
				"AZURE_OPENAI_ENDPOINT and AZURE_OPENAI_API_KEY for Azure OpenAI; " +
				"or OPENAI_BASE_URL for a compatible server (e.g. http://localhost:11434/v1 for Ollama); " +
				"and PLOTLINE_MODEL for the model")
		}
	case ProviderOpenAI, ProviderAzure, ProviderCompatible:
	default:
		return cfg, fmt.Errorf("model: PLOTLINE_PROVIDER is %q; want openai, azure or compatible", provider)
	}
	cfg.Provider = provider

	switch provider {
	case ProviderAzure:
		cfg.BaseURL = env("AZURE_OPENAI_ENDPOINT")
		cfg.APIKey = env("AZURE_OPENAI_API_KEY")
		cfg.APIVersion = env("OPENAI_API_VERSION")
		if cfg.APIVersion == "" {
			cfg.APIVersion = DefaultAzureAPIVersion
		}
	default:
		cfg.BaseURL = env("OPENAI_BASE_URL")
		cfg.APIKey = env("OPENAI_API_KEY")
	}
	if err := cfg.check(); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// check reports what is missing, naming the environment variable that
// supplies it.
func (c Config) check() error {
	switch c.Provider {
	case ProviderOpenAI:
		if c.APIKey == "" {
			return errors.New("model: OpenAI needs an API key: set OPENAI_API_KEY")
		}
	case ProviderAzure:
		if c.BaseURL == "" {
			return errors.New("model: Azure OpenAI needs an endpoint: set AZURE_OPENAI_ENDPOINT (https://<resource>.openai.azure.com)")
		}
		if c.APIKey == "" {
			return errors.New("model: Azure OpenAI needs an API key: set AZURE_OPENAI_API_KEY")
		}
	case ProviderCompatible:
		if c.BaseURL == "" {
			return errors.New("model: a compatible server needs a base URL: set OPENAI_BASE_URL (e.g. http://localhost:11434/v1)")
		}
	default:
		return fmt.Errorf("model: unknown provider %q; want openai, azure or compatible", c.Provider)
	}
	if c.BaseURL != "" {
		u, err := url.Parse(c.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("model: base URL %q is not an http(s) URL", redactURL(c.BaseURL))
		}
	}
	return nil
}

// isOpenAIHost reports whether a base URL points at OpenAI itself.
func isOpenAIHost(base string) bool {
	u, err := url.Parse(base)
	return err == nil && strings.EqualFold(u.Hostname(), "api.openai.com")
}

// String describes the configuration without its key: only whether one is
// set. Any password in the base URL is redacted too.
func (c Config) String() string {
	key := "none"
	if c.APIKey != "" && c.APIKey != placeholderKey {
		key = "set"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "provider=%s", orDash(c.Provider))
	if c.BaseURL != "" {
		fmt.Fprintf(&b, " url=%s", redactURL(c.BaseURL))
	}
	if c.APIVersion != "" {
		fmt.Fprintf(&b, " api-version=%s", c.APIVersion)
	}
	fmt.Fprintf(&b, " model=%s key=%s", orDash(c.Model), key)
	return b.String()
}

// GoString keeps %#v from printing the key.
func (c Config) GoString() string { return "model.Config{" + c.String() + "}" }

// LogValue keeps structured logs from printing the key.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}
