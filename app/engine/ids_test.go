package engine

import (
	"strings"
	"testing"
	"time"
)

func TestNewIDSortsByTime(t *testing.T) {
	seen := map[string]bool{}
	prev := newID("msg_")
	for range 200 {
		ms := time.Now().UnixMilli()
		for time.Now().UnixMilli() == ms {
		}
		id := newID("msg_")
		if len(id) != len("msg_")+24 || strings.Trim(id[4:], idAlphabet) != "" {
			t.Fatalf("id %q: want msg_ and 24 letters and digits", id)
		}
		if id <= prev {
			t.Fatalf("id %q made after %q sorts before it", id, prev)
		}
		if seen[id[4+idTimeDigits:]] {
			t.Fatalf("random part of %q given twice", id)
		}
		seen[id[4+idTimeDigits:]] = true
		prev = id
	}
}
