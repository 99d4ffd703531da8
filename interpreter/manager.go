// Package interpreter runs Python cells for conversations: one persistent,
// sandboxed kernel per session, bound to a work folder that the code sees
// as /mnt/data, with limits on time, memory, processes, files and output,
// a lifetime like the hosted code interpreter's, and a pool of kernels
// started ahead of time so that a new conversation's first cell does not
// wait for Python and its imports.
package interpreter

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Manager starts sessions and keeps the pool of ready kernels.
type Manager struct {
	cfg Config

	mu     sync.Mutex
	pool   []*pooled
	closed bool
	refill chan struct{}
	done   chan struct{}
	wg     sync.WaitGroup
}

// pooled is a ready kernel with the fresh work folder it is bound to.
type pooled struct {
	k   *kernel
	dir string
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
	m := &Manager{cfg: cfg, refill: make(chan struct{}, 1), done: make(chan struct{})}
	if m.cfg.PoolSize > 0 {
		m.wg.Add(1)
		go m.fill()
		m.refill <- struct{}{}
	}
	return m, nil
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
	pool := m.pool
	m.pool = nil
	m.mu.Unlock()
	for _, p := range pool {
		p.k.kill()
		os.RemoveAll(p.dir)
	}
	select {
	case m.refill <- struct{}{}:
	default:
	}
}

// newDir makes a fresh, empty work folder under the root.
func (m *Manager) newDir() (string, error) {
	return os.MkdirTemp(m.cfg.Root, "session-")
}

// fill keeps the pool full, one kernel at a time, so that warming up never
// takes both cores from cells that are running.
func (m *Manager) fill() {
	defer m.wg.Done()
	for {
		select {
		case <-m.done:
			return
		case <-m.refill:
		}
		for {
			m.mu.Lock()
			need := !m.closed && len(m.pool) < m.cfg.PoolSize
			m.mu.Unlock()
			if !need {
				break
			}
			dir, err := m.newDir()
			if err != nil {
				break
			}
			cfg := m.Config()
			k, err := startKernel(cfg.Python, dir, cfg.Limits, cfg.fonts)
			if err != nil {
				os.Remove(dir)
				break // a cold start will report the reason
			}
			m.mu.Lock()
			if m.closed {
				m.mu.Unlock()
				k.kill()
				os.Remove(dir)
				return
			}
			m.pool = append(m.pool, &pooled{k: k, dir: dir})
			m.mu.Unlock()
		}
	}
}

// Warm waits until the pool is full or ctx ends. Benchmarks and tests use
// it; the app does not need to.
func (m *Manager) Warm(ctx context.Context) error {
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

// take removes a live kernel from the pool, if there is one.
func (m *Manager) take() *pooled {
	m.mu.Lock()
	defer m.mu.Unlock()
	for len(m.pool) > 0 {
		p := m.pool[0]
		m.pool = m.pool[1:]
		if p.k.alive() {
			return p
		}
		p.k.kill()
		os.RemoveAll(p.dir)
	}
	return nil
}

// NewSession starts a session with a new, empty work folder under the
// root, on a pooled kernel when one is ready.
func (m *Manager) NewSession(ctx context.Context) (*Session, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	if p := m.take(); p != nil {
		select {
		case m.refill <- struct{}{}:
		default:
		}
		return newSession(m.Config(), p.dir, p.k), nil
	}
	dir, err := m.newDir()
	if err != nil {
		return nil, fmt.Errorf("interpreter: new work folder: %w", err)
	}
	return newSession(m.Config(), dir, nil), nil
}

// SessionAt starts a session whose work folder is dir, which must be inside
// the manager's root. A dir that does not exist yet becomes a pooled
// kernel's folder, renamed into place (the sandbox's bind mount follows the
// folder), so that the first cell does not wait for Python; an existing one
// (say, a conversation's folder from an earlier run of the app) is opened
// with a new kernel.
func (m *Manager) SessionAt(ctx context.Context, dir string) (*Session, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(dir); err == nil {
		return m.OpenSession(dir)
	}
	if p := m.take(); p != nil {
		select {
		case m.refill <- struct{}{}:
		default:
		}
		if err := os.Rename(p.dir, dir); err == nil {
			return newSession(m.Config(), dir, p.k), nil
		}
		p.k.kill()
		os.RemoveAll(p.dir)
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
	return newSession(m.Config(), abs, nil), nil
}

func (m *Manager) check() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return errors.New("interpreter: manager is closed")
	}
	return nil
}

// Close stops the pool's kernels and removes their unused folders.
// Sessions already handed out are closed by their owners.
func (m *Manager) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	pool := m.pool
	m.pool = nil
	m.mu.Unlock()
	close(m.done)
	m.wg.Wait()
	for _, p := range pool {
		p.k.kill()
		os.RemoveAll(p.dir)
	}
	return nil
}

func sleep() <-chan time.Time { return time.After(20 * time.Millisecond) }
