//go:build race

package jsonenc

// raceEnabled: the race detector makes sync.Pool drop items on purpose.
const raceEnabled = true
