//go:build !unix

package starlark

// openNonblock is nothing where FIFOs cannot be planted in a folder.
const openNonblock = 0
