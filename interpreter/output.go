package interpreter

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// cappedBuffer keeps the first max bytes written to it and counts the rest.
type cappedBuffer struct {
	max     int
	buf     []byte
	dropped int64
}

func (c *cappedBuffer) Write(p []byte) {
	room := c.max - len(c.buf)
	if room > len(p) {
		room = len(p)
	}
	if room > 0 {
		c.buf = append(c.buf, p[:room]...)
	}
	c.dropped += int64(len(p) - max(room, 0))
}

// String returns the kept text, valid UTF-8, with a visible note when
// output was dropped.
func (c *cappedBuffer) String() string {
	b := c.buf
	if c.dropped > 0 {
		// Do not end on half a character. Look at the tail only: invalid
		// bytes earlier on (binary output) must not make it cut good text.
		for i := 1; i < utf8.UTFMax && i <= len(b); i++ {
			if utf8.RuneStart(b[len(b)-i]) {
				if !utf8.FullRune(b[len(b)-i:]) {
					b = b[:len(b)-i]
				}
				break
			}
		}
	}
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	if c.dropped > 0 {
		s += fmt.Sprintf("\n[output truncated: %d more bytes not shown]\n", c.dropped+int64(len(c.buf)-len(b)))
	}
	return s
}

// outputStream collects one of a kernel's output pipes (stdout or stderr)
// and splits it into cells at the end markers the kernel writes.
//
// A reader goroutine calls feed with every chunk read from the pipe. The
// host arms the stream with a new random marker before each cell; when the
// marker goes by, everything before it is the cell's output and done is
// closed. Output that arrives between cells (a background thread's, say)
// is kept for the next cell.
type outputStream struct {
	mu      sync.Mutex
	limit   int
	cur     *cappedBuffer
	ended   *cappedBuffer // the armed cell's output, once its marker went by
	marker  []byte
	pending []byte // bytes held back because they may start a marker
	done    chan struct{}
	onData  func([]byte)
}

func newOutputStream(limit int) *outputStream {
	return &outputStream{limit: limit, cur: &cappedBuffer{max: limit}}
}

// arm starts a cell: output from now on, up to marker, belongs to it.
func (o *outputStream) arm(marker []byte, onData func([]byte)) <-chan struct{} {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.marker = marker
	o.done = make(chan struct{})
	o.onData = onData
	return o.done
}

// take ends the cell and returns its output. Held-back bytes go with it
// when the marker never came (the kernel died, or the wait timed out).
func (o *outputStream) take() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.onData = nil
	if o.ended != nil {
		s := o.ended.String()
		o.ended = nil
		return s
	}
	o.cur.Write(o.pending)
	o.pending = nil
	o.marker = nil
	s := o.cur.String()
	o.cur = &cappedBuffer{max: o.limit}
	return s
}

func (o *outputStream) emit(p []byte) {
	if len(p) == 0 {
		return
	}
	o.cur.Write(p)
	if o.onData != nil {
		o.onData(p)
	}
}

// feed takes one chunk read from the pipe.
func (o *outputStream) feed(p []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.marker == nil {
		o.emit(p)
		return
	}
	data := append(o.pending, p...)
	o.pending = nil
	if i := bytes.Index(data, o.marker); i >= 0 {
		o.emit(data[:i])
		rest := data[i+len(o.marker):]
		o.marker = nil
		o.onData = nil
		close(o.done)
		// What follows the marker starts the next cell's output.
		o.ended, o.cur = o.cur, &cappedBuffer{max: o.limit}
		o.cur.Write(rest)
		return
	}
	// Hold back a tail that could be the start of the marker.
	keep := len(o.marker) - 1
	if keep > len(data) {
		keep = len(data)
	}
	for ; keep > 0; keep-- {
		if bytes.HasPrefix(o.marker, data[len(data)-keep:]) {
			break
		}
	}
	o.emit(data[:len(data)-keep])
	o.pending = append([]byte(nil), data[len(data)-keep:]...)
}
