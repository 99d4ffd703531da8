// Package workerio holds what Plotline's sandboxed workers (the kernel,
// the local function tools' worker and the Starlark runtime's) and their
// hosts share: the pipes between them, the length-prefixed JSON frames
// they exchange on those, and sizes told in words for their errors.
package workerio

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// WriteFrame writes v as one frame: its JSON, after its length in four
// big-endian bytes.
func WriteFrame(w io.Writer, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var head [4]byte
	binary.BigEndian.PutUint32(head[:], uint32(len(body)))
	_, err = w.Write(append(head[:], body...))
	return err
}

// ReadFrame reads one frame of at most max bytes into v.
func ReadFrame(r io.Reader, max int, v any) error {
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return err
	}
	n := binary.BigEndian.Uint32(head[:])
	if int64(n) > int64(max) {
		return fmt.Errorf("a message of %d bytes is over the limit of %d", n, max)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return err
	}
	return json.Unmarshal(body, v)
}

// FormatBytes says n in the largest binary unit that fits: 256 MiB,
// 1.5 KiB, 12 bytes.
func FormatBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// Pipe is one pipe: R reads what W writes.
type Pipe struct{ R, W *os.File }

// OpenPipes opens n pipes, or none: on an error it closes those it opened.
func OpenPipes(n int) ([]Pipe, error) {
	ps := make([]Pipe, 0, n)
	for range n {
		r, w, err := os.Pipe()
		if err != nil {
			ClosePipes(ps)
			return nil, err
		}
		ps = append(ps, Pipe{r, w})
	}
	return ps, nil
}

// ClosePipes closes both ends of each pipe; an end closed already is no
// harm.
func ClosePipes(ps []Pipe) {
	for _, p := range ps {
		p.R.Close()
		p.W.Close()
	}
}
