// Package assets holds the files embedded in the plotline binary: the
// Python half of the kernel and the application icon.
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
