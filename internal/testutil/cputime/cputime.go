// Package cputime compares the cost of variants of a piece of work as CPU time of the test
// process, which other work on a shared machine disturbs less than wall time.
package cputime

import (
	"runtime"
	"syscall"
	"time"
)

// Process is the user and system CPU time of the process so far.
func Process() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Best runs every variant rounds times, interleaved so that a slow spell of the machine hits
// them alike, each after a garbage collection, and returns each variant's least CPU time. It
// stops at the first error.
func Best(rounds int, variants ...func() error) ([]time.Duration, error) {
	best := make([]time.Duration, len(variants))
	for range rounds {
		for i, v := range variants {
			runtime.GC()
			start := Process()
			if err := v(); err != nil {
				return nil, err
			}
			if d := Process() - start; best[i] == 0 || d < best[i] {
				best[i] = d
			}
		}
	}
	return best, nil
}
