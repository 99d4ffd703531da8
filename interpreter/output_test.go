package interpreter

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestCappedBuffer(t *testing.T) {
	note := func(n int) string { return fmt.Sprintf("\n[output truncated: %d more bytes not shown]\n", n) }
	for _, c := range []struct {
		name   string
		max    int
		writes []string
		want   string
	}{
		{"empty", 10, nil, ""},
		{"under the cap", 10, []string{"abc", "def"}, "abcdef"},
		{"exactly the cap", 6, []string{"abc", "def"}, "abcdef"},
		{"over the cap in one write", 4, []string{"abcdefgh"}, "abcd" + note(4)},
		{"over the cap across writes", 4, []string{"ab", "cdef", "gh"}, "abcd" + note(4)},
		{"full, then more", 3, []string{"abc", "d", "", "ef"}, "abc" + note(3)},
		{"cap of zero", 0, []string{"abc"}, note(3)},
		{"cut inside a two-byte rune", 4, []string{"aéé"}, "aé" + note(2)},
		{"cut after a whole rune", 3, []string{"aéé"}, "aé" + note(2)},
		{"cut inside a four-byte rune", 3, []string{"a😀"}, "a" + note(4)},
		{"rune split across writes, all kept", 10, []string{"a\xc3", "\xa9"}, "aé"},
		{"binary output is made valid", 10, []string{"a\xffb"}, "a\uFFFDb"},
		// Invalid bytes before the cut must not make the cut eat good text.
		{"binary, then a cut rune", 5, []string{"\xffabcé"}, "\uFFFDabc" + note(2)},
		{"binary at the very end", 3, []string{"ab\xffcd"}, "ab\uFFFD" + note(2)},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := &cappedBuffer{max: c.max}
			for _, w := range c.writes {
				b.Write([]byte(w))
			}
			if got := b.String(); got != c.want {
				t.Fatalf("String() = %q, want %q", got, c.want)
			}
		})
	}
}

// TestCappedBufferNeverSplitsRunes cuts text of runes of every width at
// every position: the kept part is always whole runes, a prefix of the
// input, and the note counts exactly what is not shown.
func TestCappedBufferNeverSplitsRunes(t *testing.T) {
	text := "aé€😀b😀€éa"
	for max := 0; max <= len(text); max++ {
		b := &cappedBuffer{max: max}
		b.Write([]byte(text))
		got := b.String()
		kept, n := got, 0
		if i := strings.Index(got, "\n[output truncated: "); i >= 0 {
			kept = got[:i]
			fmt.Sscanf(got[i:], "\n[output truncated: %d more bytes", &n)
		}
		if !utf8.ValidString(got) || strings.ContainsRune(got, utf8.RuneError) {
			t.Errorf("cap %d: %q splits a rune", max, got)
		}
		if !strings.HasPrefix(text, kept) || len(kept) > max {
			t.Errorf("cap %d: kept %q", max, kept)
		}
		if max < len(text) && n != len(text)-len(kept) {
			t.Errorf("cap %d: note says %d more bytes, %d are not shown", max, n, len(text)-len(kept))
		}
		if max == len(text) && got != text {
			t.Errorf("cap %d: %q, want all of it", max, got)
		}
	}
}

// streamCell arms s with marker, feeds chunks and returns what the cell's
// onData saw and whether the marker was recognised.
func streamCell(s *outputStream, marker string, chunks ...string) (streamed string, ended bool) {
	var seen bytes.Buffer
	done := s.arm([]byte(marker), func(p []byte) { seen.Write(p) })
	for _, c := range chunks {
		s.feed([]byte(c))
	}
	select {
	case <-done:
		ended = true
	default:
	}
	return seen.String(), ended
}

const (
	testMarker  = "\x00plotline-end-0123456789abcdef\x00"
	testMarker2 = "\x00plotline-end-fedcba9876543210\x00"
)

// TestOutputStreamSplitsAtMarker feeds the same bytes cut at every
// position, and in one-byte pieces: the cell's output, what onData saw,
// and what goes on to the next cell are the same each time.
func TestOutputStreamSplitsAtMarker(t *testing.T) {
	const before, after = "hello\x00plot\n", "next cell"
	whole := before + testMarker + after
	var splits [][]string
	for i := 0; i <= len(whole); i++ {
		splits = append(splits, []string{whole[:i], whole[i:]})
	}
	for i := 0; i+3 <= len(whole); i += 3 {
		splits = append(splits, []string{whole[:i], whole[i : i+3], whole[i+3:]})
	}
	bytewise := make([]string, len(whole))
	for i := range whole {
		bytewise[i] = whole[i : i+1]
	}
	splits = append(splits, bytewise)

	for _, chunks := range splits {
		s := newOutputStream(1 << 10)
		streamed, ended := streamCell(s, testMarker, chunks...)
		if !ended {
			t.Fatalf("%q: the marker was not recognised", chunks)
		}
		if got := s.take(); got != before {
			t.Fatalf("%q: cell output %q, want %q", chunks, got, before)
		}
		if streamed != before {
			t.Fatalf("%q: onData saw %q, want %q", chunks, streamed, before)
		}
		// What came after the marker starts the next cell's output.
		streamed, ended = streamCell(s, testMarker2, "!", testMarker2)
		if got := s.take(); !ended || got != after+"!" {
			t.Fatalf("%q: next cell got %q (ended %v), want %q", chunks, got, ended, after+"!")
		}
		if streamed != "!" {
			t.Fatalf("%q: next cell's onData saw %q", chunks, streamed)
		}
	}
}

func TestOutputStream(t *testing.T) {
	t.Run("LookalikesAreData", func(t *testing.T) {
		s := newOutputStream(1 << 10)
		fake := "\x00plotline-end-" + strings.Repeat("0", 16) + "\x00"
		partial := testMarker[:len(testMarker)-1] + "X" // all but the last byte
		out := "a" + fake + partial + "\x00plotline-end-"
		streamed, ended := streamCell(s, testMarker, out, testMarker)
		if got := s.take(); !ended || got != out || streamed != out {
			t.Fatalf("got %q, streamed %q, ended %v; want %q", got, streamed, ended, out)
		}
	})

	t.Run("HeldBackBytesAreKeptWhenNoMarkerComes", func(t *testing.T) {
		// The kernel died right after writing what looks like a marker's start.
		s := newOutputStream(1 << 10)
		out := "last words\x00plotline-e"
		streamed, ended := streamCell(s, testMarker, out)
		if ended {
			t.Fatal("ended without the marker")
		}
		if streamed != "last words" {
			t.Errorf("onData saw %q; the possible marker start should be held back", streamed)
		}
		if got := s.take(); got != out {
			t.Fatalf("take = %q, want %q", got, out)
		}
		// Nothing of it is left for the next cell.
		streamCell(s, testMarker2, "fresh", testMarker2)
		if got := s.take(); got != "fresh" {
			t.Fatalf("next cell = %q", got)
		}
	})

	t.Run("OutputBetweenCellsGoesToTheNext", func(t *testing.T) {
		s := newOutputStream(1 << 10)
		streamCell(s, testMarker, "one", testMarker)
		s.take()
		s.feed([]byte("from a background thread\n")) // no cell armed
		streamCell(s, testMarker2, "two", testMarker2)
		if got := s.take(); got != "from a background thread\ntwo" {
			t.Fatalf("next cell = %q", got)
		}
	})

	t.Run("OldMarkerIsNotTheNewOne", func(t *testing.T) {
		s := newOutputStream(1 << 10)
		_, ended := streamCell(s, testMarker2, "x", testMarker, "y")
		if ended {
			t.Fatal("a previous cell's marker ended this cell")
		}
		s.feed([]byte(testMarker2))
		if got := s.take(); got != "x"+testMarker+"y" {
			t.Fatalf("take = %q", got)
		}
	})

	t.Run("CapPerCell", func(t *testing.T) {
		s := newOutputStream(5)
		streamed, ended := streamCell(s, testMarker, "abc", "defgh", testMarker+"after")
		got := s.take()
		if !ended || got != "abcde\n[output truncated: 3 more bytes not shown]\n" {
			t.Fatalf("take = %q (ended %v)", got, ended)
		}
		if streamed != "abcdefgh" {
			t.Errorf("onData saw %q; streaming is not capped by the result's cap", streamed)
		}
		streamCell(s, testMarker2, testMarker2)
		if got := s.take(); got != "after" {
			t.Fatalf("the next cell = %q, want its own uncapped output", got)
		}
	})

	t.Run("OnDataStopsAtTake", func(t *testing.T) {
		s := newOutputStream(1 << 10)
		var n int
		s.arm([]byte(testMarker), func(p []byte) { n += len(p) })
		s.feed([]byte("abc"))
		s.take()
		s.feed([]byte("def"))
		if n != 3 {
			t.Fatalf("onData got %d bytes, want 3: it must not be called after take", n)
		}
	})
}
