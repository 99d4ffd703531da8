package cli

import (
	"fmt"
	"io"
	"strings"

	"plotline/app"
)

// terminalView renders a run's events on a terminal: the answer's text as
// it streams on stdout, and what the code does on stderr.
type terminalView struct {
	out, err io.Writer
	quiet    bool // --json: nothing but the final object on stdout
	inText   bool
}

func (v *terminalView) show(ev app.Event) {
	switch d := ev.Data.(type) {
	case *app.MessageDelta:
		if v.quiet {
			return
		}
		for _, c := range d.Delta.Content {
			if c.Text != nil {
				io.WriteString(v.out, c.Text.Value)
				v.inText = true
			}
		}
	case *app.RunStep:
		if ev.Name == "thread.run.step.completed" && d.Type == app.StepToolCalls {
			for _, tc := range d.StepDetails.ToolCalls {
				if tc.CodeInterpreter == nil {
					continue
				}
				v.breakLine()
				fmt.Fprintf(v.err, "── ran python (%d lines)", strings.Count(strings.TrimRight(tc.CodeInterpreter.Input, "\n"), "\n")+1)
				for _, o := range tc.CodeInterpreter.Outputs {
					if o.Type == "image" {
						fmt.Fprint(v.err, ", made a chart")
					}
				}
				fmt.Fprintln(v.err)
			}
		}
		if ev.Name == "thread.run.step.created" && d.Type == app.StepToolCalls {
			v.breakLine()
			fmt.Fprintln(v.err, "── running code…")
		}
	case *app.Run:
		if ev.Name == "thread.run.failed" && d.LastError != nil {
			v.breakLine()
		}
	case *app.RunRetrying:
		v.breakLine()
		fmt.Fprintf(v.err, "── %s\n", d.Say(d.After))
	}
}

func (v *terminalView) breakLine() {
	if v.inText && !v.quiet {
		fmt.Fprintln(v.out)
		v.inText = false
	}
}

func (v *terminalView) end() { v.breakLine() }
