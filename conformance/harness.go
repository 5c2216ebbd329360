// Package conformance is the test suite every eventpub driver must pass.
//
// A driver author runs it with a few lines:
//
//	func TestConformance(t *testing.T) {
//		conformance.Run(t, conformance.Harness{
//			Name: "mydriver",
//			New: func(t testing.TB) transport.Transport {
//				tr, err := mydriver.Open(context.Background(), addr)
//				if err != nil {
//					t.Fatal(err)
//				}
//				return tr
//			},
//		})
//	}
//
// Checks that a driver's Capabilities rule out are skipped with the reason.
//
// # Checks
//
// [Run] checks, one subtest each and one after another: exact bytes round
// trip (empty, binary, 64 KiB, the largest payload allowed up to 8 MiB);
// Publish does not keep the caller's buffer; channel isolation; fan-out to
// several subscriptions; one subscription on several channels tags each
// message with its channel; unusual channel names (colons, dots, unicode);
// order per publisher (Ordered); headers (Headers); reading what was
// published before subscribing (Persistent); PublishBatch (when implemented);
// the channel rules of transport.ValidateChannel on Publish, PublishBatch and
// Subscribe; a message refused in the middle of a batch, and through an async
// eventpub.Publisher, does not stop the ones behind it;
// 50 concurrent publishers × 200 messages each arrive exactly once; errors
// (cancelled and expired contexts on Publish and Next, ErrPayloadTooLarge
// above MaxPayload, ErrInvalidChannel for "" and InvalidChannels); Close and
// Subscription.Close semantics; and, with Stop and Start, an outage: calls
// fail fast with ErrUnavailable and everything works again after Start.
//
// Channel names carry a random part, so the suite may target a shared
// server. Waits for messages time out (10 s) so a broken driver fails
// instead of hanging. [RunBenchmarks] measures Publish, parallel Publish, a
// Publish→Next round trip and PublishBatch of 64.
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
	// outage checks. It returns once the broker is down for the transports
	// New made: a driver that learns of a dead connection only on its next
	// write (core NATS) may otherwise take one more message as sent.
	Stop func(t testing.TB)
	// Start brings the broker back after Stop; optional.
	Start func(t testing.TB)
	// InvalidChannels are channel names this driver must reject with
	// transport.ErrInvalidChannel, besides the empty name. The suite
	// publishes on each (Subscribe is checked with the empty name only,
	// since a subscription may accept wildcards a publish may not).
	InvalidChannels []string
}
