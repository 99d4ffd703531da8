package sqlite

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"plotline/app"
)

// open opens a store in a fresh folder and closes it when the test ends.
func open(t testing.TB) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dir
}

func save(t testing.TB, s *Store, recs ...app.Record) {
	t.Helper()
	if err := s.Save(context.Background(), recs...); err != nil {
		t.Fatalf("Save: %v", err)
	}
}

// msg is a message record of thread parent, tagged with run tag.
func msg(id, parent, tag string, created int64) app.Record {
	return app.Record{Kind: app.KindMessage, ID: id, Parent: parent, Tag: tag, CreatedAt: created,
		Data: []byte(fmt.Sprintf(`{"id":%q,"object":"thread.message","thread_id":%q}`, id, parent))}
}

func ids(recs []app.Record) []string {
	out := []string{}
	for _, r := range recs {
		out = append(out, r.ID)
	}
	return out
}

// unorderedIDs returns n ids whose lexical order is not their index order,
// so that a list sorted by id instead of insertion would show.
func unorderedIDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		h := sha256.Sum256([]byte{byte(i), byte(i >> 8)})
		out[i] = fmt.Sprintf("msg_%s_%03d", hex.EncodeToString(h[:4]), i)
	}
	return out
}

// blobFiles lists the files under blobs/, the tmp folder included.
func blobFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(filepath.Join(dir, "blobs"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSaveGetRoundTrip(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	want := app.Record{Kind: app.KindFile, ID: "file-abc", Parent: "thread_1", Tag: "assistants",
		Blob: strings.Repeat("ab", 32), CreatedAt: 1_700_000_123, Data: []byte(`{"id":"file-abc","bytes":3}`)}
	save(t, s, want)
	want.Seq = 1 // the first record of the store
	got, err := s.Get(ctx, app.KindFile, "file-abc")
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Get = %+v, want %+v", got, want)
	}
	// The same id under another kind is another object.
	if _, err := s.Get(ctx, app.KindMessage, "file-abc"); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("Get of the id under another kind: err = %v, want ErrNotFound", err)
	}
	if _, err := s.Get(ctx, app.KindFile, "file-missing"); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("Get of a missing id: err = %v, want ErrNotFound", err)
	}
}

func TestSaveIsOneTransaction(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	// The second record breaks a NOT NULL constraint: nothing may stay.
	err := s.Save(ctx, msg("msg_ok", "thread_1", "", 1), app.Record{Kind: app.KindMessage, ID: "msg_bad", CreatedAt: 1})
	if err == nil {
		t.Fatal("Save of a record without data: no error")
	}
	if _, err := s.Get(ctx, app.KindMessage, "msg_ok"); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("first record of a failed Save: err = %v, want ErrNotFound", err)
	}
}

func TestSaveUpsertKeepsPosition(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	save(t, s, msg("msg_a", "thread_1", "run_1", 10), msg("msg_b", "thread_1", "run_1", 11), msg("msg_c", "thread_1", "run_1", 12))
	updated := app.Record{Kind: app.KindMessage, ID: "msg_a", Parent: "thread_2", Tag: "run_9", Blob: "",
		CreatedAt: 99, Data: []byte(`{"id":"msg_a","status":"completed"}`)}
	save(t, s, updated)
	updated.Seq = 1 // msg_a's, kept

	got, err := s.Get(ctx, app.KindMessage, "msg_a")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, updated) {
		t.Errorf("after upsert Get = %+v, want %+v", got, updated)
	}
	all, _, err := s.List(ctx, app.Query{Kind: app.KindMessage, ListOptions: app.ListOptions{Order: "asc"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"msg_a", "msg_b", "msg_c"}; !reflect.DeepEqual(ids(all), want) {
		t.Errorf("asc list after upsert = %v, want %v (the replaced record keeps its place)", ids(all), want)
	}
	var n int
	if err := s.db.QueryRow("SELECT count(*) FROM objects").Scan(&n); err != nil || n != 3 {
		t.Errorf("rows = %d (%v), want 3", n, err)
	}
	// The indexed columns were replaced too.
	old, _, _ := s.List(ctx, app.Query{Kind: app.KindMessage, Parent: "thread_1"})
	if want := []string{"msg_c", "msg_b"}; !reflect.DeepEqual(ids(old), want) {
		t.Errorf("thread_1 after moving msg_a = %v, want %v", ids(old), want)
	}
	moved, _, _ := s.List(ctx, app.Query{Kind: app.KindMessage, Tag: "run_9"})
	if want := []string{"msg_a"}; !reflect.DeepEqual(ids(moved), want) {
		t.Errorf("tag run_9 = %v, want %v", ids(moved), want)
	}
}

func TestListOrderAndLimit(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	names := unorderedIDs(150)
	for i, id := range names {
		save(t, s, msg(id, "thread_1", "", int64(1000+i)))
	}
	rev := func(from, to int) []string { // names[from] down to names[to], inclusive
		var out []string
		for i := from; i >= to; i-- {
			out = append(out, names[i])
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		order string
		limit int
		want  []string
		more  bool
	}{
		{"default is desc, 20", "", 0, rev(149, 130), true},
		{"desc explicit", "desc", 3, rev(149, 147), true},
		{"limit 1", "", 1, rev(149, 149), true},
		{"limit 2", "", 2, rev(149, 148), true},
		{"limit 100", "desc", 100, rev(149, 50), true},
		{"asc limit 1", "asc", 1, names[:1], true},
		{"asc limit 2", "asc", 2, names[:2], true},
		{"asc default 20", "asc", 0, names[:20], true},
		{"asc limit 100", "asc", 100, names[:100], true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, more, err := s.List(ctx, app.Query{Kind: app.KindMessage, ListOptions: app.ListOptions{Limit: tc.limit, Order: tc.order}})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ids(got), tc.want) || more != tc.more {
				t.Errorf("got %v more=%v, want %v more=%v", ids(got), more, tc.want, tc.more)
			}
		})
	}
}

func TestListHasMoreAtBoundaries(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct{ records, limit int }{
		{0, 1}, {1, 1}, {2, 1}, {2, 2}, {3, 2}, {19, 0}, {20, 0}, {21, 0}, {99, 100}, {100, 100}, {101, 100},
	} {
		t.Run(fmt.Sprintf("%d records limit %d", tc.records, tc.limit), func(t *testing.T) {
			s, _ := open(t)
			var recs []app.Record
			for i, id := range unorderedIDs(tc.records) {
				recs = append(recs, msg(id, "thread_1", "", int64(i)))
			}
			save(t, s, recs...)
			limit := tc.limit
			if limit == 0 {
				limit = 20
			}
			wantLen, wantMore := min(tc.records, limit), tc.records > limit
			for _, order := range []string{"asc", "desc"} {
				got, more, err := s.List(ctx, app.Query{Kind: app.KindMessage, ListOptions: app.ListOptions{Limit: tc.limit, Order: order}})
				if err != nil {
					t.Fatal(err)
				}
				if len(got) != wantLen || more != wantMore {
					t.Errorf("%s: %d records more=%v, want %d more=%v", order, len(got), more, wantLen, wantMore)
				}
			}
		})
	}
}

func TestListCursors(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	n := unorderedIDs(10)
	for _, id := range n {
		save(t, s, msg(id, "thread_1", "", 500)) // one second: only insertion orders them
	}
	pick := func(is ...int) []string {
		out := []string{}
		for _, i := range is {
			out = append(out, n[i])
		}
		return out
	}
	for _, tc := range []struct {
		name          string
		order         string
		after, before int // -1 for none
		limit         int
		want          []string
		more          bool
	}{
		// after: what follows the cursor in the list's order.
		{"desc after", "desc", 5, -1, 3, pick(4, 3, 2), true},
		{"desc after, exactly the rest", "desc", 3, -1, 3, pick(2, 1, 0), false},
		{"desc after, short", "desc", 2, -1, 3, pick(1, 0), false},
		{"desc after the last", "desc", 0, -1, 3, pick(), false},
		{"asc after", "asc", 5, -1, 3, pick(6, 7, 8), true},
		{"asc after, exactly the rest", "asc", 6, -1, 3, pick(7, 8, 9), false},
		{"asc after, short", "asc", 7, -1, 3, pick(8, 9), false},
		{"asc after the last", "asc", 9, -1, 3, pick(), false},
		// before: what precedes the cursor, the page nearest it, in list order.
		{"desc before", "desc", -1, 5, 3, pick(8, 7, 6), true},
		{"desc before, exactly the rest", "desc", -1, 6, 3, pick(9, 8, 7), false},
		{"desc before, short", "desc", -1, 7, 3, pick(9, 8), false},
		{"desc before the first", "desc", -1, 9, 3, pick(), false},
		{"asc before", "asc", -1, 5, 3, pick(2, 3, 4), true},
		{"asc before, exactly the rest", "asc", -1, 3, 3, pick(0, 1, 2), false},
		{"asc before, short", "asc", -1, 2, 3, pick(0, 1), false},
		{"asc before the first", "asc", -1, 0, 3, pick(), false},
		{"default order before", "", -1, 1, 20, pick(9, 8, 7, 6, 5, 4, 3, 2), false},
		// Both: the span between them, from the "after" end.
		{"asc between", "asc", 2, 7, 10, pick(3, 4, 5, 6), false},
		{"asc between, limited", "asc", 2, 7, 2, pick(3, 4), true},
		{"desc between", "desc", 7, 2, 10, pick(6, 5, 4, 3), false},
		{"desc between, limited", "desc", 7, 2, 3, pick(6, 5, 4), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := app.Query{Kind: app.KindMessage, ListOptions: app.ListOptions{Limit: tc.limit, Order: tc.order}}
			if tc.after >= 0 {
				q.After = n[tc.after]
			}
			if tc.before >= 0 {
				q.Before = n[tc.before]
			}
			got, more, err := s.List(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ids(got), tc.want) || more != tc.more {
				t.Errorf("got %v more=%v, want %v more=%v", ids(got), more, tc.want, tc.more)
			}
		})
	}
}

// TestListPagesThroughEverything follows has_more and the last id, as a
// client does, in both orders and both directions.
func TestListPagesThroughEverything(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	n := unorderedIDs(23)
	for _, id := range n {
		save(t, s, msg(id, "thread_1", "", 7))
	}
	for _, order := range []string{"asc", "desc"} {
		var got []string
		q := app.Query{Kind: app.KindMessage, ListOptions: app.ListOptions{Limit: 5, Order: order}}
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatalf("%s: paging does not end", order)
			}
			page, more, err := s.List(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, ids(page)...)
			if !more {
				break
			}
			q.After = page[len(page)-1].ID
		}
		want := append([]string(nil), n...)
		if order == "desc" {
			slicesReverse(want)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s via after: got %v, want %v", order, got, want)
		}

		// Backwards from the end of the list with before.
		got = nil
		q = app.Query{Kind: app.KindMessage, ListOptions: app.ListOptions{Limit: 5, Order: order, Before: want[len(want)-1]}}
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatalf("%s: paging does not end", order)
			}
			page, more, err := s.List(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			got = append(ids(page), got...)
			if !more {
				break
			}
			q.Before = page[0].ID
		}
		if !reflect.DeepEqual(got, want[:len(want)-1]) {
			t.Errorf("%s via before: got %v, want %v", order, got, want[:len(want)-1])
		}
	}
}

func slicesReverse(s []string) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}

func TestListFilters(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	save(t, s,
		msg("msg_1", "thread_a", "run_1", 1),
		msg("msg_2", "thread_b", "run_2", 2),
		msg("msg_3", "thread_a", "run_2", 3),
		msg("msg_4", "thread_a", "", 4),
		msg("msg_5", "thread_b", "run_1", 5),
		app.Record{Kind: app.KindRun, ID: "run_1", Parent: "thread_a", Tag: "completed", CreatedAt: 6, Data: []byte(`{}`)},
		app.Record{Kind: app.KindRun, ID: "run_2", Parent: "thread_b", Tag: "in_progress", CreatedAt: 7, Data: []byte(`{}`)},
	)
	for _, tc := range []struct {
		name string
		q    app.Query
		want []string
		more bool
	}{
		{"kind only", app.Query{Kind: app.KindMessage}, []string{"msg_5", "msg_4", "msg_3", "msg_2", "msg_1"}, false},
		{"parent", app.Query{Kind: app.KindMessage, Parent: "thread_a"}, []string{"msg_4", "msg_3", "msg_1"}, false},
		{"parent and tag", app.Query{Kind: app.KindMessage, Parent: "thread_a", Tag: "run_2"}, []string{"msg_3"}, false},
		{"tag", app.Query{Kind: app.KindMessage, Tag: "run_1"}, []string{"msg_5", "msg_1"}, false},
		{"no match", app.Query{Kind: app.KindMessage, Parent: "thread_c"}, []string{}, false},
		{"other kind", app.Query{Kind: app.KindRun, Parent: "thread_b"}, []string{"run_2"}, false},
		{"status tag", app.Query{Kind: app.KindRun, Tag: "completed"}, []string{"run_1"}, false},
		// has_more counts only the thread's messages: msg_1 is left, not msg_2.
		{"filter and cursor", app.Query{Kind: app.KindMessage, Parent: "thread_a", ListOptions: app.ListOptions{After: "msg_4", Limit: 1}}, []string{"msg_3"}, true},
		{"filter and cursor, last", app.Query{Kind: app.KindMessage, Parent: "thread_a", ListOptions: app.ListOptions{After: "msg_3", Limit: 1}}, []string{"msg_1"}, false},
		{"filter, limit at the count", app.Query{Kind: app.KindMessage, Parent: "thread_b", ListOptions: app.ListOptions{Limit: 2}}, []string{"msg_5", "msg_2"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, more, err := s.List(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ids(got), tc.want) || more != tc.more {
				t.Errorf("got %v more=%v, want %v more=%v", ids(got), more, tc.want, tc.more)
			}
		})
	}
}

// seqs returns the Seq of each record.
func seqs(recs []app.Record) []int64 {
	out := []int64{}
	for _, r := range recs {
		out = append(out, r.Seq)
	}
	return out
}

func TestSeq(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	n := unorderedIDs(6)
	save(t, s, msg(n[0], "thread_1", "", 9))
	save(t, s, msg(n[1], "thread_1", "", 1), msg(n[2], "thread_2", "", 5)) // one transaction
	save(t, s, app.Record{Kind: app.KindRun, ID: "run_1", Parent: "thread_1", CreatedAt: 1, Data: []byte(`{}`)})
	save(t, s, msg(n[3], "thread_1", "", 1))

	// Seq grows with each new record, whatever its kind, created_at or id.
	all, _, err := s.List(ctx, app.Query{Kind: app.KindMessage, ListOptions: app.ListOptions{Order: "asc"}})
	if err != nil {
		t.Fatal(err)
	}
	got := seqs(all)
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			t.Fatalf("seqs in insertion order = %v, want them to grow", got)
		}
	}
	run, err := s.Get(ctx, app.KindRun, "run_1")
	if err != nil {
		t.Fatal(err)
	}
	if run.Seq <= got[2] || run.Seq >= got[3] {
		t.Errorf("run_1, saved between %s and %s, has seq %d; they have %d and %d", n[2], n[3], run.Seq, got[2], got[3])
	}
	// Get and List agree.
	for _, r := range all {
		g, err := s.Get(ctx, r.Kind, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		if g.Seq != r.Seq || g.Seq == 0 {
			t.Errorf("%s: Get seq %d, List seq %d", r.ID, g.Seq, r.Seq)
		}
	}
	// A replaced record keeps its Seq, even when its columns change; the
	// next new record still gets a greater one.
	before := all[1]
	save(t, s, app.Record{Kind: app.KindMessage, ID: before.ID, Parent: "thread_9", Tag: "run_9", CreatedAt: 99, Data: []byte(`{}`)})
	after, err := s.Get(ctx, app.KindMessage, before.ID)
	if err != nil {
		t.Fatal(err)
	}
	if after.Seq != before.Seq || after.Parent != "thread_9" {
		t.Errorf("after Save replaced %s: seq %d parent %s, want seq %d parent thread_9", before.ID, after.Seq, after.Parent, before.Seq)
	}
	save(t, s, msg(n[4], "thread_1", "", 1))
	last, err := s.Get(ctx, app.KindMessage, n[4])
	if err != nil {
		t.Fatal(err)
	}
	if last.Seq <= got[len(got)-1] {
		t.Errorf("new record after a replace: seq %d, want more than %d", last.Seq, got[len(got)-1])
	}
	// A deleted record's Seq is not given again.
	if err := s.Delete(ctx, app.KindMessage, n[4]); err != nil {
		t.Fatal(err)
	}
	save(t, s, msg(n[5], "thread_1", "", 1))
	if again, err := s.Get(ctx, app.KindMessage, n[5]); err != nil || again.Seq <= last.Seq {
		t.Errorf("record after a delete: seq %d (%v), want more than %d", again.Seq, err, last.Seq)
	}
}

func TestListSinceSeq(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	// Messages of thread_a and thread_b in turn, of runs 1, 2, 3 in turn.
	var recs []app.Record
	for i := range 12 {
		r := msg(fmt.Sprintf("msg_%02d", i), []string{"thread_a", "thread_b"}[i%2], []string{"run_1", "run_2", "run_3"}[i%3], 1)
		save(t, s, r)
		got, err := s.Get(ctx, r.Kind, r.ID)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, got)
	}
	pick := func(is ...int) []string {
		out := []string{}
		for _, i := range is {
			out = append(out, recs[i].ID)
		}
		return out
	}
	since := recs[5].Seq
	for _, tc := range []struct {
		name string
		q    app.Query
		want []string
		more bool
	}{
		{"asc", app.Query{SinceSeq: since, ListOptions: app.ListOptions{Order: "asc"}}, pick(6, 7, 8, 9, 10, 11), false},
		{"desc", app.Query{SinceSeq: since}, pick(11, 10, 9, 8, 7, 6), false},
		{"0 is every record", app.Query{ListOptions: app.ListOptions{Order: "asc", Limit: 3}}, pick(0, 1, 2), true},
		{"the last seq", app.Query{SinceSeq: recs[11].Seq}, pick(), false},
		{"past the end", app.Query{SinceSeq: recs[11].Seq + 100}, pick(), false},
		{"before the first", app.Query{SinceSeq: recs[0].Seq - 1, ListOptions: app.ListOptions{Order: "asc", Limit: 2}}, pick(0, 1), true},
		{"asc limited", app.Query{SinceSeq: since, ListOptions: app.ListOptions{Order: "asc", Limit: 2}}, pick(6, 7), true},
		{"desc limited", app.Query{SinceSeq: since, ListOptions: app.ListOptions{Limit: 2}}, pick(11, 10), true},
		{"desc, exactly the rest", app.Query{SinceSeq: since, ListOptions: app.ListOptions{Limit: 6}}, pick(11, 10, 9, 8, 7, 6), false},
		{"parent", app.Query{Parent: "thread_a", SinceSeq: since, ListOptions: app.ListOptions{Order: "asc"}}, pick(6, 8, 10), false},
		{"parent desc", app.Query{Parent: "thread_b", SinceSeq: since}, pick(11, 9, 7), false},
		{"tag", app.Query{Tag: "run_1", SinceSeq: since, ListOptions: app.ListOptions{Order: "asc"}}, pick(6, 9), false},
		{"parent and tag", app.Query{Parent: "thread_b", Tag: "run_3", SinceSeq: recs[4].Seq}, pick(11, 5), false},
		{"parent and tag, none", app.Query{Parent: "thread_a", Tag: "run_3", SinceSeq: recs[8].Seq}, pick(), false},
		{"after", app.Query{SinceSeq: since, ListOptions: app.ListOptions{Order: "asc", After: recs[8].ID}}, pick(9, 10, 11), false},
		{"after a cursor before since", app.Query{SinceSeq: since, ListOptions: app.ListOptions{Order: "asc", After: recs[2].ID, Limit: 2}}, pick(6, 7), true},
		{"desc after", app.Query{SinceSeq: since, ListOptions: app.ListOptions{After: recs[9].ID}}, pick(8, 7, 6), false},
		{"desc after, limited", app.Query{SinceSeq: since, ListOptions: app.ListOptions{After: recs[9].ID, Limit: 2}}, pick(8, 7), true},
		{"before", app.Query{SinceSeq: since, ListOptions: app.ListOptions{Order: "asc", Before: recs[9].ID}}, pick(6, 7, 8), false},
		{"before, the nearest page", app.Query{SinceSeq: since, ListOptions: app.ListOptions{Order: "asc", Before: recs[10].ID, Limit: 2}}, pick(8, 9), true},
		{"desc before", app.Query{SinceSeq: since, ListOptions: app.ListOptions{Before: recs[7].ID}}, pick(11, 10, 9, 8), false},
		{"between, with parent", app.Query{Parent: "thread_a", SinceSeq: since, ListOptions: app.ListOptions{Order: "asc", After: recs[6].ID, Before: recs[10].ID}}, pick(8), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.q.Kind = app.KindMessage
			got, more, err := s.List(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(ids(got), tc.want) || more != tc.more {
				t.Errorf("got %v more=%v, want %v more=%v", ids(got), more, tc.want, tc.more)
			}
			for _, r := range got {
				if r.Seq <= tc.q.SinceSeq {
					t.Errorf("%s: seq %d, not after %d", r.ID, r.Seq, tc.q.SinceSeq)
				}
			}
		})
	}
	// Another kind's records are not in a message list, whatever their seq.
	save(t, s, app.Record{Kind: app.KindRun, ID: "run_x", Parent: "thread_a", CreatedAt: 1, Data: []byte(`{}`)})
	got, _, err := s.List(ctx, app.Query{Kind: app.KindMessage, SinceSeq: recs[11].Seq})
	if err != nil || len(got) != 0 {
		t.Errorf("messages since the last one, with a run saved after it: %v, %v", ids(got), err)
	}
}

func TestListUnknownCursor(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	save(t, s, msg("msg_1", "thread_a", "", 1),
		app.Record{Kind: app.KindRun, ID: "run_1", Parent: "thread_a", CreatedAt: 1, Data: []byte(`{}`)})
	for _, opt := range []app.ListOptions{
		{After: "msg_nope"}, {Before: "msg_nope"}, {After: "msg_1", Before: "msg_nope"},
		{After: "run_1"}, // a cursor of another kind is no cursor of this list
	} {
		_, _, err := s.List(ctx, app.Query{Kind: app.KindMessage, ListOptions: opt})
		if !errors.Is(err, app.ErrNotFound) {
			t.Errorf("%+v: err = %v, want ErrNotFound", opt, err)
		}
	}
}

func TestListSameCreatedAtKeepsInsertionOrder(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	n := unorderedIDs(60)
	for i := 0; i < len(n); i += 3 { // some alone, some in one transaction
		save(t, s, msg(n[i], "t", "", 1_700_000_000), msg(n[i+1], "t", "", 1_700_000_000))
		save(t, s, msg(n[i+2], "t", "", 1_700_000_000))
	}
	got, more, err := s.List(ctx, app.Query{Kind: app.KindMessage, ListOptions: app.ListOptions{Order: "asc", Limit: 100}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ids(got), n) || more {
		t.Errorf("asc = %v more=%v, want %v", ids(got), more, n)
	}
}

func TestDeleteCascadesThread(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	thread := func(id string) app.Record {
		return app.Record{Kind: app.KindThread, ID: id, CreatedAt: 1, Data: []byte(`{}`)}
	}
	child := func(kind, id, parent string) app.Record {
		return app.Record{Kind: kind, ID: id, Parent: parent, CreatedAt: 1, Data: []byte(`{}`)}
	}
	save(t, s,
		thread("thread_1"), thread("thread_2"),
		child(app.KindMessage, "msg_1", "thread_1"), child(app.KindMessage, "msg_2", "thread_1"),
		child(app.KindRun, "run_1", "thread_1"),
		app.Record{Kind: app.KindRunStep, ID: "step_1", Parent: "thread_1", Tag: "run_1", CreatedAt: 1, Data: []byte(`{}`)},
		child(app.KindFile, "file-1", "thread_1"), // a file the thread's code wrote: it outlives the thread
		child(app.KindMessage, "msg_3", "thread_2"),
		child(app.KindRun, "run_2", "thread_2"),
		child(app.KindAssistant, "asst_1", ""),
	)
	if err := s.Delete(ctx, app.KindThread, "thread_1"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	for _, gone := range [][2]string{
		{app.KindThread, "thread_1"}, {app.KindMessage, "msg_1"}, {app.KindMessage, "msg_2"},
		{app.KindRun, "run_1"}, {app.KindRunStep, "step_1"},
	} {
		if _, err := s.Get(ctx, gone[0], gone[1]); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("%s %s after Delete: err = %v, want ErrNotFound", gone[0], gone[1], err)
		}
	}
	for _, kept := range [][2]string{
		{app.KindFile, "file-1"}, {app.KindThread, "thread_2"}, {app.KindMessage, "msg_3"},
		{app.KindRun, "run_2"}, {app.KindAssistant, "asst_1"},
	} {
		if _, err := s.Get(ctx, kept[0], kept[1]); err != nil {
			t.Errorf("%s %s after Delete of another thread: %v", kept[0], kept[1], err)
		}
	}
	if err := s.Delete(ctx, app.KindThread, "thread_1"); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("second Delete: err = %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, app.KindThread, "thread_nope"); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("Delete of a missing id: err = %v, want ErrNotFound", err)
	}
	// A message is deleted alone; its thread stays.
	if err := s.Delete(ctx, app.KindMessage, "msg_3"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, app.KindThread, "thread_2"); err != nil {
		t.Errorf("thread_2 after deleting its message: %v", err)
	}
}

func TestDeleteRemovesUnusedBlob(t *testing.T) {
	s, dir := open(t)
	ctx := context.Background()
	hash, size, err := s.PutBlob(ctx, strings.NewReader("a,b\n1,2\n"), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if size != 8 {
		t.Errorf("size = %d, want 8", size)
	}
	other, _, err := s.PutBlob(ctx, strings.NewReader("other bytes"), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	file := func(id, blob string) app.Record {
		return app.Record{Kind: app.KindFile, ID: id, Tag: "assistants", Blob: blob, CreatedAt: 1, Data: []byte(`{}`)}
	}
	save(t, s, file("file-1", hash), file("file-2", hash), file("file-3", other))
	path := filepath.Join(dir, "blobs", hash[:2], hash)

	if err := s.Delete(ctx, app.KindFile, "file-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("blob still used by file-2 was removed: %v", err)
	}
	f, err := s.OpenBlob(hash)
	if err != nil {
		t.Fatalf("OpenBlob while file-2 uses it: %v", err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	if string(b) != "a,b\n1,2\n" {
		t.Errorf("blob = %q", b)
	}

	if err := s.Delete(ctx, app.KindFile, "file-2"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("unused blob still on disk: stat err = %v", err)
	}
	if _, err := s.OpenBlob(hash); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("OpenBlob of a removed blob: err = %v, want ErrNotFound", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "blobs", other[:2], other)); err != nil {
		t.Errorf("another file's blob was removed: %v", err)
	}
}

func TestPutBlobStoresSameBytesOnce(t *testing.T) {
	s, dir := open(t)
	ctx := context.Background()
	data := []byte("x,y\n1,2\n3,4\n")
	sum := sha256.Sum256(data)
	want := hex.EncodeToString(sum[:])
	h1, n1, err := s.PutBlob(ctx, bytes.NewReader(data), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	h2, n2, err := s.PutBlob(ctx, bytes.NewReader(data), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if h1 != want || h2 != want || n1 != int64(len(data)) || n2 != int64(len(data)) {
		t.Errorf("PutBlob = (%s, %d), (%s, %d); want (%s, %d) twice", h1, n1, h2, n2, want, len(data))
	}
	if got, wantFiles := blobFiles(t, dir), []string{"blobs/" + want[:2] + "/" + want}; !reflect.DeepEqual(got, wantFiles) {
		t.Errorf("files = %v, want %v", got, wantFiles)
	}
	// The empty file is a file too.
	h, n, err := s.PutBlob(ctx, strings.NewReader(""), 0)
	if err != nil || n != 0 || h != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Errorf("empty PutBlob = %s, %d, %v", h, n, err)
	}
}

func TestPutBlobSizeLimit(t *testing.T) {
	s, dir := open(t)
	ctx := context.Background()
	const max = 1000
	at := bytes.Repeat([]byte{'a'}, max)
	hash, n, err := s.PutBlob(ctx, bytes.NewReader(at), max)
	if err != nil || n != max {
		t.Fatalf("PutBlob of exactly max: %d, %v", n, err)
	}
	if got := blobFiles(t, dir); len(got) != 1 || !strings.HasSuffix(got[0], hash) {
		t.Fatalf("files = %v, want one, named %s", got, hash)
	}
	over := bytes.Repeat([]byte{'b'}, max+1)
	h, n, err := s.PutBlob(ctx, bytes.NewReader(over), max)
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("PutBlob of max+1: (%q, %d, %v), want ErrTooLarge", h, n, err)
	}
	if got := blobFiles(t, dir); len(got) != 1 || !strings.HasSuffix(got[0], hash) {
		t.Errorf("after a refused upload files = %v, want only %s (no temp file, no blob)", got, hash)
	}
	// Far over the limit: reading stops, nothing stays.
	_, _, err = s.PutBlob(ctx, io.LimitReader(zeros{}, 50*max), max)
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("PutBlob of 50*max: err = %v, want ErrTooLarge", err)
	}
	if got := blobFiles(t, dir); len(got) != 1 {
		t.Errorf("files = %v, want one", got)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// failingReader fails after some bytes, as a dropped upload does.
type failingReader struct{ left int }

var errDropped = errors.New("connection dropped")

func (r *failingReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, errDropped
	}
	n := min(len(p), r.left)
	clear(p[:n])
	r.left -= n
	return n, nil
}

func TestPutBlobReadErrorLeavesNothing(t *testing.T) {
	s, dir := open(t)
	_, _, err := s.PutBlob(context.Background(), &failingReader{left: 100_000}, 1<<20)
	if !errors.Is(err, errDropped) {
		t.Errorf("err = %v, want the reader's error", err)
	}
	if got := blobFiles(t, dir); len(got) != 0 {
		t.Errorf("files after a failed upload = %v, want none", got)
	}
}

func TestPutBlobRoundTripLarge(t *testing.T) {
	s, _ := open(t)
	data := make([]byte, 5<<20+123)
	rand.New(rand.NewSource(1)).Read(data)
	hash, n, err := s.PutBlob(context.Background(), bytes.NewReader(data), 8<<20)
	if err != nil || n != int64(len(data)) {
		t.Fatalf("PutBlob: %d, %v", n, err)
	}
	sum := sha256.Sum256(data)
	if hash != hex.EncodeToString(sum[:]) {
		t.Errorf("hash = %s, want the SHA-256 of the bytes", hash)
	}
	f, err := s.OpenBlob(hash)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := io.ReadAll(f)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back %d bytes (%v), want the %d stored, equal", len(got), err, len(data))
	}
	// Seekable, for http.ServeContent.
	if _, err := f.Seek(3<<20, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	part := make([]byte, 16)
	if _, err := io.ReadFull(f, part); err != nil || !bytes.Equal(part, data[3<<20:3<<20+16]) {
		t.Errorf("after Seek read %x (%v), want %x", part, err, data[3<<20:3<<20+16])
	}
}

func TestOpenBlobBadHash(t *testing.T) {
	root := t.TempDir()
	s, err := Open(filepath.Join(root, "store"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// A file a traversal would reach: store/blobs/../../NAME is root/NAME.
	name := strings.Repeat("0", 61)
	if err := os.WriteFile(filepath.Join(root, name), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	// One that blobs/<first two>/<hash> would name if case were ignored.
	upper := strings.Repeat("AB", 32)
	hash, _, err := s.PutBlob(context.Background(), strings.NewReader("x"), 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{
		"",
		"abc",
		hash[:63],
		hash + "0",
		upper,
		strings.Repeat("zz", 32),
		"../" + name,
		("../../etc/passwd" + strings.Repeat("0", 64))[:64],
		("..\\..\\etc\\passwd" + strings.Repeat("0", 64))[:64],
		"/etc/passwd" + strings.Repeat("0", 53),
		strings.Repeat("0", 64), // well formed, never stored
	} {
		f, err := s.OpenBlob(bad)
		if err == nil {
			f.Close()
		}
		if !errors.Is(err, app.ErrNotFound) {
			t.Errorf("OpenBlob(%q): err = %v, want ErrNotFound", bad, err)
		}
	}
}

func TestOpenKeepsData(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := msg("msg_1", "thread_1", "run_1", 42)
	save(t, s, want)
	hash, _, err := s.PutBlob(ctx, strings.NewReader("kept"), 10)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(dir)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	want.Seq = 1
	got, err := s.Get(ctx, app.KindMessage, "msg_1")
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("after reopen Get = %+v, %v; want %+v", got, err, want)
	}
	f, err := s.OpenBlob(hash)
	if err != nil {
		t.Fatalf("OpenBlob after reopen: %v", err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	if string(b) != "kept" {
		t.Errorf("blob after reopen = %q", b)
	}
	// New records still go after the old ones.
	save(t, s, msg("msg_2", "thread_1", "", 1))
	all, _, _ := s.List(ctx, app.Query{Kind: app.KindMessage, ListOptions: app.ListOptions{Order: "asc"}})
	if want := []string{"msg_1", "msg_2"}; !reflect.DeepEqual(ids(all), want) {
		t.Errorf("asc after reopen = %v, want %v", ids(all), want)
	}
}

func TestOpenSettings(t *testing.T) {
	s, _ := open(t)
	var version int
	var mode string
	var sync, busy int
	if err := s.db.QueryRow("PRAGMA user_version").Scan(&version); err != nil {
		t.Fatal(err)
	}
	names, _ := migrations.ReadDir("migrations")
	if version != len(names) || version == 0 {
		t.Errorf("user_version = %d, want %d (one per migration)", version, len(names))
	}
	// Several connections, each with the settings: hold them all at once.
	ctx := context.Background()
	var conns []*sql.Conn
	for range 3 {
		c, err := s.db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns = append(conns, c)
	}
	for i, c := range conns {
		if err := c.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" || sync != 1 || busy != 10000 {
			t.Errorf("conn %d: journal_mode=%s synchronous=%d busy_timeout=%d, want wal, 1 (NORMAL), 10000", i, mode, sync, busy)
		}
	}
}

// TestOpenOddFolderName: the folder goes into a "file:" URI, where '?',
// '#' and '%' mean something.
func TestOpenOddFolderName(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "C# data?x=1 100%25 #2")
	s, err := Open(dir)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	save(t, s, msg("msg_1", "t", "", 1))
	s.Close()
	if _, err := os.Stat(filepath.Join(dir, "plotline.db")); err != nil {
		t.Errorf("the database is not in the folder: %v", err)
	}
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Get(context.Background(), app.KindMessage, "msg_1"); err != nil {
		t.Errorf("after reopen: %v", err)
	}
}

func TestOpenNewerSchema(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := sql.Open("sqlite", filepath.Join(dir, "plotline.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	db.Close()

	s, err = Open(dir)
	if err == nil {
		s.Close()
		t.Fatal("Open of a database with a newer schema: no error")
	}
	if msg := err.Error(); !strings.Contains(msg, "newer") || !strings.Contains(msg, "99") {
		t.Errorf("error = %q, want it to say the database is newer, schema 99", msg)
	}
}

func TestOpenRemovesLeftoverTempFiles(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	hash, _, err := s.PutBlob(context.Background(), strings.NewReader("stays"), 10)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, name := range []string{"upload-123", "upload-456"} {
		if err := os.WriteFile(filepath.Join(dir, "blobs", "tmp", name), []byte("half an upload"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, want := blobFiles(t, dir), []string{"blobs/" + hash[:2] + "/" + hash}; !reflect.DeepEqual(got, want) {
		t.Errorf("files after Open = %v, want %v", got, want)
	}
	// The tmp folder itself is still there for the next upload.
	if _, _, err := s.PutBlob(context.Background(), strings.NewReader("next"), 10); err != nil {
		t.Errorf("PutBlob after cleaning: %v", err)
	}
}

// TestOpenConcurrently: two processes (here, two Stores) opening a new
// folder at once must not both run the first migration.
func TestOpenConcurrently(t *testing.T) {
	for round := range 10 {
		dir := t.TempDir()
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Go(func() {
				s, err := Open(dir)
				if err == nil {
					err = s.Save(context.Background(), msg(fmt.Sprintf("msg_%d", i), "t", "", 1))
					s.Close()
				}
				errs[i] = err
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, Open %d: %v", round, i, err)
			}
		}
	}
}

func TestConcurrentWrites(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	const writers, saves = 8, 40
	// Records for the deleters, who read before they write.
	for i := range 40 {
		save(t, s, app.Record{Kind: app.KindThread, ID: fmt.Sprintf("thread_old_%d", i), CreatedAt: 1, Data: []byte(`{}`)},
			msg(fmt.Sprintf("msg_old_%d", i), fmt.Sprintf("thread_old_%d", i), "", 1))
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers*saves+100)
	for w := range writers {
		wg.Go(func() {
			for i := range saves {
				a := msg(fmt.Sprintf("msg_%d_%d_a", w, i), fmt.Sprintf("thread_%d", w), "", 1)
				b := msg(fmt.Sprintf("msg_%d_%d_b", w, i), fmt.Sprintf("thread_%d", w), "", 1)
				if err := s.Save(ctx, a, b); err != nil {
					errs <- fmt.Errorf("writer %d save %d: %w", w, i, err)
				}
			}
		})
	}
	for d := range 2 {
		wg.Go(func() {
			for i := d; i < 40; i += 2 {
				if err := s.Delete(ctx, app.KindThread, fmt.Sprintf("thread_old_%d", i)); err != nil {
					errs <- fmt.Errorf("deleter %d thread %d: %w", d, i, err)
				}
			}
		})
	}
	wg.Go(func() {
		for range 40 {
			if _, _, err := s.List(ctx, app.Query{Kind: app.KindMessage, ListOptions: app.ListOptions{Limit: 100}}); err != nil {
				errs <- fmt.Errorf("reader: %w", err)
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for w := range writers {
		got, more, err := s.List(ctx, app.Query{Kind: app.KindMessage, Parent: fmt.Sprintf("thread_%d", w), ListOptions: app.ListOptions{Limit: 100, Order: "asc"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2*saves || more {
			t.Errorf("writer %d: %d messages (more=%v), want %d", w, len(got), more, 2*saves)
			continue
		}
		// Each writer's own saves are in its order.
		for i := range saves {
			if got[2*i].ID != fmt.Sprintf("msg_%d_%d_a", w, i) || got[2*i+1].ID != fmt.Sprintf("msg_%d_%d_b", w, i) {
				t.Errorf("writer %d: message %d is %s", w, 2*i, got[2*i].ID)
				break
			}
		}
	}
	var left int
	if err := s.db.QueryRow("SELECT count(*) FROM objects WHERE id LIKE '%_old_%'").Scan(&left); err != nil || left != 0 {
		t.Errorf("%d old records left (%v), want 0", left, err)
	}
}

// holdWrites takes the store's write lock, as a long transaction would,
// until the returned func is called.
func holdWrites(s *Store) (release func()) {
	s.write <- struct{}{}
	return func() { <-s.write }
}

// waitQueued waits until n Saves wait for the write lock.
func waitQueued(t *testing.T, s *Store, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		s.queue.Lock()
		got := len(s.saves)
		s.queue.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d Saves queued, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestQueuedSaves: Saves made while a writer holds the write lock wait
// for it and are committed (together) once it is free; one whose record
// the database refuses fails alone, with none of its records kept.
func TestQueuedSaves(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	release := holdWrites(s)
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			recs := []app.Record{msg(fmt.Sprintf("msg_%d_a", i), "thread_1", "", 1), msg(fmt.Sprintf("msg_%d_b", i), "thread_1", "", 1)}
			if i == 3 {
				recs[1].Data = nil // NOT NULL: refused
			}
			errs[i] = s.Save(ctx, recs...)
		})
	}
	waitQueued(t, s, n)
	release()
	wg.Wait()
	for i, err := range errs {
		for _, part := range []string{"a", "b"} {
			_, gerr := s.Get(ctx, app.KindMessage, fmt.Sprintf("msg_%d_%s", i, part))
			switch {
			case i == 3 && err == nil:
				t.Errorf("Save %d with a refused record: no error", i)
			case i == 3 && !errors.Is(gerr, app.ErrNotFound):
				t.Errorf("Save %d failed, but its record %s is there (%v)", i, part, gerr)
			case i != 3 && err != nil:
				t.Errorf("Save %d: %v", i, err)
			case i != 3 && gerr != nil:
				t.Errorf("Save %d, record %s: %v", i, part, gerr)
			}
		}
	}
	// The lock is free again for the next Save and for Delete.
	save(t, s, msg("msg_after", "thread_1", "", 1))
	if err := s.Delete(ctx, app.KindMessage, "msg_after"); err != nil {
		t.Fatal(err)
	}
}

// TestSaveCancelledWhileQueued: a Save whose context ends while it waits
// for the write lock fails, and its records are not saved later.
func TestSaveCancelledWhileQueued(t *testing.T) {
	s, _ := open(t)
	ctx, cancel := context.WithCancel(context.Background())
	release := holdWrites(s)
	errc := make(chan error, 1)
	go func() { errc <- s.Save(ctx, msg("msg_cancelled", "thread_1", "", 1)) }()
	waitQueued(t, s, 1)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Save cancelled while queued: err = %v, want context.Canceled", err)
	}
	release()
	save(t, s, msg("msg_next", "thread_1", "", 1))
	if _, err := s.Get(context.Background(), app.KindMessage, "msg_cancelled"); !errors.Is(err, app.ErrNotFound) {
		t.Errorf("the cancelled Save's record: err = %v, want ErrNotFound", err)
	}
	if err := s.Save(ctx, msg("msg_late", "thread_1", "", 1)); !errors.Is(err, context.Canceled) {
		t.Errorf("Save with an ended context: err = %v, want context.Canceled", err)
	}
}

// TestStatementsPreparedOnce: List prepares each statement text once,
// however many calls and values use it, and Close closes them.
func TestStatementsPreparedOnce(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	round := func(k int) {
		id := fmt.Sprintf("msg_%d", k)
		save(t, s, msg(id, "thread_1", "run_1", 1), msg(id+"_x", "thread_2", "run_2", 1))
		if _, err := s.Get(ctx, app.KindMessage, id); err != nil {
			t.Fatal(err)
		}
		for _, q := range []app.Query{
			{Kind: app.KindMessage},
			{Kind: app.KindMessage, Parent: "thread_1", ListOptions: app.ListOptions{Order: "asc", After: id}},
			{Kind: app.KindMessage, Parent: "thread_2", Tag: "run_2", SinceSeq: int64(k), ListOptions: app.ListOptions{Before: id + "_x"}},
		} {
			if _, _, err := s.List(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Delete(ctx, app.KindMessage, id+"_x"); err != nil {
			t.Fatal(err)
		}
	}
	count := func() int {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.lists)
	}
	round(1)
	n := count()
	for k := 2; k < 20; k++ {
		round(k)
	}
	if got := count(); got != n || n == 0 {
		t.Errorf("statements after 19 rounds: %d; after the first: %d", got, n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := count(); got != 0 {
		t.Errorf("statements after Close: %d", got)
	}
	if _, err := s.Get(ctx, app.KindMessage, "msg_1"); err == nil {
		t.Error("Get after Close: no error")
	}
}

// The kill -9 test runs this test binary again as a child that saves in a
// loop until it is killed.
const (
	killDirEnv   = "PLOTLINE_STORE_KILL_DIR"
	killStartEnv = "PLOTLINE_STORE_KILL_START"
	killPrefix   = "committed "
)

// killRecord is record j (0–2) of batch n. Sizes vary so that some
// transactions span many pages.
func killRecord(n, j int) app.Record {
	pad := strings.Repeat("p", (n*7919+j*104729)%60000)
	data, _ := json.Marshal(map[string]any{"n": n, "j": j, "pad": pad})
	return app.Record{Kind: app.KindMessage, ID: fmt.Sprintf("msg_%08d_%d", n, j), Parent: "thread_kill",
		CreatedAt: int64(n), Data: data}
}

// TestKillChild is the child's side; it is skipped in a normal run.
func TestKillChild(t *testing.T) {
	dir := os.Getenv(killDirEnv)
	if dir == "" {
		t.Skip("only run as the child of TestKillNineLosesNothingCommitted")
	}
	start, _ := strconv.Atoi(os.Getenv(killStartEnv))
	s, err := Open(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	deadline := time.Now().Add(30 * time.Second) // never outlive a parent that failed to kill us
	for n := start; time.Now().Before(deadline); n++ {
		if err := s.Save(context.Background(), killRecord(n, 0), killRecord(n, 1), killRecord(n, 2)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		// os.Stdout is unbuffered: one write(2) per line, done when Println returns.
		fmt.Println(killPrefix + strconv.Itoa(n))
	}
	os.Exit(4)
}

func TestKillNineLosesNothingCommitted(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir() // one database through every crash
	next, reported := 1, 0
	// Kill after some reported commits, plus a little more time that
	// differs each round, so that the kill lands at different points of a
	// transaction: before, inside, during the commit, after it.
	for round := range 16 {
		moment := struct {
			commits int
			extra   time.Duration
		}{[]int{1, 2, 5, 13, 30}[round%5], time.Duration(round) * 137 * time.Microsecond}
		cmd := exec.Command(exe, "-test.run=^TestKillChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), killDirEnv+"="+dir, killStartEnv+"="+strconv.Itoa(next))
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := bufio.NewScanner(out)
		seen := 0
		for seen < moment.commits && lines.Scan() {
			if n, ok := strings.CutPrefix(lines.Text(), killPrefix); ok {
				v, err := strconv.Atoi(n)
				if err != nil {
					t.Fatalf("child wrote %q", lines.Text())
				}
				reported = v
				seen++
			}
		}
		if seen < moment.commits {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("round %d: child ended after %d commits: %s", round, seen, stderr.String())
		}
		time.Sleep(moment.extra)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		// Lines written before the kill are still in the pipe.
		for lines.Scan() {
			if n, ok := strings.CutPrefix(lines.Text(), killPrefix); ok {
				if v, err := strconv.Atoi(n); err == nil {
					reported = v
				}
			}
		}
		err = cmd.Wait()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
			t.Fatalf("round %d: child ended with %v, not by SIGKILL: %s", round, err, stderr.String())
		}

		highest := checkAfterKill(t, dir, reported)
		t.Logf("round %d: reported %d, found %d", round, reported, highest)
		next = highest + 1
	}
}

// checkAfterKill reopens the store after a crash and checks it, returning
// the highest batch present.
func checkAfterKill(t *testing.T, dir string, reported int) int {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatalf("Open after kill -9: %v", err)
	}
	defer s.Close()
	var check string
	if err := s.db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
	rows, err := s.db.Query("SELECT id, data FROM objects WHERE kind = ?", app.KindMessage)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	batches := map[int]int{}
	for rows.Next() {
		var id string
		var data []byte
		if err := rows.Scan(&id, &data); err != nil {
			t.Fatal(err)
		}
		var v struct{ N, J int }
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatalf("record %s: JSON does not parse: %v", id, err)
		}
		if want := killRecord(v.N, v.J); id != want.ID || !bytes.Equal(data, want.Data) {
			t.Fatalf("record %s holds batch %d part %d, not what was saved", id, v.N, v.J)
		}
		batches[v.N]++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	highest := 0
	for n, c := range batches {
		if c != 3 {
			t.Errorf("batch %d: %d of its 3 records (a transaction half there)", n, c)
		}
		highest = max(highest, n)
	}
	for n := 1; n <= reported; n++ {
		if batches[n] != 3 {
			t.Fatalf("batch %d was reported committed, but %d of its 3 records are there", n, batches[n])
		}
	}
	// At most the batch in flight when killed committed without being reported.
	if highest > reported+1 || len(batches) != highest {
		t.Errorf("batches: %d, highest %d, last reported %d", len(batches), highest, reported)
	}
	return highest
}

// BenchmarkSaveMessage measures one Save of one message of about 1 KB: the
// SQLite write latency per message.
func BenchmarkSaveMessage(b *testing.B) {
	s, _ := open(b)
	ctx := context.Background()
	text := strings.Repeat("The mean of column x is 4.2; ", 30)
	data, _ := json.Marshal(map[string]any{
		"id": "msg_0", "object": "thread.message", "created_at": 1_700_000_000, "thread_id": "thread_bench",
		"role": "assistant", "content": []any{map[string]any{"type": "text", "text": map[string]any{"value": text, "annotations": []any{}}}},
		"attachments": []any{}, "metadata": map[string]any{},
	})
	if len(data) < 900 || len(data) > 1200 {
		b.Fatalf("record is %d bytes, want about 1 KB", len(data))
	}
	i := 0
	for b.Loop() {
		i++
		r := app.Record{Kind: app.KindMessage, ID: "msg_" + strconv.Itoa(i), Parent: "thread_bench", Tag: "run_1",
			CreatedAt: 1_700_000_000, Data: data}
		if err := s.Save(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
}

// benchMessages saves n messages of about 1 KB in thread_bench, 500 to a
// transaction, and returns their ids.
func benchMessages(b *testing.B, s *Store, n int) []string {
	b.Helper()
	text := strings.Repeat("The mean of column x is 4.2; ", 30)
	var ids []string
	var recs []app.Record
	for i := range n {
		id := "msg_" + strconv.Itoa(i)
		data, _ := json.Marshal(map[string]any{
			"id": id, "object": "thread.message", "created_at": 1_700_000_000, "thread_id": "thread_bench",
			"role": "assistant", "content": []any{map[string]any{"type": "text", "text": map[string]any{"value": text, "annotations": []any{}}}},
			"attachments": []any{}, "metadata": map[string]any{},
		})
		recs = append(recs, app.Record{Kind: app.KindMessage, ID: id, Parent: "thread_bench", Tag: "run_" + strconv.Itoa(i/10),
			CreatedAt: 1_700_000_000, Data: data})
		ids = append(ids, id)
		if len(recs) == 500 || i == n-1 {
			save(b, s, recs...)
			recs = recs[:0]
		}
	}
	return ids
}

// BenchmarkListMessages measures one page of 20 messages of a thread of
// 5,000, newest first: what the window and the API do to show a thread.
func BenchmarkListMessages(b *testing.B) {
	s, _ := open(b)
	ctx := context.Background()
	benchMessages(b, s, 5000)
	q := app.Query{Kind: app.KindMessage, Parent: "thread_bench", ListOptions: app.ListOptions{Limit: 20}}
	for b.Loop() {
		recs, more, err := s.List(ctx, q)
		if err != nil || len(recs) != 20 || !more {
			b.Fatalf("%d records, more=%v, %v", len(recs), more, err)
		}
	}
}

// BenchmarkGet measures getting one message of about 1 KB by id, among
// 5,000.
func BenchmarkGet(b *testing.B) {
	s, _ := open(b)
	ctx := context.Background()
	ids := benchMessages(b, s, 5000)
	i := 0
	for b.Loop() {
		i = (i + 7919) % len(ids)
		if _, err := s.Get(ctx, app.KindMessage, ids[i]); err != nil {
			b.Fatal(err)
		}
	}
}

// A record marked InThread is saved only while its thread is stored: a
// thread deleted meanwhile, even by another process, gets no orphans.
func TestSaveInThread(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	m := msg("msg_1", "thread_x", "", 1)
	m.InThread = true
	err := s.Save(ctx, m)
	var nf *app.NotFoundError
	if !errors.As(err, &nf) || nf.Kind != app.KindThread || nf.ID != "thread_x" {
		t.Fatalf("no thread: %v", err)
	}
	if _, err := s.Get(ctx, app.KindMessage, "msg_1"); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("the message was stored: %v", err)
	}
	save(t, s, app.Record{Kind: app.KindThread, ID: "thread_x", CreatedAt: 1, Data: []byte(`{}`)})
	save(t, s, m)
	if r, err := s.Get(ctx, app.KindMessage, "msg_1"); err != nil || r.Parent != "thread_x" {
		t.Fatalf("with its thread: %v %+v", err, r)
	}
	// Saves made together: only the one whose thread is gone fails.
	if err := s.Delete(ctx, app.KindThread, "thread_x"); err != nil {
		t.Fatal(err)
	}
	save(t, s, app.Record{Kind: app.KindThread, ID: "thread_y", CreatedAt: 1, Data: []byte(`{}`)})
	errs := make(chan error, 20)
	for i := range 20 {
		parent := "thread_y"
		if i%2 == 1 {
			parent = "thread_x"
		}
		r := msg(fmt.Sprint("msg_b", i), parent, "", 1)
		r.InThread = true
		go func() { errs <- s.Save(ctx, r) }()
	}
	failed := 0
	for range 20 {
		if err := <-errs; errors.As(err, &nf) && nf.ID == "thread_x" {
			failed++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	recs, _, err := s.List(ctx, app.Query{Kind: app.KindMessage, ListOptions: app.ListOptions{Limit: 100}})
	if err != nil || failed != 10 || len(recs) != 10 {
		t.Fatalf("%d saves failed, %d messages stored: %v", failed, len(recs), err)
	}
	for _, r := range recs {
		if r.Parent != "thread_y" {
			t.Fatalf("an orphan: %+v", r)
		}
	}
}

// Deletions counts every Delete, as another store on the same folder (another
// process) sees it.
func TestDeletionsAreCounted(t *testing.T) {
	s, dir := open(t)
	ctx := context.Background()
	if n, err := s.Deletions(ctx); err != nil || n != 0 {
		t.Fatalf("new store: %d %v", n, err)
	}
	save(t, s, msg("msg_1", "thread_1", "", 1), msg("msg_2", "thread_1", "", 1))
	other, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	for i, id := range []string{"msg_1", "msg_2"} {
		if err := other.Delete(ctx, app.KindMessage, id); err != nil {
			t.Fatal(err)
		}
		if n, err := s.Deletions(ctx); err != nil || n != int64(i+1) {
			t.Fatalf("after %d deletes: %d %v", i+1, n, err)
		}
	}
	// A Delete of nothing changes nothing.
	if err := s.Delete(ctx, app.KindMessage, "msg_1"); !errors.Is(err, app.ErrNotFound) {
		t.Fatal(err)
	}
	if n, _ := s.Deletions(ctx); n != 2 {
		t.Fatalf("a failed delete counted: %d", n)
	}
	// The count is not an object of any kind that lists show.
	for _, kind := range []string{app.KindMessage, app.KindThread, app.KindFile} {
		if recs, _, _ := s.List(ctx, app.Query{Kind: kind}); len(recs) != 0 {
			t.Fatalf("%s list: %v", kind, ids(recs))
		}
	}
}

// TestMigrationFromAutoincrement opens a folder written by the first
// schema, whose seq had AUTOINCREMENT, and whose newest record was
// deleted: the records keep their seqs, and the deleted one's seq is not
// given again.
func TestMigrationFromAutoincrement(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	db, err := sql.Open("sqlite", filepath.Join(dir, "plotline.db"))
	if err != nil {
		t.Fatal(err)
	}
	first, err := migrations.ReadFile("migrations/0001_objects.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{string(first), "PRAGMA user_version = 1",
		`INSERT INTO objects (kind, id, parent, created_at, data) VALUES ('thread', 'thread_1', '', 1, x'7b7d')`,
		`INSERT INTO objects (kind, id, parent, created_at, data) VALUES ('thread.message', 'msg_1', 'thread_1', 2, x'7b7d')`,
		`INSERT INTO objects (kind, id, parent, created_at, data) VALUES ('thread.message', 'msg_2', 'thread_1', 3, x'7b7d')`,
		`DELETE FROM objects WHERE id = 'msg_2'`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m1, err := s.Get(ctx, app.KindMessage, "msg_1")
	if err != nil || m1.Seq != 2 || m1.Parent != "thread_1" || string(m1.Data) != "{}" {
		t.Fatalf("msg_1 after the migration: %+v %v", m1, err)
	}
	save(t, s, msg("msg_3", "thread_1", "", 4))
	m3, err := s.Get(ctx, app.KindMessage, "msg_3")
	if err != nil || m3.Seq <= 3 {
		t.Fatalf("msg_3 after the migration: seq %d %v, want more than 3 (msg_2's)", m3.Seq, err)
	}
	if n, err := s.Deletions(ctx); err != nil || n != 0 {
		t.Errorf("deletions after the migration: %d %v", n, err)
	}
	var auto int
	if err := s.db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'objects' AND sql LIKE '%AUTOINCREMENT%'`).Scan(&auto); err != nil || auto != 0 {
		t.Errorf("objects still has AUTOINCREMENT (%d, %v)", auto, err)
	}
	// The deletions that follow still keep seqs from being given again.
	if err := s.Delete(ctx, app.KindMessage, "msg_3"); err != nil {
		t.Fatal(err)
	}
	save(t, s, msg("msg_4", "thread_1", "", 5))
	if m4, err := s.Get(ctx, app.KindMessage, "msg_4"); err != nil || m4.Seq <= m3.Seq {
		t.Errorf("msg_4: seq %d %v, want more than %d", m4.Seq, err, m3.Seq)
	}
	if n, _ := s.Deletions(ctx); n != 1 {
		t.Errorf("deletions = %d, want 1", n)
	}
}
