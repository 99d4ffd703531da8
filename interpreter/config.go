package interpreter

import (
	"runtime"
	"time"

	"plotline/interpreter/sandbox"
)

// Limits bound what one session's cells may use. Zero fields take the
// defaults below.
type Limits struct {
	// Sandbox holds the kernel's OS limits: memory, processes, file size,
	// open files and /tmp.
	Sandbox sandbox.Limits
	// CellTimeout is the wall-clock time a cell may run. On expiry the cell
	// is interrupted (KeyboardInterrupt; state is kept); if it does not stop
	// within Grace, the kernel is killed and restarted.
	CellTimeout time.Duration
	// Grace is how long an interrupted cell has to stop.
	Grace time.Duration
	// DiskQuota caps the bytes the work folder may hold, counted both as
	// allocated blocks and as the files' apparent sizes (a sparse file
	// counts at its full size, as a copy of it would be).
	DiskQuota int64
	// MaxFiles caps the files, folders and links in the work folder.
	MaxFiles int
	// Output caps each of stdout and stderr per cell, in bytes.
	Output int
	// IdleCPU is the CPU time the kernel may use between two cells
	// (threads a cell left running) before it is stopped.
	IdleCPU time.Duration
}

// Defaults.
const (
	DefaultCellTimeout = 120 * time.Second
	DefaultGrace       = 3 * time.Second
	DefaultDiskQuota   = 4 << 30
	DefaultMaxFiles    = 10000
	DefaultOutput      = 64 << 10
	DefaultIdleCPU     = 5 * time.Second
	DefaultMaxLifetime = time.Hour
	DefaultIdleTimeout = 30 * time.Minute
	DefaultPoolSize    = 3
)

// WithDefaults returns l with every zero field set to its default.
func (l Limits) WithDefaults() Limits {
	l.Sandbox = l.Sandbox.WithDefaults()
	if l.CellTimeout <= 0 {
		l.CellTimeout = DefaultCellTimeout
	}
	if l.Grace <= 0 {
		l.Grace = DefaultGrace
	}
	if l.DiskQuota <= 0 {
		l.DiskQuota = DefaultDiskQuota
	}
	if l.MaxFiles <= 0 {
		l.MaxFiles = DefaultMaxFiles
	}
	if l.IdleCPU <= 0 {
		l.IdleCPU = DefaultIdleCPU
	}
	if l.Output <= 0 {
		l.Output = DefaultOutput
	}
	// No single file may be larger than the whole folder may be.
	if l.Sandbox.FileSize > l.DiskQuota {
		l.Sandbox.FileSize = l.DiskQuota
	}
	return l
}

// Config configures a Manager.
type Config struct {
	// Python runs the kernels; see Discover.
	Python *Python
	// Root is the folder that holds the sessions' work folders.
	Root string
	// Limits apply to every session.
	Limits Limits
	// MaxLifetime ends a session this long after it started.
	MaxLifetime time.Duration
	// IdleTimeout ends a session this long after its last cell.
	IdleTimeout time.Duration
	// PoolSize is how many ready kernels to keep, DefaultPoolSize when
	// zero; negative means none.
	PoolSize int
	// DeferPool leaves the pool empty until Fill or the first new
	// session: the window fills it once it is on screen, so that the
	// kernels' imports do not slow its start.
	DeferPool bool
	// Admission is how many kernel starts and cells may run at once; the
	// rest wait their turn, in the order they came. Zero or negative
	// means one per core.
	Admission int

	fonts string // the font cache kernels copy (see fontCache)
}

func (c Config) withDefaults() Config {
	c.Limits = c.Limits.WithDefaults()
	if c.MaxLifetime <= 0 {
		c.MaxLifetime = DefaultMaxLifetime
	}
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.PoolSize == 0 {
		c.PoolSize = DefaultPoolSize
	}
	if c.PoolSize < 0 {
		c.PoolSize = 0
	}
	if c.Admission <= 0 {
		c.Admission = max(runtime.NumCPU(), 1)
	}
	return c
}
