package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"

	"plotline/app"
	"plotline/plotting"
)

// workspace is a thread's side of its interpreter session: which stored
// files are in /mnt/data under which names, and which stored files hold
// what the code wrote.
type workspace struct {
	e        *Engine
	threadID string
	inputs   map[string]string // file id → name in /mnt/data
	outputs  map[string]string // name in /mnt/data → file id of its latest stored version
	notes    []string          // what the model should know about the inputs
	told     app.Session       // the session the model was last told of
}

// attachedName is the name in /mnt/data of an attached file.
func (w *workspace) attachedName(fileID string) (string, bool) {
	n, ok := w.inputs[fileID]
	return n, ok
}

// freshKernel reports whether the thread's session is one the model has
// not been told of yet, and marks it told.
func (w *workspace) freshKernel() bool {
	w.e.mu.Lock()
	cur := w.e.sessions[w.threadID]
	w.e.mu.Unlock()
	if cur == nil || cur == w.told {
		return false
	}
	w.told = cur
	return true
}

func (e *Engine) workspaceFor(ctx context.Context, threadID string) (*workspace, error) {
	if _, err := e.session(ctx, threadID, false); err != nil {
		return nil, fmt.Errorf("the Python sandbox could not start: %v", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.spaces == nil {
		e.spaces = map[string]*workspace{}
	}
	w := e.spaces[threadID]
	if w == nil {
		w = &workspace{e: e, threadID: threadID, inputs: map[string]string{}, outputs: map[string]string{}}
		e.spaces[threadID] = w
	}
	return w, nil
}

// materialize puts the files ids name into /mnt/data under their own
// names, unless they are there already.
func (w *workspace) materialize(ctx context.Context, ids []string) error {
	sess, err := w.e.session(ctx, w.threadID, false)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if name, ok := w.inputs[id]; ok && exists(sess, name) {
			continue
		}
		rec, err := w.e.cfg.Store.Get(ctx, app.KindFile, id)
		if err != nil {
			continue // deleted since it was attached: nothing to give
		}
		f, err := load[app.File](ctx, w.e.cfg.Store, app.KindFile, id)
		if err != nil {
			return err
		}
		name := path.Base(f.Filename)
		if w.e.cfg.Interpreter.CheckName(name) != nil {
			name = id
		}
		// After a restart the workspace no longer knows which variant of
		// its name ("c (1).csv") a file got: find the copy already there
		// rather than add another at each restart.
		if used, ok := findCopy(sess, name, rec.Blob, f.Bytes); ok {
			w.inputs[id] = used
			continue
		}
		rc, err := w.e.cfg.Store.OpenBlob(rec.Blob)
		if err != nil {
			return fmt.Errorf("file %s: %w", id, err)
		}
		used, err := sess.AddFile(name, rc)
		rc.Close()
		if err != nil {
			return fmt.Errorf("put %s in /mnt/data: %w", name, err)
		}
		w.inputs[id] = used
		w.unpack(sess, used)
	}
	return nil
}

// unpack unpacks an archive next to itself, into a folder named after it,
// so the code finds its files at once. An archive that is unsafe (links,
// paths that climb out, a zip bomb) stays packed, and the model is told.
func (w *workspace) unpack(sess app.Session, name string) {
	dest, err := sess.Unpack(name)
	switch {
	case errors.Is(err, app.ErrNotArchive):
	case err != nil:
		w.notes = append(w.notes, fmt.Sprintf("/mnt/data/%s was not unpacked: %v", name, err))
	default:
		w.notes = append(w.notes, fmt.Sprintf("/mnt/data/%s was unpacked into /mnt/data/%s/", name, dest))
	}
}

// exists reports whether the work folder has the regular file name.
func exists(sess app.Session, name string) bool {
	f, err := sess.OpenFile(name)
	if err == nil {
		f.Close()
	}
	return err == nil
}

// findCopy returns the first of name, "name (1).ext", … (the names
// Session.AddFile gives copies) that holds the bytes of hash, looking up
// to the first variant that does not exist.
func findCopy(sess app.Session, name, hash string, size int64) (string, bool) {
	for n := 0; n < 10000; n++ {
		cand := name
		if n > 0 {
			ext := path.Ext(name)
			base := strings.TrimSuffix(name, ext)
			if base == "" { // ".bashrc": the whole name is the base
				base, ext = name, ""
			}
			cand = fmt.Sprintf("%s (%d)%s", base, n, ext)
		}
		f, err := sess.OpenFile(cand)
		if err != nil {
			return "", false
		}
		same := sameContent(f, hash, size)
		f.Close()
		if same {
			return cand, true
		}
	}
	return "", false
}

// sameContent reports whether f holds the bytes of hash.
func sameContent(f *os.File, hash string, size int64) bool {
	if fi, err := f.Stat(); err != nil || fi.Size() != size {
		return false
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.LimitReader(f, size)); err != nil {
		return false
	}
	return hex.EncodeToString(h.Sum(nil)) == hash
}

// exec runs a cell, starting a new session when the last one ended (it
// reached its lifetime), and says so in note.
func (w *workspace) exec(ctx context.Context, code string, onOutput func([]byte)) (res *app.CellResult, note string, err error) {
	sess, err := w.e.session(ctx, w.threadID, false)
	if err != nil {
		return nil, "", err
	}
	res, err = sess.Exec(ctx, code, onOutput)
	if errors.Is(err, app.ErrSessionEnded) {
		if sess, err = w.e.session(ctx, w.threadID, true); err != nil {
			return nil, "", err
		}
		ids := make([]string, 0, len(w.inputs))
		for id := range w.inputs {
			ids = append(ids, id)
		}
		if err := w.materialize(ctx, ids); err != nil {
			return nil, "", err
		}
		note = "The previous Python session had expired, so this code ran in a new one: variables and imports were reset; the files in /mnt/data are kept.\n"
		w.told = sess
		res, err = sess.Exec(ctx, code, onOutput)
	}
	return res, note, err
}

// keepOutputs stores the files a cell wrote and its images as File objects
// (purpose assistants_output). It returns the images' file ids, and
// notes for the model on files it could not keep.
func (w *workspace) keepOutputs(ctx context.Context, res *app.CellResult, stepID string) (images []string, notes []string) {
	sess, err := w.e.session(ctx, w.threadID, false)
	if err != nil {
		return nil, []string{err.Error()}
	}
	for _, rel := range res.Files {
		f, err := sess.OpenFile(rel)
		if err != nil {
			continue // gone again, or not a regular file
		}
		stored, err := w.e.storeFile(ctx, "/mnt/data/"+rel, app.PurposeAssistantsOutput, f)
		f.Close()
		if err != nil {
			notes = append(notes, fmt.Sprintf("/mnt/data/%s was not kept for the user: %v", rel, err))
			continue
		}
		w.outputs[rel] = stored.ID
	}
	for i, png := range res.Images {
		name := fmt.Sprintf("%s-image-%d.png", strings.TrimPrefix(stepID, "step_"), i+1)
		stored, err := w.e.storeFile(ctx, name, app.PurposeAssistantsOutput, strings.NewReader(string(png)))
		if err != nil {
			notes = append(notes, fmt.Sprintf("an image was not kept: %v", err))
			continue
		}
		images = append(images, stored.ID)
	}
	return images, notes
}

// outputFile returns the stored file for /mnt/data/rel, storing the file
// now if the code wrote it before this workspace knew of it.
func (w *workspace) outputFile(ctx context.Context, rel string) (string, bool) {
	if id, ok := w.outputs[rel]; ok {
		return id, true
	}
	for id, name := range w.inputs {
		if name == rel {
			return id, true
		}
	}
	sess, err := w.e.session(ctx, w.threadID, false)
	if err != nil {
		return "", false
	}
	f, err := sess.OpenFile(rel)
	if err != nil {
		return "", false
	}
	defer f.Close()
	stored, err := w.e.storeFile(ctx, "/mnt/data/"+rel, app.PurposeAssistantsOutput, f)
	if err != nil {
		return "", false
	}
	w.outputs[rel] = stored.ID
	return stored.ID, true
}

// describeFiles tells the model what /mnt/data holds: names, sizes and
// types, and for tables their columns and first rows, so that its first
// code is right. The folder is the sandboxed code's: it is read through
// the interpreter's work-folder helper, every preview from the descriptor
// that was checked, and each preview is bounded.
func (w *workspace) describeFiles() string {
	if w == nil {
		return ""
	}
	sess, err := w.e.session(context.Background(), w.threadID, false)
	if err != nil {
		return ""
	}
	files := sess.Files()
	if len(files) == 0 {
		return "/mnt/data is empty."
	}
	var b strings.Builder
	for _, n := range w.notes {
		b.WriteString(n + "\n")
	}
	w.notes = nil
	b.WriteString("Files in /mnt/data:\n")
	for i, fe := range files {
		if i == 50 {
			fmt.Fprintf(&b, "… and %d more files.\n", len(files)-i)
			break
		}
		fmt.Fprintf(&b, "- /mnt/data/%s (%s, %s)\n", fe.Name, plotting.FormatSize(fe.Size), plotting.KindOf(fe.Name))
		if i < 10 {
			if pv := previewWorkFile(sess, fe.Name); pv != "" {
				b.WriteString(indent(pv, "    "))
			}
		}
	}
	return b.String()
}

// previewWorkFile previews the table rel of the work folder, or says why
// it did not.
func previewWorkFile(sess app.Session, rel string) string {
	f, err := sess.OpenFile(rel)
	if err != nil {
		return ""
	}
	defer f.Close()
	pv, err := plotting.PreviewOpen(f, rel, 5)
	var skipped *plotting.SkippedError
	if errors.As(err, &skipped) {
		return skipped.Error() + "\n"
	}
	if err != nil {
		return ""
	}
	return pv
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = prefix + lines[i]
	}
	return strings.Join(lines, "\n") + "\n"
}
