package brokertest

import (
	"testing"
	"time"
)

// WaitFor polls cond every 2 ms until it holds, and fails the test when it
// does not within the given time, saying what it waited for and whatever
// the detail funcs report.
func WaitFor(t testing.TB, within time.Duration, what string, cond func() bool, detail ...func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			msg := ""
			for _, d := range detail {
				msg += "; " + d()
			}
			t.Fatalf("timed out waiting for %s%s", what, msg)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
