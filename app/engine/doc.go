// Package engine runs assistants on threads: it creates and keeps the
// Assistants API's objects, and runs each run's loop — the thread's
// transcript to the model, the model's code to the thread's kernel, the
// results back — until the model answers, recording steps and messages
// and publishing every change as an event. The window, the local API and
// the command line all call it, and "ask a question" is one call (Ask).
//
// It sees the store, the model and the interpreter only through the
// domain's interfaces (package app), so that its tests can run on a
// scripted interpreter and a fake clock.
package engine
