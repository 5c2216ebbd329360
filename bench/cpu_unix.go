//go:build unix

package main

import (
	"syscall"
	"time"
)

// processCPU is the CPU time, user and system, that this process has used
// so far: all its threads, so the runtime's and the client libraries'
// goroutines count too. ok is false when the system cannot tell.
func processCPU() (d time.Duration, ok bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
