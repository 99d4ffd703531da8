package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"strings"
	"syscall"

	"plotline/app"
	"plotline/app/cli/wiring"
	"plotline/app/engine"
	"plotline/interpreter"
	"plotline/interpreter/sandbox"
)

// askJSON is the one object `plotline ask --json` prints.
type askJSON struct {
	ThreadID string        `json:"thread_id"`
	Run      *app.Run      `json:"run"`
	Messages []app.Message `json:"messages"`
	Steps    []app.RunStep `json:"steps"`
	Files    []savedFile   `json:"files"`
}

type savedFile struct {
	ID       string `json:"id"`
	Filename string `json:"filename"`
	Path     string `json:"path"`
}

// Ask implements `plotline ask`.
func Ask(args []string, s Streams) int {
	fs := flag.NewFlagSet("plotline ask", flag.ContinueOnError)
	fs.SetOutput(s.Err)
	var files stringList
	fs.Var(&files, "file", "attach `PATH` to the question; the code finds it in /mnt/data (repeatable)")
	var (
		threadID     = fs.String("thread", "", "continue thread `ID` instead of starting a new one")
		instructions = fs.String("instructions", "", "instructions for this run, instead of the assistant's")
		modelName    = fs.String("model", "", "the model (on Azure, the deployment) for this run")
		toolChoice   = fs.String("tool-choice", "", "auto, none, required, code_interpreter or function:NAME")
		out          = fs.String("out", "plotline-out", "save the files and charts the answer made into `DIR`")
		asJSON       = fs.Bool("json", false, "print one JSON object with the thread, run, messages, steps and files, and nothing else")
		data         = fs.String("data", "", "Plotline's data folder (default $PLOTLINE_DATA, else plotline in the user config folder)")
	)
	fs.Usage = func() {
		fmt.Fprintln(s.Err, "Usage: plotline ask [--file PATH]... [--thread ID] [--instructions TEXT] [--model NAME] [--tool-choice X] [--out DIR] [--json] PROMPT")
		fs.PrintDefaults()
	}
	words, err := parseInterleaved(fs, args)
	if err != nil {
		return exitNoStart
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(s.Err, "plotline ask: "+format+"\n", a...)
		return code
	}
	prompt := strings.TrimSpace(strings.Join(words, " "))
	if prompt == "" {
		fs.Usage()
		return exitNoStart
	}
	choice, err := parseToolChoiceFlag(*toolChoice)
	if err != nil {
		return fail(exitNoStart, "%v", err)
	}
	for _, f := range files {
		if fi, err := os.Stat(f); err != nil {
			return fail(exitNoStart, "--file %s: %v", f, errors.Unwrap(err))
		} else if !fi.Mode().IsRegular() {
			return fail(exitNoStart, "--file %s: is not a regular file", f)
		}
	}
	dir, err := dataDir(*data)
	if err != nil {
		return fail(exitNoStart, "%v", err)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sys, err := wiring.Open(context.Background(), wiring.Options{Data: dir})
	if err != nil {
		return fail(exitNoStart, "%v", err)
	}
	defer sys.Close()
	eng := sys.Engine
	bg := context.Background()

	var attach []engine.AskFile
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return fail(exitNoStart, "--file %s: %v", f, errors.Unwrap(err))
		}
		defer fh.Close()
		attach = append(attach, engine.AskFile{Name: filepath.Base(f), Data: fh})
	}
	rp := app.RunParams{Stream: true, ToolChoice: choice}
	if *instructions != "" {
		rp.Instructions = instructions
	}
	if *modelName != "" {
		rp.Model = modelName
	}
	th, run, sub, err := eng.Ask(bg, engine.AskParams{ThreadID: *threadID, Text: prompt, Files: attach, Run: rp})
	if sub != nil {
		defer sub.Close()
	}
	if run == nil {
		if *threadID != "" && app.ErrorCode(err) == app.ENOTFOUND {
			return fail(exitNoStart, "thread %s: %v", *threadID, err)
		}
		return fail(exitNoStart, "%v", err)
	}
	*threadID = th.ID
	cancelled := false
	view := &terminalView{out: s.Out, err: s.Err, quiet: *asJSON}
	for {
		ev, err := sub.Next(ctx)
		if err != nil { // interrupted: cancel the run, and wait for its end
			if !cancelled {
				cancelled = true
				eng.CancelRun(bg, *threadID, run.ID)
			}
			ev, err = sub.Next(bg)
			if err != nil {
				break
			}
		}
		view.show(ev)
		if ev.RunID == run.ID && ev.Final() {
			// A function without a local handler (functions/NAME.go) needs
			// a client to answer it, and ask is none.
			if ev.Name == "thread.run.requires_action" {
				eng.CancelRun(bg, *threadID, run.ID)
				continue
			}
			break
		}
	}
	view.end()

	final, err := eng.GetRun(bg, *threadID, run.ID)
	if err != nil {
		return fail(exitFailed, "%v", err)
	}
	msgs, steps, err := eng.RunMessages(bg, *threadID, run.ID)
	if err != nil {
		return fail(exitFailed, "%v", err)
	}
	saved := saveRunFiles(bg, eng, *out, msgs, steps, s.Err)
	if *asJSON {
		enc := json.NewEncoder(s.Out)
		enc.SetEscapeHTML(false)
		enc.Encode(askJSON{ThreadID: *threadID, Run: final, Messages: msgs, Steps: steps, Files: saved})
	} else {
		for _, f := range saved {
			fmt.Fprintf(s.Err, "[saved %s]\n", f.Path)
		}
		fmt.Fprintf(s.Err, "[thread %s; continue it with --thread %s]\n", *threadID, *threadID)
	}
	if final.Status != app.RunCompleted {
		why := final.Status
		if final.LastError != nil {
			why = fmt.Sprintf("%s (%s): %s", final.Status, final.LastError.Code, final.LastError.Message)
		} else if final.IncompleteDetails != nil {
			why = fmt.Sprintf("%s: %s", final.Status, final.IncompleteDetails.Reason)
		}
		fmt.Fprintf(s.Err, "plotline ask: the run did not complete: %s\n", why)
		if cancelled {
			return 130
		}
		return exitFailed
	}
	return exitOK
}

func mustRaw(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

func parseToolChoiceFlag(v string) (json.RawMessage, error) {
	switch {
	case v == "":
		return nil, nil
	case v == "auto" || v == "none" || v == "required":
		return mustRaw(v), nil
	case v == "code_interpreter":
		return json.RawMessage(`{"type":"code_interpreter"}`), nil
	case strings.HasPrefix(v, "function:") && len(v) > len("function:"):
		return json.Marshal(map[string]any{"type": "function", "function": map[string]string{"name": strings.TrimPrefix(v, "function:")}})
	}
	return nil, fmt.Errorf("--tool-choice %q: use auto, none, required, code_interpreter or function:NAME", v)
}

// saveRunFiles saves the run's images and linked files into dir, under
// their names in /mnt/data, and reports on warn, a line each, those it
// does not save.
func saveRunFiles(ctx context.Context, eng *engine.Engine, dir string, msgs []app.Message, steps []app.RunStep, warn io.Writer) []savedFile {
	var ids []string
	seen := map[string]bool{}
	add := func(id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	for _, st := range steps {
		for _, tc := range st.StepDetails.ToolCalls {
			if tc.CodeInterpreter != nil {
				for _, o := range tc.CodeInterpreter.Outputs {
					if o.Image != nil {
						add(o.Image.FileID)
					}
				}
			}
		}
	}
	for _, m := range msgs {
		for _, c := range m.Content {
			if c.ImageFile != nil {
				add(c.ImageFile.FileID)
			}
			if c.Text != nil {
				for _, a := range c.Text.Annotations {
					if a.FilePath != nil {
						add(a.FilePath.FileID)
					}
				}
			}
		}
	}
	saved := []savedFile{}
	if len(ids) == 0 {
		return saved
	}
	// The run's code had the default work-folder quota (see wiring.Open).
	dst, err := openOutFolder(dir, interpreter.Limits{}.WithDefaults().DiskQuota)
	if err != nil {
		fmt.Fprintf(warn, "plotline ask: --out: %v\n", err)
		return saved
	}
	defer dst.Close()
	for _, id := range ids {
		f, err := eng.GetFile(ctx, id)
		if err != nil {
			fmt.Fprintf(warn, "plotline ask: file %s: %v\n", id, err)
			continue
		}
		// Files the code wrote are named /mnt/data/REL; images and the
		// user's own files by a plain name.
		rel, ok := strings.CutPrefix(f.Filename, sandbox.WorkDir+"/")
		if !ok {
			rel = path.Base(f.Filename)
		}
		p, err := dst.save(rel, func() (io.ReadCloser, int64, error) {
			_, rc, err := eng.OpenFile(ctx, id)
			if err != nil {
				return nil, 0, err
			}
			size, err := rc.Seek(0, io.SeekEnd)
			if err == nil {
				_, err = rc.Seek(0, io.SeekStart)
			}
			if err != nil {
				rc.Close()
				return nil, 0, err
			}
			return rc, size, nil
		})
		if err != nil {
			fmt.Fprintf(warn, "plotline ask: %v\n", err)
			continue
		}
		saved = append(saved, savedFile{ID: id, Filename: f.Filename, Path: p})
	}
	return saved
}
