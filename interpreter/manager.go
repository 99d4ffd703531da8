// Package interpreter runs Python cells for conversations: one persistent,
// sandboxed kernel per session, bound to a work folder that the code sees
// as /mnt/data, with limits on time, memory, processes, files and output,
// a lifetime like the hosted code interpreter's, and a pool of kernels
// started ahead of time so that a new conversation's first cell does not
// wait for Python and its imports. Kernel starts and cells run about one
// per core at a time, in the order they came (see Config.Admission).
package interpreter

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Manager starts sessions and keeps the pool of ready kernels.
type Manager struct {
	adm    *admission
	done   chan struct{} // closed by Close
	wg     sync.WaitGroup
	starts atomic.Int64 // kernels started

	mu       sync.Mutex
	cfg      Config
	pool     []*pooled
	starting int            // kernels being started for the pool
	waiting  []chan *pooled // new sessions waiting for one of them, in order
	gen      int            // counts limit changes; older starts are discarded
	closed   bool
}

// pooled is a ready kernel with the fresh work folder it is bound to.
type pooled struct {
	k   *kernel
	dir string
}

func (p *pooled) discard() {
	p.k.kill()
	os.RemoveAll(p.dir)
}

// NewManager makes a Manager and starts filling its pool.
func NewManager(cfg Config) (*Manager, error) {
	if cfg.Python == nil {
		return nil, errors.New("interpreter: no Python configured")
	}
	if cfg.Root == "" {
		return nil, errors.New("interpreter: no root folder for work folders")
	}
	if err := os.MkdirAll(cfg.Root, 0o700); err != nil {
		return nil, fmt.Errorf("interpreter: %w", err)
	}
	cfg = cfg.withDefaults()
	cfg.fonts = fontCache(context.Background(), cfg.Python)
	m := &Manager{cfg: cfg, adm: newAdmission(cfg.Admission), done: make(chan struct{})}
	if !cfg.DeferPool {
		m.Fill()
	}
	return m, nil
}

// Fill starts filling the pool, if it is not full, and returns at once.
func (m *Manager) Fill() {
	m.mu.Lock()
	m.refill()
	m.mu.Unlock()
}

// Config is the manager's configuration, defaults applied.
func (m *Manager) Config() Config {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cfg
}

// SetLimits changes the limits of the sessions started from now on. The
// pool's kernels, started under the old limits, are replaced.
func (m *Manager) SetLimits(l Limits) {
	m.mu.Lock()
	m.cfg.Limits = l.WithDefaults()
	m.gen++
	pool := m.pool
	m.pool = nil
	m.refill()
	m.mu.Unlock()
	for _, p := range pool {
		p.discard()
	}
}

// newDir makes a fresh, empty work folder under the root.
func (m *Manager) newDir() (string, error) {
	return os.MkdirTemp(m.cfg.Root, "session-")
}

// startKernel starts a kernel for dir with cfg's Python and limits. The
// caller holds an admission slot.
func (m *Manager) startKernel(cfg Config, dir string) (*kernel, error) {
	m.starts.Add(1)
	return startKernel(cfg.Python, dir, cfg.Limits, cfg.fonts)
}

// refill starts kernels for the pool until the ready ones and those
// starting make its size, no more at once than admission lets run. Their
// starts are background work unless a session already waits. A start that
// fails is not retried until the next new session, so that a broken Python
// does not keep the machine busy. Called with m.mu held.
func (m *Manager) refill() {
	for !m.closed && len(m.pool)+m.starting < m.cfg.PoolSize && m.starting < m.adm.n {
		m.starting++
		m.wg.Add(1)
		go m.startPooled(m.cfg, m.gen, len(m.waiting) == 0)
	}
}

// startPooled starts one kernel for the pool, in a fresh folder, and hands
// it to the first session waiting or adds it to the pool.
func (m *Manager) startPooled(cfg Config, gen int, background bool) {
	defer m.wg.Done()
	p := m.startFresh(cfg, background)
	m.mu.Lock()
	m.starting--
	stale := p != nil && (m.closed || gen != m.gen)
	if p != nil {
		if !stale {
			m.put(p)
		}
		m.refill()
	}
	// Sessions that no start under way can serve start their own kernels.
	for len(m.waiting) > m.starting {
		last := len(m.waiting) - 1
		m.waiting[last] <- nil
		m.waiting = m.waiting[:last]
	}
	m.mu.Unlock()
	if stale {
		p.discard()
	}
}

// startFresh starts a kernel in a new folder once admitted; nil when it
// could not, or the manager closed first.
func (m *Manager) startFresh(cfg Config, background bool) *pooled {
	release, err := m.adm.acquire(context.Background(), m.done, background)
	if err != nil {
		return nil
	}
	defer release()
	select {
	case <-m.done:
		return nil
	default:
	}
	dir, err := m.newDir()
	if err != nil {
		return nil
	}
	k, err := m.startKernel(cfg, dir)
	if err != nil {
		os.Remove(dir) // a cold start will report the reason
		return nil
	}
	return &pooled{k: k, dir: dir}
}

// put hands p to the first session waiting, or adds it to the pool.
// Called with m.mu held.
func (m *Manager) put(p *pooled) {
	if len(m.waiting) > 0 {
		m.waiting[0] <- p
		m.waiting = m.waiting[1:]
		return
	}
	m.pool = append(m.pool, p)
}

// Warm waits until the pool is full or ctx ends. Benchmarks and tests use
// it; the app does not need to.
func (m *Manager) Warm(ctx context.Context) error {
	m.mu.Lock()
	m.refill()
	m.mu.Unlock()
	for {
		m.mu.Lock()
		n := len(m.pool)
		m.mu.Unlock()
		if n >= m.cfg.PoolSize {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-sleep():
		}
	}
}

// take returns a ready kernel from the pool. When the pool is empty but a
// kernel is being started for it, take waits for that one rather than
// have the session start a second and the two share the cores; it returns
// nil when none is coming.
func (m *Manager) take(ctx context.Context) (*pooled, error) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, errClosed
	}
	var p *pooled
	var dead []*pooled
	for p == nil && len(m.pool) > 0 {
		p = m.pool[0]
		m.pool = m.pool[1:]
		if !p.k.alive() {
			dead, p = append(dead, p), nil
		}
	}
	m.refill()
	var w chan *pooled
	if p == nil && m.starting > len(m.waiting) {
		w = make(chan *pooled, 1)
		m.waiting = append(m.waiting, w)
		m.adm.promote()
	}
	m.mu.Unlock()
	for _, d := range dead {
		d.discard()
	}
	if w == nil {
		return p, nil
	}
	select {
	case p = <-w:
		if p == nil {
			return nil, m.check()
		}
		return p, nil
	case <-ctx.Done():
	}
	m.mu.Lock()
	m.waiting = slices.DeleteFunc(m.waiting, func(c chan *pooled) bool { return c == w })
	select {
	case p = <-w: // handed over meanwhile: to the next, or back to the pool
		if p != nil && !m.closed {
			m.put(p)
			p = nil
		}
	default:
	}
	m.mu.Unlock()
	if p != nil {
		p.discard()
	}
	return nil, ctx.Err()
}

// NewSession starts a session with a new, empty work folder under the
// root, on a pooled kernel when one is ready or being started.
func (m *Manager) NewSession(ctx context.Context) (*Session, error) {
	p, err := m.take(ctx)
	if err != nil {
		return nil, err
	}
	if p != nil {
		return m.newSession(p.dir, p.k), nil
	}
	dir, err := m.newDir()
	if err != nil {
		return nil, fmt.Errorf("interpreter: new work folder: %w", err)
	}
	return m.newSession(dir, nil), nil
}

// SessionAt starts a session whose work folder is dir, which must be inside
// the manager's root. A dir that does not exist yet becomes a pooled
// kernel's folder, renamed into place (the sandbox's bind mount follows the
// folder), so that the first cell does not wait for Python; an existing one
// (say, a conversation's folder from an earlier run of the app) is opened
// with a new kernel, started with its first cell.
func (m *Manager) SessionAt(ctx context.Context, dir string) (*Session, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(dir); err == nil {
		return m.OpenSession(dir)
	}
	p, err := m.take(ctx)
	if err != nil {
		return nil, err
	}
	if p != nil {
		if err := os.Rename(p.dir, dir); err == nil {
			return m.newSession(dir, p.k), nil
		}
		p.discard()
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("interpreter: work folder: %w", err)
	}
	return m.OpenSession(dir)
}

// OpenSession starts a session on an existing work folder, such as one
// whose earlier session ended. Its kernel starts with the first cell.
func (m *Manager) OpenSession(dir string) (*Session, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("interpreter: work folder %q is not a folder", dir)
	}
	return m.newSession(abs, nil), nil
}

var errClosed = errors.New("interpreter: manager is closed")

func (m *Manager) check() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return errClosed
	}
	return nil
}

// Close stops the pool's kernels and removes their unused folders.
// Sessions already handed out are closed by their owners; from now on
// their cells no longer wait for one another.
func (m *Manager) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	pool := m.pool
	m.pool = nil
	for _, w := range m.waiting {
		w <- nil
	}
	m.waiting = nil
	m.mu.Unlock()
	close(m.done)
	m.adm.close()
	m.wg.Wait()
	for _, p := range pool {
		p.discard()
	}
	return nil
}

func sleep() <-chan time.Time { return time.After(20 * time.Millisecond) }
