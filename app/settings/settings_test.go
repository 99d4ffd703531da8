package settings

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidate(t *testing.T) {
	cases := []struct {
		s    Settings
		want string // "" for valid
	}{
		{Settings{Provider: ProviderOpenAI}, ""},
		{Settings{Provider: ProviderOpenAI, Endpoint: "https://gateway.example/v1"}, ""},
		{Settings{Provider: ProviderCompatible, Endpoint: "http://localhost:11434/v1"}, ""},
		{Settings{Provider: ProviderAzure, Endpoint: "https://r.openai.azure.com", Model: "gpt4o-prod"}, ""},
		{Settings{}, "choose a provider"},
		{Settings{Provider: ProviderCompatible}, "the endpoint is empty"},
		{Settings{Provider: ProviderCompatible, Endpoint: "localhost:11434"}, "not a web address"},
		{Settings{Provider: ProviderCompatible, Endpoint: "ftp://x.example"}, "not a web address"},
		{Settings{Provider: ProviderAzure, Endpoint: "https://r.openai.azure.com"}, "deployment"},
		{Settings{Provider: ProviderOpenAI, Theme: "purple"}, "unknown theme"},
		{Settings{Provider: ProviderOpenAI, MemoryMB: -1}, "negative"},
	}
	for _, c := range cases {
		err := c.s.Validate()
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%+v: unexpected error %v", c.s, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%+v: error %v, want one saying %q", c.s, err, c.want)
		}
	}
}

func TestSaveLoad(t *testing.T) {
	dir := t.TempDir()
	if s, err := Load(dir); err != nil || s.Configured() {
		t.Fatalf("empty folder: %+v %v", s, err)
	}
	want := Settings{Provider: ProviderAzure, Endpoint: "https://r.openai.azure.com", Model: "dep", APIVersion: "2024-10-21", Theme: "dark", CellTimeoutSeconds: 30, MemoryMB: 1024}
	if err := want.Save(dir); err != nil {
		t.Fatal(err)
	}
	got, err := Load(dir)
	if err != nil || got != want {
		t.Fatalf("loaded %+v, %v", got, err)
	}
	if fi, _ := os.Stat(filepath.Join(dir, fileName)); fi.Mode().Perm() != 0o600 {
		t.Fatalf("settings file mode %v", fi.Mode())
	}
	if timeout, mem := got.Limits(); timeout.Seconds() != 30 || mem != 1<<30 {
		t.Fatalf("limits %v %d", timeout, mem)
	}
	os.WriteFile(filepath.Join(dir, fileName), []byte("{not json"), 0o600)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("damaged file: %v", err)
	}
}

// Without a keychain (as on this machine and in CI), the key goes to a file
// only the user can read, and says so.
func TestKeysFallBackToAPrivateFile(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
	k := Keys{Dir: t.TempDir(), Service: "plotline-test-" + t.Name()}
	if key, where, err := k.Get(); err != nil || key != "" || where != "" {
		t.Fatalf("no key yet: %q %q %v", key, where, err)
	}
	insecure, err := k.Set("sk-secret-123456")
	if err != nil {
		t.Fatal(err)
	}
	key, where, err := k.Get()
	if err != nil || key != "sk-secret-123456" {
		t.Fatalf("got %q from %q: %v", key, where, err)
	}
	if insecure {
		fi, err := os.Stat(where)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("key file %s: %v %v", where, fi.Mode(), err)
		}
	} else if where != "keychain" {
		t.Fatalf("kept in the keychain, but Get says %q", where)
	}
}

func TestMask(t *testing.T) {
	for in, want := range map[string]string{"": "", "short": "•••••", "sk-abcdefghijklmnop": "sk-••••••••mnop"} {
		if got := Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}
