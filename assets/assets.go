// Package assets holds the files embedded in the plotline binary: the
// Python half of the kernel, the application icon and the text Plotline
// tells the model.
package assets

import _ "embed"

// Kernel is the Python source of the kernel that runs inside the sandbox.
//
//go:embed kernel.py
var Kernel string

// Icon is Plotline's application icon (PNG).
//
//go:embed icon.png
var Icon []byte

// The text Plotline tells the model, given to the engine by the
// composition root (app/cli/wiring).
var (
	// PromptCode says what the python tool is and where it runs.
	//
	//go:embed prompts/code.txt
	PromptCode string
	// PromptFenced replaces the python tool for models without tools.
	//
	//go:embed prompts/fenced.txt
	PromptFenced string
	// PromptFreshKernel tells the model, once, that its thread's code
	// ran in a kernel that is gone.
	//
	//go:embed prompts/fresh-kernel.txt
	PromptFreshKernel string
	// PromptStarlarkCode, PromptStarlarkFenced and
	// PromptStarlarkFreshKernel are the same for the Starlark runtime;
	// the composition root adds the built-ins' description to the first.
	//
	//go:embed prompts/starlark-code.txt
	PromptStarlarkCode string
	//go:embed prompts/starlark-fenced.txt
	PromptStarlarkFenced string
	//go:embed prompts/starlark-fresh-kernel.txt
	PromptStarlarkFreshKernel string
	// PromptBundled follows PromptCode when the bundled runtime runs the
	// code: what else it can import, with {modules} for the list.
	//
	//go:embed prompts/bundled.txt
	PromptBundled string
	// PromptAnalyst is the instructions of the default assistant.
	//
	//go:embed prompts/analyst.txt
	PromptAnalyst string
)
