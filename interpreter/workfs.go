package interpreter

import (
	"io/fs"
	"os"
	"sort"
)

// Usage is what a work folder occupies.
type Usage struct {
	// Allocated is the bytes of the blocks allocated, each file once.
	Allocated int64
	// Apparent is the bytes the regular files hold as read, each name
	// once: what copying the folder out would write. A sparse file counts
	// here at its full size.
	Apparent int64
	// Entries counts files, folders and links.
	Entries int
	// Truncated is set when the folder could not be walked to its end:
	// more entries than a walk takes, or nested too deep.
	Truncated bool

	top map[string]bool // the names at the folder's top
}

// FileEntry is a regular file of a work folder.
type FileEntry struct {
	// Name is slash-separated, relative to the folder.
	Name string
	// Size is its apparent size in bytes.
	Size int64
}

// ListFiles lists the regular files beneath the work folder dir, sorted
// by name, walking it without following links and without path-length
// limits.
func ListFiles(dir string) []FileEntry {
	files, _ := scan(dir)
	out := make([]FileEntry, 0, len(files))
	for name, st := range files {
		out = append(out, FileEntry{Name: name, Size: st.size})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// OpenWorkFile opens the regular file rel (slash-separated, relative to
// the work folder dir) for reading, beneath dir, following no link, never
// blocking on a FIFO or device. Read from the file it returns: never
// open the same name again by path.
func OpenWorkFile(dir, rel string) (*os.File, error) {
	return openRegular(dir, rel)
}

// fileStamp identifies one version of a file.
type fileStamp struct {
	size  int64
	mtime int64
	ino   uint64
	mode  fs.FileMode
	alloc int64 // bytes allocated on disk
}
