// Command plotline is a local code interpreter for analysts: an AI model
// writes Python, and Plotline runs it on the analyst's machine in a sandbox.
package main

import (
	"os"

	"plotline/app/cli"
	_ "plotline/app/cli/locale" // before Fyne reads the locale: see its doc
	"plotline/interpreter/sandbox"
)

func main() {
	// When started as the sandbox's init, this never returns.
	sandbox.MaybeRunInit()
	os.Exit(cli.Main(os.Args[1:], cli.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}))
}
