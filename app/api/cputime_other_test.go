//go:build !unix

package api_test

import "time"

// cpuTime is 0 where the benchmarks do not read the process's CPU time:
// they then report no CPU ratio.
func cpuTime() time.Duration { return 0 }
