package plotting

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// profileCase is a table whose profile, read chunk by chunk, must be the
// profile of the table read whole; streams says whether it can be made
// chunk by chunk at all.
type profileCase struct {
	name    string
	text    string
	streams bool
}

func profileCases() []profileCase {
	rng := rand.New(rand.NewPCG(11, 12))
	rows := func(header string, n int, row func(i int) string) string {
		var b strings.Builder
		b.WriteString(header + "\n")
		for i := range n {
			b.WriteString(row(i) + "\n")
		}
		return b.String()
	}
	return []profileCase{
		{"sales.csv", rows("date,category,value", 3000, func(i int) string {
			return fmt.Sprintf("2024-%02d-%02d,cat%02d,%.2f", 1+i%12, 1+i%28, rng.IntN(20), rng.Float64()*1000)
		}), true},
		// Ints in the first chunks, floats later, then ints again.
		{"ints-then-floats.csv", rows("x", 3000, func(i int) string {
			if i > 1000 && i < 2000 {
				return fmt.Sprintf("%.1f", float64(i)/10)
			}
			return fmt.Sprint(i % 700)
		}), true},
		// Decimals gain places as they go: the keys are scaled again.
		{"more-places.csv", rows("x", 3000, func(i int) string {
			return strconvDecimals(float64(i%500)+float64(i%7)/7, 1+i/1000)
		}), true},
		// Big decimals: past 2^50 at four places, but not at one; before
		// and after decimals at four places.
		{"big-decimals.csv", rows("x", 2100, func(i int) string {
			if i >= 700 && i < 1400 {
				return fmt.Sprintf("%d.5", 5e11+int64(i))
			}
			return fmt.Sprintf("0.%04d", i)
		}), true},
		{"big-then-fine.csv", rows("x", 2000, func(i int) string {
			if i < 1000 {
				return fmt.Sprintf("%d.5", 5e11+int64(i))
			}
			return fmt.Sprintf("0.%04d", i)
		}), true},
		// Floats, then ints past 2^50; and the other way round, which only
		// the whole column counts.
		{"floats-then-big-ints.csv", rows("x", 2000, func(i int) string {
			if i < 1000 {
				return fmt.Sprintf("%d.5", i)
			}
			return fmt.Sprint(1<<51 + i)
		}), true},
		{"big-ints-then-floats.csv", rows("x", 2000, func(i int) string {
			if i >= 1000 {
				return fmt.Sprintf("%d.5", i)
			}
			return fmt.Sprint(1<<51 + i)
		}), false},
		// Floats no scale writes, then decimals.
		{"thirds.csv", rows("x", 2000, func(i int) string {
			if i < 300 {
				return fmt.Sprint(float64(i) / 3)
			}
			return fmt.Sprintf("%.2f", float64(i%300)/4)
		}), true},
		// Ints spread past the bitmap's span, and many of them: counted,
		// then estimated.
		{"wide-ints.csv", rows("id,wide", 120_000, func(i int) string {
			return fmt.Sprintf("%d,%d", i*3, int64(i)*1_000_000_007)
		}), true},
		// Ints that climb past the bitmap's span chunk by chunk.
		{"climbing.csv", rows("x", 4000, func(i int) string { return fmt.Sprint(int64(i) * 40_000) }), true},
		{"negative.csv", rows("x,y", 3000, func(i int) string {
			return fmt.Sprintf("%d,%.3f", -i*17, -float64(i)/8)
		}), true},
		{"zeros.csv", rows("x", 100, func(i int) string { return []string{"0.0", "-0.0", "1e300", "-1e300", "0.25"}[i%5] }), true},
		{"dates-then-datetimes.csv", rows("when", 3000, func(i int) string {
			if i > 2000 {
				return fmt.Sprintf("2024-03-%02dT%02d:%02d:00Z", 1+i%28, i%24, i%60)
			}
			return fmt.Sprintf("2023-%02d-%02d", 1+i%12, 1+i%28)
		}), true},
		{"datetimes-then-dates.csv", rows("when", 3000, func(i int) string {
			if i < 1000 {
				return fmt.Sprintf("2024-03-%02d %02d:%02d", 1+i%28, i%24, i%60)
			}
			return fmt.Sprintf("2023-%02d-%02d", 1+i%12, 1+i%28)
		}), true},
		// A first chunk with nothing in a column, a column never filled,
		// missing markers, short and long rows.
		{"missing.csv", rows("a,b,c,d", 3000, func(i int) string {
			switch {
			case i < 900:
				return fmt.Sprintf(",%d,,yes", i)
			case i%97 == 0:
				return "NA"
			case i%89 == 0:
				return fmt.Sprintf("%d,1,,no,extra", i)
			}
			return fmt.Sprintf("%d,%s,,%s", i, []string{"NA", "3", ""}[i%3], []string{"yes", "no", ""}[i%3])
		}), true},
		{"ids.csv", rows("id,flag", 5000, func(i int) string { return fmt.Sprintf("user-%05d,%v", i*7%5000, i%3 == 0) }), true},
		{"comma.csv", strings.ReplaceAll(rows("a;b", 2000, func(i int) string { return fmt.Sprintf("%d,%02d;%d", i, i%100, i) }), "", ""), true},
		// Text among numbers, and ambiguous dates: only the whole column
		// settles them.
		{"late-text.csv", rows("x", 3000, func(i int) string {
			if i == 2500 {
				return "n/k"
			}
			return fmt.Sprint(i)
		}), false},
		{"slash-dates.csv", rows("when", 3000, func(i int) string {
			return fmt.Sprintf("%02d/%02d/2024", 1+i%12, 1+i%12)
		}) + "31/01/2024\n", false},
		{"header-only.csv", "a,b\n", true},
	}
}

func strconvDecimals(v float64, places int) string { return fmt.Sprintf("%.*f", places, v) }

// Profiling a file chunk by chunk gives the profile of the table read
// whole, at any chunk size: the same types, counts, ranges and top values,
// the same distinct counts (exact or estimated), and means equal but for
// the last digits.
func TestProfileFileIsTheWholeTablesProfile(t *testing.T) {
	for _, tc := range profileCases() {
		p := filepath.Join(t.TempDir(), tc.name)
		if err := os.WriteFile(p, []byte(tc.text), 0o600); err != nil {
			t.Fatal(err)
		}
		fr, err := ReadFile(p, ReadOptions{})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		whole := ProfileFrame(fr)
		for _, size := range []int{64, 1 << 10, 4 << 10, 256 << 10} {
			withBlocks(size, 3, func() {
				got, warnings, err := ProfileFile(p, ReadOptions{})
				if err != nil {
					t.Fatalf("%s in %d-byte blocks: %v", tc.name, size, err)
				}
				if diff := profileDiff(got, whole); diff != "" {
					t.Errorf("%s in %d-byte blocks: %s", tc.name, size, diff)
				}
				if !reflect.DeepEqual(warnings, fr.Warnings) {
					t.Errorf("%s in %d-byte blocks: warnings %q, whole %q", tc.name, size, warnings, fr.Warnings)
				}
				_, _, err = streamProfile(p, ReadOptions{})
				if streamed := err == nil; streamed != tc.streams && size < 256<<10 {
					t.Errorf("%s in %d-byte blocks: streamed %v (%v), want %v", tc.name, size, streamed, err, tc.streams)
				}
			})
		}
	}
}

// profileDiff says how two profiles differ, means compared to 12 digits.
func profileDiff(a, b *Profile) string {
	if len(a.Columns) != len(b.Columns) {
		return fmt.Sprintf("%d columns, and %d", len(a.Columns), len(b.Columns))
	}
	for i := range a.Columns {
		ca, cb := a.Columns[i], b.Columns[i]
		ma, mb := ca.Mean, cb.Mean
		if (ma == nil) != (mb == nil) || ma != nil && math.Abs(*ma-*mb) > 1e-12*math.Max(1, math.Abs(*mb)) {
			return fmt.Sprintf("column %s: mean %v, and %v", ca.Name, deref(ma), deref(mb))
		}
		ca.Mean, cb.Mean = nil, nil
		if !reflect.DeepEqual(ca, cb) {
			return fmt.Sprintf("column %d:\n %+v\nand\n %+v", i, ca, cb)
		}
	}
	a2, b2 := *a, *b
	a2.Columns, b2.Columns = nil, nil
	if !reflect.DeepEqual(a2, b2) {
		return fmt.Sprintf("%+v, and %+v", a2, b2)
	}
	return ""
}

func deref(v *float64) any {
	if v == nil {
		return nil
	}
	return *v
}

// A workbook, a missing file and a file of another kind are profiled, or
// refused, as ReadFile reads or refuses them.
func TestProfileFileOtherFiles(t *testing.T) {
	book := salesBook(t)
	fr, err := ReadFile(book, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := ProfileFile(book, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if diff := profileDiff(got, ProfileFrame(fr)); diff != "" {
		t.Fatal(diff)
	}
	dir := t.TempDir()
	for name, content := range map[string]string{"missing.csv": "", "notes.pdf": "%PDF", "old.xls": "x", "empty.csv": ""} {
		p := filepath.Join(dir, name)
		if name != "missing.csv" {
			if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		_, want := ReadFile(p, ReadOptions{})
		_, _, err := ProfileFile(p, ReadOptions{})
		if err == nil || want == nil || err.Error() != want.Error() {
			t.Errorf("%s: %v, ReadFile says %v", name, err, want)
		}
	}
	if _, _, err := ProfileFile(filepath.Join(dir, "empty.csv"), ReadOptions{}); !errors.Is(err, ErrEmpty) {
		t.Errorf("empty: %v", err)
	}
}

// The profile of 1M rows streamed holds only the chunks in flight.
func TestProfileFileBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 25 MB")
	}
	p := filepath.Join(t.TempDir(), "big.csv")
	var b bytes.Buffer
	if err := WriteSampleCSV(&b, 1_000_000, 1); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	var prof *Profile
	peak := peakHeap(func() {
		var err error
		if prof, _, err = streamProfile(p, ReadOptions{}); err != nil {
			t.Error(err)
		}
	})
	if prof == nil || prof.Rows != 1_000_000 {
		t.Fatalf("profile %+v", prof)
	}
	// The table whole takes 16 MB (8 bytes a float, 4 a date, 4 a code).
	if peak > 12 {
		t.Errorf("streaming the profile held %.1f MB", peak)
	}
}
