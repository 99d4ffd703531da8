package interpreter

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"unicode/utf8"
)

// ErrBadName is returned for a file name that cannot live in /mnt/data.
var ErrBadName = errors.New("invalid file name")

// CheckName checks that name is a plain file name that stays inside the
// work folder: not empty, not . or .., no slash, backslash or NUL, valid
// UTF-8, at most 255 bytes.
func CheckName(name string) error {
	bad := func(why string) error { return fmt.Errorf("%w %q: %s", ErrBadName, name, why) }
	switch {
	case name == "":
		return bad("empty")
	case name == "." || name == "..":
		return bad("it would name a folder, not a file")
	case strings.ContainsRune(name, 0):
		return bad("it contains a NUL byte")
	case strings.ContainsAny(name, `/\`):
		return bad("it contains a path separator; only plain names can go in /mnt/data")
	case !utf8.ValidString(name):
		return bad("it is not valid UTF-8")
	case len(name) > 255:
		return bad("it is longer than 255 bytes")
	}
	return nil
}

// Dedupe returns the n-th alternative of name: "data.csv", "data (1).csv", …
func Dedupe(name string, n int) string {
	if n == 0 {
		return name
	}
	ext := path.Ext(name)
	base := strings.TrimSuffix(name, ext)
	if base == "" { // ".bashrc": the whole name is the base
		base, ext = name, ""
	}
	return fmt.Sprintf("%s (%d)%s", base, n, ext)
}

// addFile copies r into dir under name, or under "name (1).ext" and so on
// when the name is taken. It returns the name used.
func addFile(dir, name string, r io.Reader) (string, error) {
	if err := CheckName(name); err != nil {
		return "", err
	}
	for n := 0; n < 10000; n++ {
		cand := Dedupe(name, n)
		if len(cand) > 255 {
			return "", fmt.Errorf("%w %q: no free variant of the name", ErrBadName, name)
		}
		f, err := createInFolder(dir, cand)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("create %s: %w", cand, err)
		}
		_, err = io.Copy(f, r)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			removeInFolder(dir, cand)
			return "", fmt.Errorf("write %s: %w", cand, err)
		}
		return cand, nil
	}
	return "", fmt.Errorf("%w %q: too many files of that name", ErrBadName, name)
}

// changed lists the files in after that are new or differ from before.
func changed(before, after map[string]fileStamp) []string {
	var out []string
	for name, st := range after {
		if old, ok := before[name]; !ok || old != st {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}
