package export

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// folder writes the files a Markdown export shows into one folder, each
// once, under a name no other file of the export has. It opens the folder
// as an os.Root, so that no name, however it was made, can write outside.
type folder struct {
	files  Files
	dir    string
	root   *os.Root // opened on the first write
	prefix string   // link destination of dir from the Markdown file's folder, ending in "/" (or empty)
	saved  map[string]savedFile
	taken  map[string]bool // lower-cased: case-insensitive file systems would merge "A.png" and "a.png"
}

// savedFile is the outcome of exporting one stored file.
type savedFile struct {
	name string // the file's name in the folder
	link string // Markdown link destination
	ok   bool   // false: Files could not give the file
}

func newFolder(files Files, mdDir, imageDir string) (*folder, error) {
	prefix, err := linkPrefix(mdDir, imageDir)
	if err != nil {
		return nil, err
	}
	return &folder{files: files, dir: imageDir, prefix: prefix, saved: map[string]savedFile{}, taken: map[string]bool{}}, nil
}

// linkPrefix is how a link from a file in mdDir reaches imageDir.
func linkPrefix(mdDir, imageDir string) (string, error) {
	md, err := filepath.Abs(mdDir)
	if err != nil {
		return "", fmt.Errorf("markdown folder %q: %w", mdDir, err)
	}
	img, err := filepath.Abs(imageDir)
	if err != nil {
		return "", fmt.Errorf("image folder %q: %w", imageDir, err)
	}
	rel, err := filepath.Rel(md, img)
	if err != nil {
		// No relative path (another Windows volume): link absolutely.
		p := filepath.ToSlash(img)
		if !strings.HasPrefix(p, "/") {
			p = "/" + p
		}
		return (&url.URL{Scheme: "file", Path: p}).String() + "/", nil
	}
	rel = filepath.ToSlash(rel)
	if rel == "." {
		return "", nil
	}
	return linkPath(rel) + "/", nil
}

func (f *folder) close() error {
	if f.root == nil {
		return nil
	}
	return f.root.Close()
}

// save writes the stored file fileID into the folder, once however often
// the thread shows it. A file Files cannot give, or that fails while being
// read, is reported as not ok; only a failure to write is an error.
func (f *folder) save(fileID string, image bool) (savedFile, error) {
	if s, ok := f.saved[fileID]; ok {
		return s, nil
	}
	s, err := f.write(fileID, image)
	if err != nil {
		return savedFile{}, err
	}
	f.saved[fileID] = s
	return s, nil
}

func (f *folder) write(fileID string, image bool) (savedFile, error) {
	filename, rc, err := open(f.files, fileID)
	if err != nil {
		return savedFile{}, nil
	}
	defer rc.Close()
	r := bufio.NewReader(rc)
	name := safeName(filename, fileID)
	if image && !imageExts[strings.ToLower(path.Ext(name))] {
		head, _ := r.Peek(512)
		name += imageExt(head)
	}
	if f.root == nil {
		if err := os.MkdirAll(f.dir, 0o755); err != nil {
			return savedFile{}, fmt.Errorf("create image folder: %w", err)
		}
		if f.root, err = os.OpenRoot(f.dir); err != nil {
			return savedFile{}, fmt.Errorf("open image folder: %w", err)
		}
	}
	name = f.unique(name)
	out, err := f.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return savedFile{}, fmt.Errorf("write %s: %w", name, err)
	}
	src := &readSide{r: r}
	_, err = io.Copy(out, src)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if src.err != nil {
		// The stored file broke off: say so in the text, leave no half file.
		_ = f.root.Remove(name)
		return savedFile{}, nil
	}
	if err != nil {
		return savedFile{}, fmt.Errorf("write %s: %w", name, err)
	}
	return savedFile{name: name, link: f.prefix + linkPath(name), ok: true}, nil
}

// open calls files, making sure a failed call leaves no reader open and a
// successful one gives a reader.
func open(files Files, fileID string) (string, io.ReadCloser, error) {
	if files == nil {
		return "", nil, errors.New("no files")
	}
	name, rc, err := files(fileID)
	if err != nil {
		if rc != nil {
			rc.Close()
		}
		return "", nil, err
	}
	if rc == nil {
		return "", nil, errors.New("no reader")
	}
	return name, rc, nil
}

// unique gives name, or name-2, name-3 … when another file of this export
// has it already.
func (f *folder) unique(name string) string {
	ext := path.Ext(name)
	base := strings.TrimSuffix(name, ext)
	if base == "" {
		base, ext = name, ""
	}
	cand := name
	for i := 2; f.taken[strings.ToLower(cand)]; i++ {
		cand = fmt.Sprintf("%s-%d%s", base, i, ext)
	}
	f.taken[strings.ToLower(cand)] = true
	return cand
}

// readSide remembers a read error, to tell it from a write error after
// io.Copy.
type readSide struct {
	r   io.Reader
	err error
}

func (s *readSide) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		s.err = err
	}
	return n, err
}

// imageExts are the extensions Markdown viewers show images by.
var imageExts = map[string]bool{".png": true, ".jpg": true, ".jpeg": true, ".gif": true, ".webp": true, ".bmp": true, ".svg": true}

// imageExt is the extension of an image of these first bytes; matplotlib
// writes PNG.
func imageExt(head []byte) string {
	switch http.DetectContentType(head) {
	case "image/jpeg":
		return ".jpg"
	case "image/gif":
		return ".gif"
	case "image/webp":
		return ".webp"
	}
	return ".png"
}

// imageMIME is the MIME type under which a notebook embeds an image, and
// whether its data is text (SVG) rather than base64.
func imageMIME(name string, data []byte) (string, bool) {
	switch t := http.DetectContentType(data); t {
	case "image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp":
		return t, false
	}
	if strings.EqualFold(path.Ext(name), ".svg") {
		return "image/svg+xml", true
	}
	return "image/png", false
}
