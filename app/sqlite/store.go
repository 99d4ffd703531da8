// Package sqlite is Plotline's Store: it keeps the objects in SQLite and
// file bytes in a content-addressed folder beside the database.
//
// SQLite comes from modernc.org/sqlite: pure Go, so the binary needs no
// C toolchain for it, and among the fastest Go drivers. The database runs
// in WAL mode with synchronous=NORMAL: a committed transaction survives a
// killed process (kill -9), and a power cut can lose at most the last
// transactions, never corrupt the file. Migrations are embedded SQL files,
// applied in order and tracked with PRAGMA user_version.
package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"modernc.org/sqlite"

	"plotline/app"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the SQLite store. It implements app.Store.
type Store struct {
	db    *sql.DB // reads, on several connections
	wdb   *sql.DB // writes, on one connection
	blobs string

	// write is held by the transaction that writes (Save, Delete). SQLite
	// lets one writer in at a time; the others wait in its busy handler,
	// which sleeps up to 100 ms between tries. Queued here instead, the
	// next writer starts the moment the last one commits. Other processes
	// on the same folder still meet busy_timeout.
	write chan struct{}
	// saves are the Saves waiting for the write lock. Whoever gets it
	// commits all of them in one transaction: a commit costs far more
	// than a record (it writes every page it changed to the WAL), and
	// runs on many threads save at once.
	queue sync.Mutex
	saves []*pendingSave

	// The statements of the hot paths, prepared once: SQLite parses and
	// plans a statement in about as long as it takes to run a small one.
	upsert, upsertInThread, findBlob, del, blobUsers, countDelete *sql.Stmt // on wdb
	get, seq, deletions                                           *sql.Stmt // on db
	// lists are List's statements, one per combination of its filters,
	// prepared as they are first used.
	mu     sync.Mutex
	lists  map[string]*sql.Stmt
	closed bool

	stop, stopped chan struct{} // end checkpoints
	stopOnce      sync.Once
}

var _ app.Store = (*Store)(nil)

// Open opens (creating if needed) the store in folder dir: plotline.db and
// blobs/.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "tmp"), 0o700); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	// The path goes into a "file:" URI, where '%' escapes, '?' starts the
	// parameters and '#' a fragment: escape them, or a folder such as
	// "C# notes" would put the database somewhere else.
	path := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.Join(dir, "plotline.db"))
	// busy_timeout comes first, so that it covers the pragmas after it.
	// _txlock=immediate makes every transaction (Save, Delete, migrations) take the write lock
	// at BEGIN, where SQLite waits busy_timeout for it. A deferred transaction
	// that reads first (Delete, migrate) and then writes fails at once with
	// SQLITE_BUSY when another connection wrote meanwhile: no busy wait
	// applies to that upgrade.
	dsn := "file:" + path +
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	// Each connection keeps its page cache and its prepared statements:
	// keep open as many as can read at once (the driver is Go, so that is
	// about one per CPU, and a few more for short waits), and never let
	// one go idle-closed, or the next request pays to open one, set its
	// pragmas and prepare its statements again.
	conns := max(4, 2*runtime.GOMAXPROCS(0))
	db.SetMaxOpenConns(conns)
	db.SetMaxIdleConns(conns)
	s := &Store{db: db, blobs: filepath.Join(dir, "blobs"), write: make(chan struct{}, 1), lists: map[string]*sql.Stmt{}}
	// A new database switches to WAL on its first connections. When two
	// processes create it at once, that switch (run as a new connection
	// opens, here inside migrate's Begin) can answer SQLITE_BUSY without
	// waiting busy_timeout. It lasts milliseconds: try again.
	for try := 0; ; try++ {
		err = s.migrate()
		var se *sqlite.Error
		if err == nil || try == 50 || !errors.As(err, &se) || se.Code()&0xff != 5 { // 5: SQLITE_BUSY
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err == nil {
		err = s.prepare(dsn)
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	s.stop, s.stopped = make(chan struct{}), make(chan struct{})
	go s.checkpoints()
	// Leftovers of uploads a killed app did not finish.
	tmp, _ := os.ReadDir(filepath.Join(s.blobs, "tmp"))
	for _, e := range tmp {
		os.Remove(filepath.Join(s.blobs, "tmp", e.Name()))
	}
	return s, nil
}

// migrate applies the migrations the database lacks, all in one
// transaction. The transaction is immediate (see Open), so the version is
// read under the write lock: two processes opening a new folder at once
// cannot both apply the first migration ("table objects already exists").
func (s *Store) migrate() error {
	names, err := migrations.ReadDir("migrations")
	if err != nil {
		return err
	}
	sort.Slice(names, func(i, j int) bool { return names[i].Name() < names[j].Name() })
	tx, err := s.db.Begin()
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	defer tx.Rollback()
	var version int
	if err := tx.QueryRow("PRAGMA user_version").Scan(&version); err != nil {
		return fmt.Errorf("store: read schema version: %w", err)
	}
	if version > len(names) {
		return fmt.Errorf("store: the database is from a newer Plotline (schema %d, this one knows %d)", version, len(names))
	}
	if version == len(names) {
		return nil
	}
	for i, n := range names[version:] {
		body, err := migrations.ReadFile("migrations/" + n.Name())
		if err != nil {
			return err
		}
		if _, err := tx.Exec(string(body)); err != nil {
			return fmt.Errorf("store: migration %s: %w", n.Name(), err)
		}
		if _, err := tx.Exec(fmt.Sprintf("PRAGMA user_version = %d", version+i+1)); err != nil {
			return fmt.Errorf("store: migration %s: %w", n.Name(), err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return nil
}

// The statements of the hot paths. List's are built from its filters.
const (
	upsertSQL = `INSERT INTO objects (kind, id, parent, tag, blob, created_at, data)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (kind, id) DO UPDATE SET parent = excluded.parent, tag = excluded.tag,
			blob = excluded.blob, created_at = excluded.created_at, data = excluded.data`
	// upsertInThreadSQL saves a record only while its thread is stored
	// (app.Record.InThread).
	upsertInThreadSQL = `INSERT INTO objects (kind, id, parent, tag, blob, created_at, data)
		SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7 WHERE EXISTS (SELECT 1 FROM objects WHERE kind = 'thread' AND id = ?3)
		ON CONFLICT (kind, id) DO UPDATE SET parent = excluded.parent, tag = excluded.tag,
			blob = excluded.blob, created_at = excluded.created_at, data = excluded.data`
	// The count of Deletes is a record of its own kind, kept in its
	// created_at. Each Delete also moves it to a seq above every other
	// record's, before it deletes anything: seq has no AUTOINCREMENT, so
	// this is what keeps a deleted record's seq from being given again.
	countDeleteSQL = `INSERT INTO objects (seq, kind, id, created_at, data)
		VALUES ((SELECT max(seq) FROM objects) + 1, 'plotline.deletions', 'count', 1, x'')
		ON CONFLICT (kind, id) DO UPDATE SET seq = excluded.seq, created_at = created_at + 1`
	deletionsSQL = `SELECT created_at FROM objects WHERE kind = 'plotline.deletions' AND id = 'count'`
	columns      = "seq, kind, id, parent, tag, blob, created_at, data"
)

// prepare opens the writing connection and prepares the statements. All
// writes go through one connection, in turn (see write): a connection
// whose database another connection changed drops its whole page cache
// at its next transaction, while the writer's own commits keep its cache.
//
// The writer does not checkpoint: a checkpoint copies the WAL into the
// database and syncs both, and inside a commit it would hold every other
// writer back. checkpoints does it beside them instead.
func (s *Store) prepare(dsn string) error {
	wdb, err := sql.Open("sqlite", dsn+"&_pragma=wal_autocheckpoint(0)")
	if err != nil {
		return fmt.Errorf("store: open: %w", err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetMaxIdleConns(1)
	s.wdb = wdb
	for _, p := range []struct {
		db    *sql.DB
		dst   **sql.Stmt
		query string
	}{
		{wdb, &s.upsert, upsertSQL},
		{wdb, &s.upsertInThread, upsertInThreadSQL},
		{wdb, &s.countDelete, countDeleteSQL},
		{s.db, &s.deletions, deletionsSQL},
		{wdb, &s.findBlob, "SELECT blob FROM objects WHERE kind = ? AND id = ?"},
		{wdb, &s.del, "DELETE FROM objects WHERE (kind = ? AND id = ?) OR (parent = ? AND kind != ?)"},
		{wdb, &s.blobUsers, "SELECT count(*) FROM objects WHERE blob = ?"},
		{s.db, &s.get, "SELECT " + columns + " FROM objects WHERE kind = ? AND id = ?"},
		{s.db, &s.seq, "SELECT seq FROM objects WHERE kind = ? AND id = ?"},
	} {
		if *p.dst, err = p.db.Prepare(p.query); err != nil {
			return fmt.Errorf("store: prepare: %w", err)
		}
	}
	return nil
}

// checkpointEvery is how often the WAL is copied into the database, when
// it has grown.
const checkpointEvery = 500 * time.Millisecond

// checkpoints copies the WAL into the database now and then, on a reading
// connection, without waiting for readers or holding up writers
// (PASSIVE), until Close.
func (s *Store) checkpoints() {
	defer close(s.stopped)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			s.db.Exec("PRAGMA wal_checkpoint(PASSIVE)")
		}
	}
}

// Close closes the statements and the database.
func (s *Store) Close() error {
	if s.stop != nil {
		s.stopOnce.Do(func() { close(s.stop) })
		<-s.stopped
	}
	s.mu.Lock()
	s.closed = true
	for q, st := range s.lists {
		st.Close()
		delete(s.lists, q)
	}
	s.mu.Unlock()
	for _, st := range []*sql.Stmt{s.upsert, s.upsertInThread, s.countDelete, s.deletions, s.findBlob, s.del, s.blobUsers, s.get, s.seq} {
		if st != nil {
			st.Close()
		}
	}
	if s.wdb != nil {
		s.wdb.Close()
	}
	return s.db.Close()
}

var errClosed = errors.New("store: closed")

// listStmt returns List's prepared statement of query, preparing it the
// first time. database/sql prepares it again on each connection that runs
// it, once, and keeps it there.
func (s *Store) listStmt(ctx context.Context, query string) (*sql.Stmt, error) {
	s.mu.Lock()
	st, closed := s.lists[query], s.closed
	s.mu.Unlock()
	if st != nil {
		return st, nil
	}
	if closed {
		return nil, errClosed
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur := s.lists[query]; cur != nil || s.closed { // another call got there first, or Close did
		st.Close()
		if cur == nil {
			return nil, errClosed
		}
		return cur, nil
	}
	s.lists[query] = st
	return st, nil
}

// begin starts a writing transaction, in turn with the store's other
// writers. done ends it: it rolls back unless committed, and lets the
// next writer in.
func (s *Store) begin(ctx context.Context) (tx *sql.Tx, done func(), err error) {
	select {
	case s.write <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, fmt.Errorf("store: %w", ctx.Err())
	}
	tx, err = s.wdb.BeginTx(ctx, nil)
	if err != nil {
		<-s.write
		return nil, nil, fmt.Errorf("store: %w", err)
	}
	return tx, func() { tx.Rollback(); <-s.write }, nil
}

// pendingSave is a Save waiting to be committed.
type pendingSave struct {
	ctx  context.Context
	recs []app.Record
	err  error
	done chan struct{} // closed when err is set
}

// Save inserts or replaces records in one transaction. Saves made at the
// same time may share that transaction: each returns once the commit
// holding its records is done, and a Save that fails takes no other
// Save's records down with it.
func (s *Store) Save(ctx context.Context, recs ...app.Record) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	p := &pendingSave{ctx: ctx, recs: recs, done: make(chan struct{})}
	s.queue.Lock()
	s.saves = append(s.saves, p)
	s.queue.Unlock()
	for {
		select {
		case <-p.done:
			return p.err
		case s.write <- struct{}{}:
			select {
			case <-p.done: // the last writer committed it
			default:
				s.commitPending()
			}
			<-s.write
		case <-ctx.Done():
			if s.unqueue(p) {
				return fmt.Errorf("store: %w", ctx.Err())
			}
			<-p.done // being committed: its outcome is the answer
			return p.err
		}
	}
}

// unqueue takes p out of the queue, unless a writer took it already.
func (s *Store) unqueue(p *pendingSave) bool {
	s.queue.Lock()
	defer s.queue.Unlock()
	for i, q := range s.saves {
		if q == p {
			s.saves = append(s.saves[:i], s.saves[i+1:]...)
			return true
		}
	}
	return false
}

// commitPending commits the queued Saves, under the write lock.
func (s *Store) commitPending() {
	s.queue.Lock()
	batch := s.saves
	s.saves = nil
	s.queue.Unlock()
	live := batch[:0]
	for _, p := range batch {
		if err := p.ctx.Err(); err != nil {
			p.finish(fmt.Errorf("store: %w", err))
			continue
		}
		live = append(live, p)
	}
	if len(live) == 0 {
		return
	}
	refused, err := s.commit(live)
	if refused && len(live) > 1 {
		// A record the database refused: find whose, each Save alone.
		for _, p := range live {
			_, err := s.commit([]*pendingSave{p})
			p.finish(err)
		}
		return
	}
	for _, p := range live {
		p.finish(err)
	}
}

func (p *pendingSave) finish(err error) {
	p.err = err
	close(p.done)
}

// commit saves the records of batch in one transaction. refused tells
// that a record failed, rather than the transaction. The transaction is
// bound to no caller's context: cancelling one Save must not undo the
// others.
func (s *Store) commit(batch []*pendingSave) (refused bool, err error) {
	ctx := context.Background()
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("store: %w", err)
	}
	defer tx.Rollback()
	upsert := tx.StmtContext(ctx, s.upsert)
	var inThread *sql.Stmt
	for _, p := range batch {
		for _, r := range p.recs {
			st, checked := upsert, r.InThread && r.Parent != ""
			if checked {
				if inThread == nil {
					inThread = tx.StmtContext(ctx, s.upsertInThread)
				}
				st = inThread
			}
			res, err := st.ExecContext(ctx, r.Kind, r.ID, r.Parent, r.Tag, r.Blob, r.CreatedAt, r.Data)
			if err != nil {
				return true, fmt.Errorf("store: save %s %s: %w", r.Kind, r.ID, err)
			}
			if n, err := res.RowsAffected(); checked && (err != nil || n == 0) {
				return true, &app.NotFoundError{Kind: app.KindThread, ID: r.Parent}
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("store: commit: %w", err)
	}
	return false, nil
}

func scanRecord(row interface{ Scan(...any) error }) (app.Record, error) {
	var r app.Record
	err := row.Scan(&r.Seq, &r.Kind, &r.ID, &r.Parent, &r.Tag, &r.Blob, &r.CreatedAt, &r.Data)
	return r, err
}

// Get returns one record.
func (s *Store) Get(ctx context.Context, kind, id string) (app.Record, error) {
	r, err := scanRecord(s.get.QueryRowContext(ctx, kind, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, &app.NotFoundError{Kind: kind, ID: id}
	}
	if err != nil {
		return r, fmt.Errorf("store: get %s %s: %w", kind, id, err)
	}
	return r, nil
}

// Delete removes a record, everything under it, and unused file bytes.
func (s *Store) Delete(ctx context.Context, kind, id string) error {
	tx, done, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer done()
	fail := func(err error) error { return fmt.Errorf("store: delete %s %s: %w", kind, id, err) }
	var blob string
	err = tx.StmtContext(ctx, s.findBlob).QueryRowContext(ctx, kind, id).Scan(&blob)
	if errors.Is(err, sql.ErrNoRows) {
		return &app.NotFoundError{Kind: kind, ID: id}
	}
	if err != nil {
		return fail(err)
	}
	if _, err := tx.StmtContext(ctx, s.countDelete).ExecContext(ctx); err != nil {
		return fail(err)
	}
	if _, err := tx.StmtContext(ctx, s.del).ExecContext(ctx, kind, id, id, app.KindFile); err != nil {
		return fail(err)
	}
	var users int
	if blob != "" {
		if err := tx.StmtContext(ctx, s.blobUsers).QueryRowContext(ctx, blob).Scan(&users); err != nil {
			return fail(err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	if blob != "" && users == 0 {
		os.Remove(s.blobPath(blob))
	}
	return nil
}

// Deletions counts the Deletes made on the store.
func (s *Store) Deletions(ctx context.Context) (int64, error) {
	var n int64
	err := s.deletions.QueryRowContext(ctx).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: %w", err)
	}
	return n, nil
}

// List returns a page of records.
func (s *Store) List(ctx context.Context, q app.Query) ([]app.Record, bool, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 20
	}
	// The statement's text depends only on which filters are set and the
	// order, so that List makes few texts, each prepared once.
	var where strings.Builder
	where.WriteString("kind = ?")
	args := make([]any, 1, 7)
	args[0] = q.Kind
	if q.Parent != "" {
		where.WriteString(" AND parent = ?")
		args = append(args, q.Parent)
	}
	if q.Tag != "" {
		where.WriteString(" AND tag = ?")
		args = append(args, q.Tag)
	}
	if q.SinceSeq != 0 {
		where.WriteString(" AND seq > ?")
		args = append(args, q.SinceSeq)
	}
	desc := q.Order != "asc"
	cursor := func(id, op string) error {
		var seq int64
		err := s.seq.QueryRowContext(ctx, q.Kind, id).Scan(&seq)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("cursor %s: %w", id, app.ErrNotFound)
		}
		if err != nil {
			return err
		}
		where.WriteString(" AND seq " + op + " ?")
		args = append(args, seq)
		return nil
	}
	// "after" follows the list's order; "before" precedes it.
	if q.After != "" {
		op := ">"
		if desc {
			op = "<"
		}
		if err := cursor(q.After, op); err != nil {
			return nil, false, err
		}
	}
	if q.Before != "" {
		op := "<"
		if desc {
			op = ">"
		}
		if err := cursor(q.Before, op); err != nil {
			return nil, false, err
		}
	}
	order := "ASC"
	if desc {
		order = "DESC"
	}
	// With only "before", the page is the one right before the cursor.
	reverse := q.Before != "" && q.After == ""
	if reverse {
		if desc {
			order = "ASC"
		} else {
			order = "DESC"
		}
	}
	// The columns the filters fix are not read back: a row's every column
	// costs the driver a few calls.
	cols := "seq, id"
	if q.Parent == "" {
		cols += ", parent"
	}
	if q.Tag == "" {
		cols += ", tag"
	}
	cols += ", blob, created_at, data"
	st, err := s.listStmt(ctx, "SELECT "+cols+" FROM objects WHERE "+where.String()+" ORDER BY seq "+order+" LIMIT ?")
	if err != nil {
		return nil, false, fmt.Errorf("store: list %s: %w", q.Kind, err)
	}
	rows, err := st.QueryContext(ctx, append(args, limit+1)...)
	if err != nil {
		return nil, false, fmt.Errorf("store: list %s: %w", q.Kind, err)
	}
	defer rows.Close()
	out := make([]app.Record, 0, min(limit+1, 101))
	r := app.Record{Kind: q.Kind, Parent: q.Parent, Tag: q.Tag}
	dest := make([]any, 0, 7)
	dest = append(dest, &r.Seq, &r.ID)
	if q.Parent == "" {
		dest = append(dest, &r.Parent)
	}
	if q.Tag == "" {
		dest = append(dest, &r.Tag)
	}
	dest = append(dest, &r.Blob, &r.CreatedAt, &r.Data)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, false, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	if reverse {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out, more, nil
}

func (s *Store) blobPath(hash string) string {
	return filepath.Join(s.blobs, hash[:2], hash)
}

// ErrTooLarge is returned by PutBlob past its size limit.
var ErrTooLarge = app.ErrTooLarge

// PutBlob streams r to a temporary file while hashing it, then moves it
// into place under its hash. The same bytes are stored once.
func (s *Store) PutBlob(ctx context.Context, r io.Reader, max int64) (string, int64, error) {
	tmp, err := os.CreateTemp(filepath.Join(s.blobs, "tmp"), "upload-")
	if err != nil {
		return "", 0, fmt.Errorf("store: %w", err)
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(r, max+1))
	if err == nil && n > max {
		err = ErrTooLarge
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", 0, err
	}
	hash := hex.EncodeToString(h.Sum(nil))
	dst := s.blobPath(hash)
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return "", 0, err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return "", 0, fmt.Errorf("store: %w", err)
	}
	return hash, n, nil
}

// OpenBlob opens stored bytes.
func (s *Store) OpenBlob(hash string) (io.ReadSeekCloser, error) {
	if len(hash) != 64 || strings.Trim(hash, "0123456789abcdef") != "" {
		return nil, fmt.Errorf("blob %q: %w", hash, app.ErrNotFound)
	}
	f, err := os.Open(s.blobPath(hash))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("blob %s: %w", hash, app.ErrNotFound)
	}
	return f, err
}
