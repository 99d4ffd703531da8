//go:build !race

package goscript

// raceEnabled is true when the tests run with the race detector.
const raceEnabled = false
