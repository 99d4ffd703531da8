// Command sandbox-exec is the sandbox's exec stage for a root with a
// userland of its own (sandbox.Spec.System): the bundled runtime holds a
// static build of it at sandbox.SystemExecStage, which make runtime puts
// there. The plotline binary itself cannot run in such a root, since its
// shared libraries are the host's.
package main

import "plotline/interpreter/sandbox"

func main() { sandbox.RunExecStage() }
