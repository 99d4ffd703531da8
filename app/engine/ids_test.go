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

func TestTitle(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"What is the total revenue by region?", "What is the total revenue by region?"},
		{"  plot   revenue\tby month ", "plot revenue by month"},
		{"\n\nFirst line\nsecond line", "First line"},
		{"", "New thread"},
		{"Compare the monthly revenue of every region against last year's budget, and chart it", "Compare the monthly revenue of every region…"},
		{strings.Repeat("x", 80), strings.Repeat("x", 47) + "…"},
	} {
		if got := Title(c.in); got != c.want {
			t.Errorf("Title(%q) = %q, want %q", c.in, got, c.want)
		}
		if n := len([]rune(Title(c.in))); n > titleLength {
			t.Errorf("Title(%q) has %d characters", c.in, n)
		}
	}
}
