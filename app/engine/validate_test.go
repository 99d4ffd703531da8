package engine

import (
	"strings"
	"testing"

	"plotline/app"
)

// Metadata limits count characters, as the API does: 512 × "é" (1,024
// bytes) is a value it takes, and 513 characters are one too many.
func TestMetadataLimitsCountCharacters(t *testing.T) {
	for _, c := range []struct {
		md app.Metadata
		ok bool
	}{
		{app.Metadata{"k": strings.Repeat("é", 512)}, true},
		{app.Metadata{"k": strings.Repeat("é", 513)}, false},
		{app.Metadata{strings.Repeat("ü", 64): "v"}, true},
		{app.Metadata{strings.Repeat("ü", 65): "v"}, false},
		{app.Metadata{"k": strings.Repeat("🙂", 512)}, true},
	} {
		if err := checkMetadata(&c.md); (err == nil) != c.ok {
			t.Errorf("%d keys, first of %d bytes: %v", len(c.md), func() int {
				for k, v := range c.md {
					return len(k) + len(v)
				}
				return 0
			}(), err)
		}
	}
}
