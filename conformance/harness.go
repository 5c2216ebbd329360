// Package conformance is the test suite every eventpub driver must pass.
//
// A driver author runs it with a few lines:
//
//	func TestConformance(t *testing.T) {
//		conformance.Run(t, conformance.Harness{
//			Name: "mydriver",
//			New:  func(t testing.TB) transport.Transport { return mydriver.New(addr) },
//		})
//	}
//
// Checks that a driver's Capabilities rule out are skipped with the reason.
package conformance

import (
	"testing"

	"github.com/eventpub/eventpub/transport"
)

// Harness tells the suite how to reach the broker under test.
type Harness struct {
	// Name labels the subtests.
	Name string
	// New returns a fresh transport on the broker under test. The suite
	// calls it several times (a publisher and subscribers on separate
	// transports) and closes what it gets.
	New func(t testing.TB) transport.Transport
	// Stop takes the broker down; optional. With Start it enables the
	// outage checks.
	Stop func(t testing.TB)
	// Start brings the broker back after Stop; optional.
	Start func(t testing.TB)
	// InvalidChannels are channel names this driver must reject with
	// transport.ErrInvalidChannel, besides the empty name.
	InvalidChannels []string
}
