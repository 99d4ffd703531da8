package workerio

import (
	"bytes"
	"strings"
	"testing"
)

func TestFrames(t *testing.T) {
	var b bytes.Buffer
	if err := WriteFrame(&b, map[string]any{"code": "1 + 1", "n": 2}); err != nil {
		t.Fatal(err)
	}
	WriteFrame(&b, "second")
	var got map[string]any
	if err := ReadFrame(&b, 100, &got); err != nil || got["code"] != "1 + 1" || got["n"] != 2.0 {
		t.Fatalf("first frame %v, %v", got, err)
	}
	var s string
	if err := ReadFrame(&b, 100, &s); err != nil || s != "second" {
		t.Fatalf("second frame %q, %v", s, err)
	}
	WriteFrame(&b, strings.Repeat("x", 200))
	if err := ReadFrame(&b, 100, &s); err == nil || !strings.Contains(err.Error(), "over the limit of 100") {
		t.Errorf("an oversized frame: %v", err)
	}
	if err := ReadFrame(bytes.NewReader([]byte{0, 0, 0, 9, '{'}), 100, &got); err == nil {
		t.Error("a cut frame was read")
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{12: "12 bytes", 1536: "1.5 KiB", 64 << 10: "64 KiB", 256 << 20: "256 MiB", 3 << 29: "1.5 GiB"} {
		if got := FormatBytes(n); got != want {
			t.Errorf("FormatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestPipes(t *testing.T) {
	ps, err := OpenPipes(3)
	if err != nil || len(ps) != 3 {
		t.Fatalf("OpenPipes: %d, %v", len(ps), err)
	}
	go func() {
		WriteFrame(ps[1].W, "over the second")
		ps[1].W.Close()
	}()
	var s string
	if err := ReadFrame(ps[1].R, 100, &s); err != nil || s != "over the second" {
		t.Fatalf("frame through a pipe: %q, %v", s, err)
	}
	ClosePipes(ps)
	if _, err := ps[0].W.Write([]byte("x")); err == nil {
		t.Error("a closed pipe took a write")
	}
}
