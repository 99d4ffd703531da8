package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"plotline/app"
)

// --- assistants ---

// CreateAssistant creates an assistant.
func (e *Engine) CreateAssistant(ctx context.Context, p app.AssistantParams) (*app.Assistant, error) {
	a := &app.Assistant{ID: newID("asst_"), Object: app.KindAssistant, CreatedAt: e.now(),
		Tools: []app.Tool{}, Metadata: app.Metadata{}, ResponseFormat: json.RawMessage(`"auto"`),
		ToolResources: app.ToolResources{}}
	if p.Model == nil || strings.TrimSpace(*p.Model) == "" {
		if e.cfg.DefaultModel == "" {
			return nil, invalid("model", "Missing required parameter: 'model'.")
		}
		p.Model = &e.cfg.DefaultModel
	}
	if err := e.applyAssistant(ctx, a, p); err != nil {
		return nil, err
	}
	if err := e.cfg.Store.Save(ctx, assistantRecord(a)); err != nil {
		return nil, err
	}
	return a, nil
}

func (e *Engine) applyAssistant(ctx context.Context, a *app.Assistant, p app.AssistantParams) error {
	if p.Tools != nil {
		if err := e.checkTools("tools", *p.Tools); err != nil {
			return err
		}
	}
	if err := checkMetadata(p.Metadata); err != nil {
		return err
	}
	if err := checkSampling(p.Temperature, p.TopP); err != nil {
		return err
	}
	if err := checkResponseFormat(p.ResponseFormat); err != nil {
		return err
	}
	if p.Name != nil && len(*p.Name) > 256 {
		return invalid("name", "name is longer than 256 characters")
	}
	if p.Instructions != nil && len(*p.Instructions) > 256000 {
		return invalid("instructions", "instructions are longer than 256,000 characters")
	}
	if len(p.FileIDs) > 0 { // v1 shape
		p.ToolResources = &app.ToolResources{CodeInterpreter: &app.CodeInterpreterResources{FileIDs: p.FileIDs}}
	}
	if p.ToolResources != nil {
		if err := e.checkResources(ctx, p.ToolResources); err != nil {
			return err
		}
		a.ToolResources = *p.ToolResources
	}
	if p.Model != nil {
		if strings.TrimSpace(*p.Model) == "" {
			return invalid("model", "model must not be empty")
		}
		a.Model = *p.Model
	}
	set := func(dst **string, v *string) {
		if v != nil {
			*dst = ptr(*v)
		}
	}
	set(&a.Name, p.Name)
	set(&a.Description, p.Description)
	set(&a.Instructions, p.Instructions)
	if p.Tools != nil {
		a.Tools = append([]app.Tool{}, *p.Tools...)
	}
	if p.Metadata != nil {
		a.Metadata = *p.Metadata
	}
	if p.Temperature != nil {
		a.Temperature = p.Temperature
	}
	if p.TopP != nil {
		a.TopP = p.TopP
	}
	if len(p.ResponseFormat) > 0 && string(p.ResponseFormat) != "null" {
		a.ResponseFormat = p.ResponseFormat
	}
	return nil
}

func (e *Engine) checkResources(ctx context.Context, r *app.ToolResources) error {
	if r.CodeInterpreter == nil {
		return nil
	}
	if len(r.CodeInterpreter.FileIDs) > 20 {
		return invalid("tool_resources.code_interpreter.file_ids", "at most 20 files can be given to code_interpreter")
	}
	if r.CodeInterpreter.FileIDs == nil {
		r.CodeInterpreter.FileIDs = []string{}
	}
	for _, id := range r.CodeInterpreter.FileIDs {
		if _, err := e.GetFile(ctx, id); err != nil {
			return invalid("tool_resources.code_interpreter.file_ids", "No file found with id '%s'.", id)
		}
	}
	return nil
}

// GetAssistant returns an assistant.
func (e *Engine) GetAssistant(ctx context.Context, id string) (*app.Assistant, error) {
	return load[app.Assistant](ctx, e.cfg.Store, app.KindAssistant, id)
}

// UpdateAssistant modifies an assistant.
func (e *Engine) UpdateAssistant(ctx context.Context, id string, p app.AssistantParams) (*app.Assistant, error) {
	a, err := e.GetAssistant(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := e.applyAssistant(ctx, a, p); err != nil {
		return nil, err
	}
	return a, e.cfg.Store.Save(ctx, assistantRecord(a))
}

// DeleteAssistant deletes an assistant.
func (e *Engine) DeleteAssistant(ctx context.Context, id string) error {
	return e.cfg.Store.Delete(ctx, app.KindAssistant, id)
}

// ListAssistants lists assistants.
func (e *Engine) ListAssistants(ctx context.Context, o app.ListOptions) (*app.List[app.Assistant], error) {
	return listPage[app.Assistant](ctx, e.cfg.Store, app.Query{Kind: app.KindAssistant, ListOptions: o}, 100)
}

// --- threads ---

// CreateThread creates a thread with its first messages.
func (e *Engine) CreateThread(ctx context.Context, p app.ThreadParams) (*app.Thread, error) {
	t, recs, err := e.newThread(ctx, p)
	if err != nil {
		return nil, err
	}
	if err := e.cfg.Store.Save(ctx, recs...); err != nil {
		return nil, err
	}
	e.Bus.Publish(app.Event{Name: "thread.created", ThreadID: t.ID, Data: clone(t)})
	return t, nil
}

func (e *Engine) newThread(ctx context.Context, p app.ThreadParams) (*app.Thread, []app.Record, error) {
	t := &app.Thread{ID: newID("thread_"), Object: app.KindThread, CreatedAt: e.now(), Metadata: app.Metadata{}, ToolResources: app.ToolResources{}}
	if err := checkMetadata(p.Metadata); err != nil {
		return nil, nil, err
	}
	if p.Metadata != nil {
		t.Metadata = *p.Metadata
	}
	if p.ToolResources != nil {
		if err := e.checkResources(ctx, p.ToolResources); err != nil {
			return nil, nil, err
		}
		t.ToolResources = *p.ToolResources
	}
	recs := []app.Record{threadRecord(t)}
	for i, mp := range p.Messages {
		m, err := e.newMessage(ctx, t.ID, mp)
		if err != nil {
			var ie *app.InputError
			if errors.As(err, &ie) {
				ie.Param = fmt.Sprintf("messages[%d].%s", i, ie.Param)
			}
			return nil, nil, err
		}
		recs = append(recs, messageRecord(m))
	}
	return t, recs, nil
}

// GetThread returns a thread.
func (e *Engine) GetThread(ctx context.Context, id string) (*app.Thread, error) {
	return load[app.Thread](ctx, e.cfg.Store, app.KindThread, id)
}

// UpdateThread modifies a thread's metadata and tool resources.
func (e *Engine) UpdateThread(ctx context.Context, id string, p app.ThreadParams) (*app.Thread, error) {
	t, err := e.GetThread(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := checkMetadata(p.Metadata); err != nil {
		return nil, err
	}
	if p.Metadata != nil {
		t.Metadata = *p.Metadata
	}
	if p.ToolResources != nil {
		if err := e.checkResources(ctx, p.ToolResources); err != nil {
			return nil, err
		}
		t.ToolResources = *p.ToolResources
	}
	return t, e.cfg.Store.Save(ctx, threadRecord(t))
}

// DeleteThread deletes a thread with its messages, runs and steps, after
// cancelling an active run, and removes its work folder.
func (e *Engine) DeleteThread(ctx context.Context, id string) error {
	if _, err := e.GetThread(ctx, id); err != nil {
		return err
	}
	e.mu.Lock()
	ar := e.active[id]
	e.mu.Unlock()
	if ar != nil {
		ar.stop(stopCancel)
		<-ar.done
	}
	if err := e.cfg.Store.Delete(ctx, app.KindThread, id); err != nil {
		return err
	}
	e.endSession(id)
	return nil
}

// ListThreads lists threads (the API has no such call; the window does).
func (e *Engine) ListThreads(ctx context.Context, o app.ListOptions) (*app.List[app.Thread], error) {
	return listPage[app.Thread](ctx, e.cfg.Store, app.Query{Kind: app.KindThread, ListOptions: o}, 100)
}

// --- messages ---

func (e *Engine) newMessage(ctx context.Context, threadID string, p app.MessageParams) (*app.Message, error) {
	if p.Role != "user" && p.Role != "assistant" {
		return nil, invalid("role", "Invalid value: '%s'. Supported values are: 'user' and 'assistant'.", p.Role)
	}
	content, err := parseContent(p.Content)
	if err != nil {
		return nil, err
	}
	if err := checkMetadata(p.Metadata); err != nil {
		return nil, err
	}
	atts := append([]app.Attachment{}, p.Attachments...)
	for _, id := range p.FileIDs { // v1 shape
		atts = append(atts, app.Attachment{FileID: id, Tools: []app.Tool{{Type: app.ToolCodeInterpreter}}})
	}
	if len(atts) > 10 {
		return nil, invalid("attachments", "a message can have at most 10 attachments")
	}
	for i, a := range atts {
		if _, err := e.GetFile(ctx, a.FileID); err != nil {
			return nil, invalid(fmt.Sprintf("attachments[%d].file_id", i), "No file found with id '%s'.", a.FileID)
		}
		if atts[i].Tools == nil {
			atts[i].Tools = []app.Tool{}
		}
	}
	for i, c := range content {
		if c.ImageFile != nil {
			if _, err := e.GetFile(ctx, c.ImageFile.FileID); err != nil {
				return nil, invalid(fmt.Sprintf("content[%d].image_file.file_id", i), "No file found with id '%s'.", c.ImageFile.FileID)
			}
		}
	}
	now := e.now()
	m := &app.Message{ID: newID("msg_"), Object: app.KindMessage, CreatedAt: now, ThreadID: threadID,
		Status: app.MessageCompleted, CompletedAt: &now, Role: p.Role, Content: content,
		Attachments: atts, Metadata: app.Metadata{}}
	if p.Metadata != nil {
		m.Metadata = *p.Metadata
	}
	return m, nil
}

// CreateMessage adds a message to a thread. It fails with ErrThreadLocked
// while a run on the thread is active.
func (e *Engine) CreateMessage(ctx context.Context, threadID string, p app.MessageParams) (*app.Message, error) {
	m, _, err := e.CreateMessageJSON(ctx, threadID, p)
	return m, err
}

// CreateMessageJSON is CreateMessage that also returns the message's JSON
// as stored, for the API to send on without encoding it again.
func (e *Engine) CreateMessageJSON(ctx context.Context, threadID string, p app.MessageParams) (*app.Message, json.RawMessage, error) {
	if threadID == "" {
		return nil, nil, &app.NotFoundError{Kind: app.KindThread}
	}
	m, err := e.newMessage(ctx, threadID, p)
	if err != nil {
		// As the hosted API: a missing thread is told before a bad field.
		if terr := e.threadExists(ctx, threadID); terr != nil {
			return nil, nil, terr
		}
		return nil, nil, err
	}
	// The store checks that the thread exists as it saves the message.
	rec := messageRecord(m)
	rec.InThread = true
	if err := e.lockedSave(threadID, true, func() error { return e.cfg.Store.Save(ctx, rec) }); err != nil {
		return nil, nil, err
	}
	// m is not changed after this: the event may carry it as it is.
	e.Bus.Publish(app.Event{Name: "thread.message.created", ThreadID: threadID, Data: m})
	return m, rec.Data, nil
}

// threadExists checks that a thread is stored, without decoding it.
func (e *Engine) threadExists(ctx context.Context, id string) error {
	if id == "" {
		return &app.NotFoundError{Kind: app.KindThread}
	}
	_, err := e.cfg.Store.Get(ctx, app.KindThread, id)
	return err
}

// lockedSave runs save unless the thread has an active run. The save runs
// outside the engine's lock, so that saves of many threads go to the store
// together; a run starting on the thread meanwhile waits for it, so that
// the run sees what was saved.
func (e *Engine) lockedSave(threadID string, adding bool, save func() error) error {
	e.mu.Lock()
	if ar := e.active[threadID]; ar != nil {
		e.mu.Unlock()
		return &app.LockedError{ThreadID: threadID, RunID: ar.runID, Adding: adding}
	}
	e.saving[threadID]++
	e.mu.Unlock()
	err := save()
	e.mu.Lock()
	if e.saving[threadID]--; e.saving[threadID] == 0 {
		delete(e.saving, threadID)
	}
	e.saved.Broadcast()
	e.mu.Unlock()
	return err
}

// GetMessage returns a message of a thread.
func (e *Engine) GetMessage(ctx context.Context, threadID, id string) (*app.Message, error) {
	m, err := load[app.Message](ctx, e.cfg.Store, app.KindMessage, id)
	if err == nil && m.ThreadID != threadID {
		return nil, &app.NotFoundError{Kind: app.KindMessage, ID: id}
	}
	return m, err
}

// UpdateMessage changes a message's metadata.
func (e *Engine) UpdateMessage(ctx context.Context, threadID, id string, md *app.Metadata) (*app.Message, error) {
	m, err := e.GetMessage(ctx, threadID, id)
	if err != nil {
		return nil, err
	}
	if err := checkMetadata(md); err != nil {
		return nil, err
	}
	if md != nil {
		m.Metadata = *md
	}
	defer e.forgetTranscript(threadID)
	return m, e.cfg.Store.Save(ctx, messageRecord(m))
}

// DeleteMessage deletes a message.
func (e *Engine) DeleteMessage(ctx context.Context, threadID, id string) error {
	if _, err := e.GetMessage(ctx, threadID, id); err != nil {
		return err
	}
	defer e.forgetTranscript(threadID)
	return e.lockedSave(threadID, false, func() error { return e.cfg.Store.Delete(ctx, app.KindMessage, id) })
}

// ListMessages lists a thread's messages, optionally those of one run.
func (e *Engine) ListMessages(ctx context.Context, threadID, runID string, o app.ListOptions) (*app.List[app.Message], error) {
	return listOfThread[app.Message](ctx, e, threadID, app.Query{Kind: app.KindMessage, Parent: threadID, Tag: runID, ListOptions: o})
}

// listOfThread lists a page of a thread's messages. Messages are deleted
// with their thread and saved only while it is stored, so a page that has
// one proves the thread exists: only an empty page looks the thread up.
func listOfThread[T any](ctx context.Context, e *Engine, threadID string, q app.Query) (*app.List[T], error) {
	l, err := listPage[T](ctx, e.cfg.Store, q, 100)
	if err != nil || len(l.Data) == 0 {
		if terr := e.threadExists(ctx, threadID); terr != nil {
			return nil, terr
		}
	}
	return l, err
}

// ListMessagesJSON is ListMessages with each message as the store holds
// its JSON, for the API to send on as it is.
func (e *Engine) ListMessagesJSON(ctx context.Context, threadID, runID string, o app.ListOptions) (*app.List[json.RawMessage], error) {
	return listOfThread[json.RawMessage](ctx, e, threadID, app.Query{Kind: app.KindMessage, Parent: threadID, Tag: runID, ListOptions: o})
}

// --- files ---

// UploadPurposes are the purposes a client may upload with.
var UploadPurposes = map[string]bool{app.PurposeAssistants: true, "vision": true, "user_data": true, "batch": true, "fine-tune": true, "evals": true}

// CreateFile stores an uploaded file, streaming it to disk.
func (e *Engine) CreateFile(ctx context.Context, filename, purpose string, r io.Reader) (*app.File, error) {
	return e.storeFile(ctx, filename, purpose, r)
}

func (e *Engine) storeFile(ctx context.Context, filename, purpose string, r io.Reader) (*app.File, error) {
	if err := e.checkFilename(filename); err != nil {
		return nil, err
	}
	b, err := e.StoreBytes(ctx, r)
	if err != nil {
		return nil, err
	}
	return e.CreateFileFromBytes(ctx, filename, purpose, b)
}

func (e *Engine) checkFilename(filename string) error {
	if err := e.cfg.Interpreter.CheckName(path.Base(filename)); err != nil || filename == "" {
		return invalid("file", "invalid file name %q", filename)
	}
	return nil
}

// StoredBytes are file bytes stored before their File object is made: an
// upload's form may name the purpose after the file.
type StoredBytes struct {
	hash string
	size int64
}

// StoreBytes streams r into the store (never holding it in memory) and
// fails with ErrTooLarge past MaxFileSize.
func (e *Engine) StoreBytes(ctx context.Context, r io.Reader) (StoredBytes, error) {
	hash, size, err := e.cfg.Store.PutBlob(ctx, r, e.cfg.MaxFileSize)
	if err != nil {
		return StoredBytes{}, err
	}
	return StoredBytes{hash: hash, size: size}, nil
}

// MaxFileSize is the largest file the engine keeps.
func (e *Engine) MaxFileSize() int64 { return e.cfg.MaxFileSize }

// CreateFileFromBytes makes the File object for stored bytes.
func (e *Engine) CreateFileFromBytes(ctx context.Context, filename, purpose string, b StoredBytes) (*app.File, error) {
	if err := e.checkFilename(filename); err != nil {
		return nil, err
	}
	if b.hash == "" {
		return nil, errors.New("app: no stored bytes")
	}
	f := &app.File{ID: newID("file-"), Object: app.KindFile, Bytes: b.size, CreatedAt: e.now(),
		Filename: filename, Purpose: purpose, Status: "processed"}
	if err := e.cfg.Store.Save(ctx, fileRecord(f, b.hash)); err != nil {
		return nil, err
	}
	return f, nil
}

// GetFile returns a file's object.
func (e *Engine) GetFile(ctx context.Context, id string) (*app.File, error) {
	return load[app.File](ctx, e.cfg.Store, app.KindFile, id)
}

// OpenFile opens a file's bytes.
func (e *Engine) OpenFile(ctx context.Context, id string) (*app.File, io.ReadSeekCloser, error) {
	rec, err := e.cfg.Store.Get(ctx, app.KindFile, id)
	if err != nil {
		return nil, nil, err
	}
	var f app.File
	if err := json.Unmarshal(rec.Data, &f); err != nil {
		return nil, nil, err
	}
	rc, err := e.cfg.Store.OpenBlob(rec.Blob)
	if err != nil {
		return nil, nil, err
	}
	return &f, rc, nil
}

// DeleteFile deletes a file.
func (e *Engine) DeleteFile(ctx context.Context, id string) error {
	return e.cfg.Store.Delete(ctx, app.KindFile, id)
}

// ListFiles lists files, optionally of one purpose.
func (e *Engine) ListFiles(ctx context.Context, purpose string, o app.ListOptions) (*app.List[app.File], error) {
	if o.Limit == 0 {
		o.Limit = 100
	}
	return listPage[app.File](ctx, e.cfg.Store, app.Query{Kind: app.KindFile, Tag: purpose, ListOptions: o}, 10000)
}
