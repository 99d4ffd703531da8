-- seq without AUTOINCREMENT: every insert then skips a write to
-- sqlite_sequence, about a sixth of a save. A deleted record's seq is still
-- never given again: each Delete first moves the deletion counter's row to
-- a seq above every other (see countDeleteSQL in store.go).
CREATE TABLE objects_next (
	seq        INTEGER PRIMARY KEY,
	kind       TEXT NOT NULL,
	id         TEXT NOT NULL,
	parent     TEXT NOT NULL DEFAULT '',
	tag        TEXT NOT NULL DEFAULT '',
	blob       TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	data       BLOB NOT NULL,
	UNIQUE (kind, id)
);
INSERT INTO objects_next (seq, kind, id, parent, tag, blob, created_at, data)
	SELECT seq, kind, id, parent, tag, blob, created_at, data FROM objects;
-- The highest seq ever given, kept as the deletion counter's, so that it
-- is not given again after the rebuild.
INSERT INTO objects_next (seq, kind, id, created_at, data)
	SELECT seq, 'plotline.deletions', 'count', 0, x'' FROM sqlite_sequence
	WHERE name = 'objects' AND seq > (SELECT coalesce(max(seq), 0) FROM objects)
	ON CONFLICT (kind, id) DO UPDATE SET seq = excluded.seq;
DROP TABLE objects;
ALTER TABLE objects_next RENAME TO objects;
CREATE INDEX objects_parent ON objects (kind, parent, seq);
CREATE INDEX objects_tag ON objects (kind, tag, seq);
CREATE INDEX objects_blob ON objects (blob) WHERE blob != '';
DELETE FROM sqlite_sequence WHERE name = 'objects';
