package tee_test

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/eventpub/eventpub/tee"
	"github.com/eventpub/eventpub/transport"
)

// TestLiveRemoveIsLossless removes the primary while four goroutines keep
// publishing: the secondary, promoted to primary, must have every message of
// every publisher in order, and the removed target a prefix of each.
func TestLiveRemoveIsLossless(t *testing.T) {
	const publishers, perPublisher = 4, 2000
	old, next := newMem(t), newMem(t)
	tt, err := tee.New(old.t, []transport.Transport{next.t}, tee.WithKeepOpen())
	if err != nil {
		t.Fatal(err)
	}
	var sent atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, publishers)
	for p := range publishers {
		wg.Go(func() {
			for i := range perPublisher {
				m := transport.Message{Channel: "svc", Payload: fmt.Appendf(nil, "%d-%d", p, i)}
				if err := tt.Publish(ctxT(t), m); err != nil {
					errs <- fmt.Errorf("publisher %d message %d: %w", p, i, err)
					return
				}
				sent.Add(1)
			}
		})
	}
	for sent.Load() < publishers*perPublisher/3 {
		// Let a third go out through both targets.
		runtimeGosched()
	}
	removed, err := tt.Remove(old.t)
	if err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	want := func(p, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("%d-%d", p, i)
		}
		return out
	}
	byPublisher := func(msgs []transport.Message) [publishers][]string {
		var out [publishers][]string
		for _, m := range msgs {
			var p, i int
			if _, err := fmt.Sscanf(string(m.Payload), "%d-%d", &p, &i); err != nil || p < 0 || p >= publishers {
				t.Fatalf("unexpected payload %q", m.Payload)
			}
			out[p] = append(out[p], string(m.Payload))
		}
		return out
	}
	kept := byPublisher(next.rec.Messages("svc"))
	gone := byPublisher(old.rec.Messages("svc"))
	total := 0
	for p := range publishers {
		if !slices.Equal(kept[p], want(p, perPublisher)) {
			t.Errorf("publisher %d: the kept target has %d messages, want all %d in order", p, len(kept[p]), perPublisher)
		}
		if !slices.Equal(gone[p], want(p, len(gone[p]))) {
			t.Errorf("publisher %d: the removed target's messages are not a prefix in order", p)
		}
		total += len(gone[p])
	}
	if total == 0 || total == publishers*perPublisher {
		t.Errorf("the removed target got %d messages; the switch did not happen mid-stream", total)
	}
	if removed.Published != uint64(total) {
		t.Errorf("Remove reported %d published, the removed broker saw %d", removed.Published, total)
	}
	st := tt.Stats()
	if len(st) != 1 || st[0].Published != publishers*perPublisher {
		t.Errorf("Stats after the switch = %+v, want one target with every message", st)
	}
}
