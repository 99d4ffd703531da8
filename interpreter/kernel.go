package interpreter

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"plotline/assets"
	"plotline/interpreter/sandbox"
	"plotline/interpreter/workerio"
)

// fontsInside is where kernels find the font cache (see fontCache).
const fontsInside = "/opt/plotline/fonts"

// maxFrame bounds one protocol message from the kernel. Results carry PNG
// images, so this is generous; anything larger is a broken or hostile kernel.
const maxFrame = 256 << 20

// kernel is one sandboxed Python process and the host's end of its pipes.
type kernel struct {
	proc  *sandbox.Process
	req   *os.File // host → kernel
	res   *os.File // kernel → host
	out   [2]*outputStream
	ready readyMsg

	frames chan frameOrErr // the reader goroutine's decoded results
	swept  <-chan struct{} // the sweep after the last cell, if any
}

type readyMsg struct {
	Python   string            `json:"python"`
	Modules  map[string]string `json:"modules"`
	WarmupMS int               `json:"warmup_ms"`
}

type frameOrErr struct {
	frame resultFrame
	err   error
}

// resultFrame is one message from the kernel.
type resultFrame struct {
	Type   string     `json:"type"`
	ID     string     `json:"id"`
	Value  *string    `json:"value"`
	Error  *CellError `json:"error"`
	Images []string   `json:"images"`
	raw    json.RawMessage
}

// kernelEnv is the kernel's whole environment: an allow-list, so that no
// key, token or socket of the user's leaks in.
func kernelEnv(py *Python) []string {
	path := "/usr/local/bin:/usr/bin:/bin"
	if d := filepath.Dir(py.Executable); d != "/usr/bin" && d != "/usr/local/bin" && d != "/bin" {
		path = d + ":" + path
	}
	return []string{
		"PATH=" + path,
		"HOME=/tmp",
		"USER=sandbox",
		"LOGNAME=sandbox",
		"LANG=C.UTF-8",
		"TMPDIR=/tmp",
		"MPLBACKEND=Agg",
		"MPLCONFIGDIR=/tmp/matplotlib",
		"XDG_CACHE_HOME=/tmp/.cache",
		"TERM=dumb",
	}
}

// startKernel starts a kernel bound to workDir and waits until it has
// imported its modules and says it is ready.
func startKernel(py *Python, workDir string, lim Limits, fonts string) (*kernel, error) {
	reqR, reqW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	resR, resW, err := os.Pipe()
	if err != nil {
		reqR.Close()
		reqW.Close()
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	env, shared := kernelEnv(py), map[string]string{}
	if fonts != "" {
		env = append(env, "PLOTLINE_FONT_CACHE="+fontsInside)
		shared[fontsInside] = fonts
	}
	proc, err := sandbox.Start(sandbox.Spec{
		Program:    py.Executable,
		Args:       []string{"-I", "-u", "-B", "-X", "utf8", "-c", assets.Kernel},
		Env:        env,
		WorkDir:    workDir,
		ReadOnly:   py.Roots,
		System:     py.System,
		Shared:     shared,
		Stdout:     outW,
		Stderr:     errW,
		ExtraFiles: []*os.File{reqR, resW},
		Limits:     lim.Sandbox,
	})
	for _, f := range []*os.File{reqR, resW, outW, errW} {
		f.Close()
	}
	if err != nil {
		for _, f := range []*os.File{reqW, resR, outR, errR} {
			f.Close()
		}
		return nil, err
	}
	k := &kernel{
		proc: proc, req: reqW, res: resR,
		out:    [2]*outputStream{newOutputStream(lim.Output), newOutputStream(lim.Output)},
		frames: make(chan frameOrErr, 1),
	}
	for i, r := range []*os.File{outR, errR} {
		go k.pump(r, k.out[i])
	}
	first, err := k.readFrame()
	if err != nil || first.Type != "ready" {
		proc.Kill()
		exit := proc.Wait()
		errText := k.out[1].take()
		if len(errText) > 2000 {
			errText = errText[len(errText)-2000:]
		}
		return nil, fmt.Errorf("it ended before it was ready (%s): %s", exit, strings.TrimSpace(errText))
	}
	if err := json.Unmarshal(first.raw, &k.ready); err != nil {
		proc.Kill()
		return nil, fmt.Errorf("kernel ready message: %w", err)
	}
	k.out[0].take()
	k.out[1].take()
	go k.readLoop()
	return k, nil
}

// pump copies one output pipe into its stream until the kernel is gone.
func (k *kernel) pump(r *os.File, s *outputStream) {
	defer r.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			s.feed(buf[:n])
		}
		if err != nil {
			return
		}
	}
}

func (k *kernel) readFrame() (resultFrame, error) {
	var head [4]byte
	if _, err := io.ReadFull(k.res, head[:]); err != nil {
		return resultFrame{}, err
	}
	n := binary.BigEndian.Uint32(head[:])
	if n > maxFrame {
		return resultFrame{}, fmt.Errorf("kernel message of %d bytes is over the limit", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(k.res, body); err != nil {
		return resultFrame{}, err
	}
	var f resultFrame
	if err := json.Unmarshal(body, &f); err != nil {
		return resultFrame{}, fmt.Errorf("bad kernel message: %w", err)
	}
	f.raw = body
	return f, nil
}

// readLoop hands result frames to whoever waits in exec. It ends when the
// result pipe closes, which happens when the kernel dies.
func (k *kernel) readLoop() {
	defer close(k.frames)
	for {
		f, err := k.readFrame()
		k.frames <- frameOrErr{f, err}
		if err != nil {
			k.res.Close()
			return
		}
	}
}

func newToken() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// cellRun is a cell sent to the kernel and not yet collected.
type cellRun struct {
	id      string
	markers [2]<-chan struct{}
}

// send starts a cell. onOutput, if set, receives output as it arrives.
func (k *kernel) send(code string, onOutput func(stream int, p []byte)) (*cellRun, error) {
	// The last cell's leftovers must be gone before this cell starts
	// anything of its own, or the sweep could take this cell's processes.
	if k.swept != nil {
		select {
		case <-k.swept:
		case <-k.proc.Done():
		}
		k.swept = nil
	}
	c := &cellRun{id: newToken()}
	marker := "\x00plotline-end-" + newToken() + "\x00"
	for i, s := range k.out {
		var fn func([]byte)
		if onOutput != nil {
			i := i
			fn = func(p []byte) { onOutput(i, p) }
		}
		c.markers[i] = s.arm([]byte(marker), fn)
	}
	if err := workerio.WriteFrame(k.req, map[string]string{"id": c.id, "code": code, "marker": marker}); err != nil {
		return nil, fmt.Errorf("send cell to kernel: %w", err)
	}
	return c, nil
}

// errKernelGone means the kernel's result pipe closed: it died.
var errKernelGone = errors.New("kernel ended")

// collect waits for the frame that answers c, then for the output
// markers (briefly: a cell may have closed or redirected its stdout).
func (k *kernel) collect(c *cellRun, frame resultFrame) (stdout, stderr string, images [][]byte) {
	deadline := time.After(2 * time.Second)
	for _, m := range c.markers {
		select {
		case <-m:
		case <-deadline:
		case <-k.proc.Done():
		}
	}
	for _, s := range frame.Images {
		if b, err := base64.StdEncoding.DecodeString(s); err == nil {
			images = append(images, b)
		}
	}
	return k.out[0].take(), k.out[1].take(), images
}

// kill ends the kernel and waits for it.
func (k *kernel) kill() sandbox.Exit {
	k.proc.Kill()
	e := k.proc.Wait()
	k.req.Close()
	return e
}

// alive reports whether the kernel process still runs.
func (k *kernel) alive() bool {
	select {
	case <-k.proc.Done():
		return false
	default:
		return true
	}
}
