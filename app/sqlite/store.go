// Package store keeps Plotline's objects in SQLite and file bytes in a
// content-addressed folder beside the database.
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
	"sort"
	"strings"
	"time"

	"modernc.org/sqlite"

	"plotline/app"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is the SQLite store. It implements app.Store.
type Store struct {
	db    *sql.DB
	blobs string
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
	s := &Store{db: db, blobs: filepath.Join(dir, "blobs")}
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
	if err != nil {
		db.Close()
		return nil, err
	}
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

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Save inserts or replaces records in one transaction.
func (s *Store) Save(ctx context.Context, recs ...app.Record) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer tx.Rollback()
	for _, r := range recs {
		_, err := tx.ExecContext(ctx, `INSERT INTO objects (kind, id, parent, tag, blob, created_at, data)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (kind, id) DO UPDATE SET parent = excluded.parent, tag = excluded.tag,
				blob = excluded.blob, created_at = excluded.created_at, data = excluded.data`,
			r.Kind, r.ID, r.Parent, r.Tag, r.Blob, r.CreatedAt, r.Data)
		if err != nil {
			return fmt.Errorf("store: save %s %s: %w", r.Kind, r.ID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

const columns = "kind, id, parent, tag, blob, created_at, data, seq"

func scanRecord(row interface{ Scan(...any) error }) (app.Record, error) {
	var r app.Record
	err := row.Scan(&r.Kind, &r.ID, &r.Parent, &r.Tag, &r.Blob, &r.CreatedAt, &r.Data, &r.Seq)
	return r, err
}

// Get returns one record.
func (s *Store) Get(ctx context.Context, kind, id string) (app.Record, error) {
	r, err := scanRecord(s.db.QueryRowContext(ctx, "SELECT "+columns+" FROM objects WHERE kind = ? AND id = ?", kind, id))
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
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	defer tx.Rollback()
	var blob string
	err = tx.QueryRowContext(ctx, "SELECT blob FROM objects WHERE kind = ? AND id = ?", kind, id).Scan(&blob)
	if errors.Is(err, sql.ErrNoRows) {
		return &app.NotFoundError{Kind: kind, ID: id}
	}
	if err != nil {
		return fmt.Errorf("store: delete %s %s: %w", kind, id, err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM objects WHERE (kind = ? AND id = ?) OR (parent = ? AND kind != ?)", kind, id, id, app.KindFile); err != nil {
		return fmt.Errorf("store: delete %s %s: %w", kind, id, err)
	}
	var users int
	if blob != "" {
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM objects WHERE blob = ?", blob).Scan(&users); err != nil {
			return err
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

// List returns a page of records.
func (s *Store) List(ctx context.Context, q app.Query) ([]app.Record, bool, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = 20
	}
	where := []string{"kind = ?"}
	args := []any{q.Kind}
	if q.Parent != "" {
		where, args = append(where, "parent = ?"), append(args, q.Parent)
	}
	if q.Tag != "" {
		where, args = append(where, "tag = ?"), append(args, q.Tag)
	}
	if q.SinceSeq != 0 {
		where, args = append(where, "seq > ?"), append(args, q.SinceSeq)
	}
	desc := q.Order != "asc"
	cursor := func(id, op string) error {
		var seq int64
		err := s.db.QueryRowContext(ctx, "SELECT seq FROM objects WHERE kind = ? AND id = ?", q.Kind, id).Scan(&seq)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("cursor %s: %w", id, app.ErrNotFound)
		}
		if err != nil {
			return err
		}
		where, args = append(where, "seq "+op+" ?"), append(args, seq)
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
	rows, err := s.db.QueryContext(ctx, "SELECT "+columns+" FROM objects WHERE "+strings.Join(where, " AND ")+
		" ORDER BY seq "+order+" LIMIT ?", append(args, limit+1)...)
	if err != nil {
		return nil, false, fmt.Errorf("store: list %s: %w", q.Kind, err)
	}
	defer rows.Close()
	var out []app.Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
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
