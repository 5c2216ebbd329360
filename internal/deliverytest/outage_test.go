package deliverytest

import (
	"context"
	"testing"
	"time"

	"github.com/eventpub/eventpub"
	"github.com/eventpub/eventpub/internal/faultproxy"
)

const (
	outageN     = 20000
	outageBurst = 5
	outageTick  = 2 * time.Millisecond // 2500 messages a second, 8 s in all
	cutAt       = 6000
	cutFor      = 3 * time.Second
)

// outageRun publishes outageN events through a proxy that is cut for
// cutFor at seq cutAt, and returns what the subscriber received, the
// calls that failed, the seq published when the link came back, and the
// publisher's metrics after Close.
func outageRun(t *testing.T, b backend, capacity int, policy eventpub.OverflowPolicy, opts ...eventpub.Option) (got []int, failed map[int]error, restoredAt int, m eventpub.Metrics) {
	got, failed, restoredAt, m, _ = outageRunCut(t, b, (*faultproxy.Proxy).Cut, capacity, policy, opts...)
	return got, failed, restoredAt, m
}

// outageRunCut is outageRun with the way the link is cut; it also returns
// how many duplicates arrived (got has none).
func outageRunCut(t *testing.T, b backend, cut func(*faultproxy.Proxy), capacity int, policy eventpub.OverflowPolicy, opts ...eventpub.Option) (got []int, failed map[int]error, restoredAt int, m eventpub.Metrics, dups int) {
	ns := unique("outage")
	sub, err := b.dial(t, b.addr).Subscribe(context.Background(), ns+":events")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Close() })
	c := collect(t, sub)

	proxy := faultproxy.Start(t, b.addr)
	opts = append([]eventpub.Option{eventpub.WithNamespace(ns), eventpub.WithAsync(capacity, policy),
		eventpub.WithErrorHandler(func(err error) {
			if !isQueueFull(err) {
				t.Logf("reported: %v", err)
			}
		})}, opts...)
	pub := eventpub.New(b.dial(t, proxy.Addr()), opts...)
	defer pub.Close(context.Background())

	restored := make(chan struct{})
	current := 0
	restoredAt = -1
	calls, failed := paced(t, pub, outageN, outageBurst, outageTick, func(seq int) {
		current = seq
		if seq == cutAt {
			go func() {
				cut(proxy)
				time.Sleep(cutFor)
				proxy.Pass()
				close(restored)
			}()
		}
		if restoredAt < 0 && seq > cutAt {
			select {
			case <-restored:
				restoredAt = seq
			default:
			}
		}
	})
	if restoredAt < 0 {
		t.Fatalf("the link was not restored before the last publish (seq %d)", current)
	}
	if !calls.ok() {
		t.Errorf("async publish calls waited: %v", calls)
	}
	t.Logf("publish calls: %v; link restored at seq %d", calls, restoredAt)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := pub.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	m = pub.Metrics()
	checkMetricsAddUp(t, m)
	got = c.waitForSet(int(m.Published), 30*time.Second)
	got, dups = checkDelivery(t, b, got)
	return got, failed, restoredAt, m, dups
}

// TestOutageLosesNothing: a queue with room for the whole outage delivers
// every message once, in order, and no publish call waits.
func TestOutageLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("8 s of paced publishing per broker; skipped with -short")
	}
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			got, failed, _, m := outageRun(t, b, 2*outageN, eventpub.DropNewest)
			if len(failed) != 0 {
				t.Fatalf("%d publish calls failed, e.g. %v", len(failed), anyErr(failed))
			}
			if len(got) != outageN || m.Published != outageN || m.Dropped != 0 {
				t.Fatalf("received %d of %d; metrics %+v", len(got), outageN, m)
			}
		})
	}
}

// lostAcks cuts the link so that the sender cannot know what arrived: for
// 300 ms the broker gets every message but the client no ack, then the
// link breaks with those acks undelivered.
func lostAcks(p *faultproxy.Proxy) {
	p.StallReplies()
	time.Sleep(300 * time.Millisecond)
	p.CutHard()
}

// TestLostAcksWithMessageIDs: after a cut that loses acks the sender resends
// what it cannot know was stored; with WithMessageIDs JetStream stores each
// message once all the same. Without ids the resent messages arrive twice
// (Redis pub/sub has no ids: a link lost that way duplicates there).
func TestLostAcksWithMessageIDs(t *testing.T) {
	if testing.Short() {
		t.Skip("8 s of paced publishing per broker; skipped with -short")
	}
	for _, b := range jetStreamBackends(t) {
		t.Run(b.name, func(t *testing.T) {
			got, failed, _, m, dups := outageRunCut(t, b, lostAcks, 2*outageN, eventpub.DropNewest, eventpub.WithMessageIDs())
			if len(failed) != 0 || len(got) != outageN || m.Published != outageN || dups != 0 {
				t.Fatalf("received %d of %d, %d duplicates (%d calls failed); metrics %+v", len(got), outageN, dups, len(failed), m)
			}
		})
	}
}

// TestOutageOverflow: a queue too small for the outage drops by its policy,
// and received + dropped = published exactly.
func TestOutageOverflow(t *testing.T) {
	if testing.Short() {
		t.Skip("8 s of paced publishing per broker and policy; skipped with -short")
	}
	const capacity = 2000 // the outage lasts about 7500 messages
	for _, b := range backends(t) {
		t.Run(b.name+"/DropNewest", func(t *testing.T) {
			got, failed, _, m := outageRun(t, b, capacity, eventpub.DropNewest)
			if uint64(len(got))+m.Dropped != outageN || m.Dropped == 0 || m.Failed != 0 {
				t.Fatalf("received %d + dropped %d != %d published (metrics %+v)", len(got), m.Dropped, outageN, m)
			}
			// The dropped messages are exactly the calls that saw ErrQueueFull.
			received := make(map[int]bool, len(got))
			for _, s := range got {
				received[s] = true
			}
			for seq := 0; seq < outageN; seq++ {
				err, refused := failed[seq]
				if refused && !isQueueFull(err) {
					t.Fatalf("seq %d failed with %v", seq, err)
				}
				if refused == received[seq] {
					t.Fatalf("seq %d: refused=%v but received=%v", seq, refused, received[seq])
				}
			}
		})
		t.Run(b.name+"/DropOldest", func(t *testing.T) {
			got, failed, restoredAt, m := outageRun(t, b, capacity, eventpub.DropOldest)
			if len(failed) != 0 {
				t.Fatalf("%d DropOldest calls failed, e.g. %v", len(failed), anyErr(failed))
			}
			checkDropAccounting(t, b, got, m)
			// Drops take the oldest waiting message, never one being sent:
			// the dropped ones form one run broken only by batches that were
			// in flight (at most 256 messages each), the run starts soon after
			// the cut (before the queue had taken capacity messages), and the
			// newest messages all survived: a message is dropped only while
			// the queue is full and it is the oldest waiting, so at least
			// capacity-256 (a batch in flight) newer ones were published
			// after it. (Messages published just
			// after the link came back can still be dropped: reconnecting
			// takes a moment, more on a loaded machine; while the backlog
			// drains, several batches can go between two drops, so the runs
			// are checked up to the seq published when the link came back.)
			missing := missingSeqs(got)
			for i := 1; i < len(missing) && missing[i] < restoredAt; i++ {
				if gap := missing[i] - missing[i-1] - 1; gap > 256 {
					t.Fatalf("%d messages survived between dropped seqs %d and %d: not the oldest dropped", gap, missing[i-1], missing[i])
				}
			}
			if missing[0] >= cutAt+capacity {
				t.Fatalf("first dropped seq %d: newer messages were dropped (cut at %d)", missing[0], cutAt)
			}
			if last := missing[len(missing)-1]; last >= outageN-capacity+256 {
				t.Fatalf("seq %d, among the newest %d, was dropped (link back at seq %d)", last, capacity-256, restoredAt)
			}
		})
	}
}

// checkDropAccounting checks that every message was either received or
// dropped, and that nothing counted as published was lost. A batch whose
// confirmation did not come (an ack lost with the link, a failed core-NATS
// flush) goes back to the queue although the broker may have delivered it,
// and DropOldest may then drop it: such a message is both received and
// dropped, so received + dropped may exceed what was published. Those are
// counted and logged.
func checkDropAccounting(t *testing.T, b backend, got []int, m eventpub.Metrics) {
	t.Helper()
	received := uint64(len(got))
	if m.Dropped == 0 {
		t.Fatalf("nothing was dropped (metrics %+v)", m)
	}
	if received+m.Dropped < outageN || received < m.Published {
		t.Fatalf("received %d + dropped %d < %d published, or fewer received than counted published (metrics %+v)", received, m.Dropped, outageN, m)
	}
	if both := received + m.Dropped - outageN; both > 0 {
		t.Logf("%s: %d messages both delivered and dropped (sent, unconfirmed, put back, then dropped)", b.name, both)
	}
}

// missingSeqs returns the seqs below outageN that are not in got.
func missingSeqs(got []int) []int {
	seen := make([]bool, outageN)
	for _, s := range got {
		seen[s] = true
	}
	var out []int
	for s, ok := range seen {
		if !ok {
			out = append(out, s)
		}
	}
	return out
}

func anyErr(m map[int]error) error {
	for _, err := range m {
		return err
	}
	return nil
}
