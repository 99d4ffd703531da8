// Package cli implements plotline's command line: the subcommands that
// main dispatches to. Each command takes its arguments and streams and
// returns an exit status, so that tests can run it in-process.
package cli

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// Exit statuses.
const (
	exitOK      = 0
	exitFailed  = 1 // the command ran and found a problem (doctor)
	exitNoStart = 2 // bad usage or input, or the sandbox or Python could not start
)

// Streams are a command's standard streams.
type Streams struct {
	In       io.Reader
	Out, Err io.Writer
}

const usage = `Plotline: a local code interpreter for analysts.

Usage:
  plotline [--data DIR] [FILE]...
      Open the Plotline window, with the FILEs attached to the first question.
  plotline exec [--runtime python|starlark] [--file PATH]... [--out DIR] [--json]
                [--timeout DUR] [--memory BYTES] CELL...
      Run each CELL (a .py file, or - for standard input) in order, in one
      sandboxed Python session (or, with --runtime starlark, a hermetic
      Starlark session with table and chart built-ins). --file copies an
      input into /mnt/data.
  plotline ask [--file PATH]... [--thread ID] [--instructions TEXT] [--model NAME]
               [--tool-choice X] [--out DIR] [--json] PROMPT
      Ask the data-analyst assistant a question about your files. The model
      writes Python; Plotline runs it in the sandbox and streams the answer.
      Configure the model with OPENAI_API_KEY (and OPENAI_BASE_URL for a
      compatible server such as Ollama), or AZURE_OPENAI_API_KEY,
      AZURE_OPENAI_ENDPOINT and OPENAI_API_VERSION; PLOTLINE_MODEL names the
      model (the deployment, on Azure).
  plotline serve [--addr 127.0.0.1:8765] [--allow-remote] [--hosts H,…] [--origins O,…]
                 [--local-functions]
      Serve the OpenAI / Azure OpenAI Assistants API locally (/v1 and
      /openai), so code written for it runs with only the base URL changed.
      The API key is PLOTLINE_API_KEY, or one made and kept in the data folder.
      --local-functions runs function tools that have a Go handler in the
      data folder's functions/ here, in the sandbox, instead of requires_action.
  plotline profile FILE [--sheet NAME] [--json]
      Describe a CSV, TSV or XLSX table: its rows, and each column's type,
      missing and distinct values, range, mean and most common values.
  plotline chart FILE [--sheet NAME] [--x COL] [--y COL]... [--by COL]
                 [--agg sum|mean|count|min|max|median] [--every day|week|month|year]
                 [--kind bar|line|scatter|hist|box|area|heatmap] [--title T]
                 [--dark] [--size WxH] -o OUT.png|OUT.svg
      Draw one chart of a table, natively: no model and no Python. With no
      --kind, a date and a number make a line, a category and a number a bar.
  plotline doctor
      Show which Python Plotline uses and why, and whether the sandbox works.
  plotline help
      Show this help.
`

// parseInterleaved parses flags that may come before, between or after
// the positional arguments, and returns those in order.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		rest = fs.Args()[1:]
	}
}

// Main runs plotline with args (without the program name) and returns the
// exit status.
func Main(args []string, s Streams) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") && args[0] != "-h" && args[0] != "-help" && args[0] != "--help" {
		return Window(args, s)
	}
	switch args[0] {
	case "exec":
		return Exec(args[1:], s)
	case "ask":
		return Ask(args[1:], s)
	case "serve":
		return Serve(args[1:], s)
	case "doctor":
		return Doctor(args[1:], s)
	case "profile":
		return Profile(args[1:], s)
	case "chart":
		return Chart(args[1:], s)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(s.Out, usage)
		return exitOK
	}
	if isFile(args[0]) {
		// plotline FILE…: a file manager's "Open with". A file named like
		// a command is opened with ./NAME.
		return Window(args, s)
	}
	fmt.Fprintf(s.Err, "plotline: unknown command %q\n\n%s", args[0], usage)
	return exitNoStart
}

// isFile reports whether p names a regular file.
func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}
