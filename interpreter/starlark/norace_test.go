//go:build !race

package starlark

// raceEnabled is true when the tests run with the race detector.
const raceEnabled = false
