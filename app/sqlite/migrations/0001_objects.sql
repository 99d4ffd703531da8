-- Every object of the Assistants API is stored as its JSON, with the few
-- fields lists and recovery need as columns. seq orders lists: created_at
-- has one-second resolution, and ids are random.
CREATE TABLE objects (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	kind       TEXT NOT NULL,
	id         TEXT NOT NULL,
	parent     TEXT NOT NULL DEFAULT '',
	tag        TEXT NOT NULL DEFAULT '',
	blob       TEXT NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL,
	data       BLOB NOT NULL,
	UNIQUE (kind, id)
);
CREATE INDEX objects_parent ON objects (kind, parent, seq);
CREATE INDEX objects_tag ON objects (kind, tag, seq);
CREATE INDEX objects_blob ON objects (blob) WHERE blob != '';
