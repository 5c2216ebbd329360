package conformance

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// testConcurrentPublishers has 50 publishers send 200 messages each at once
// and checks every message arrives exactly once, and in each publisher's
// order when the driver is Ordered.
func (s suite) testConcurrentPublishers(t *testing.T) {
	const publishers, each = 50, 200
	pub, subT := s.open(t), s.open(t)
	ordered := pub.Capabilities().Ordered
	ch := channelBase()
	sub := subscribe(t, subT, ch)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	for p := range publishers {
		wg.Go(func() {
			for i := range each {
				if err := pub.Publish(ctx, transportMsg(ch, p, i)); err != nil {
					t.Errorf("publisher %d, message %d: %v", p, i, err)
					return
				}
			}
		})
	}

	next := make([]int, publishers) // next index expected from each publisher
	seen := make(map[[2]int]bool, publishers*each)
	var failure error
	for range publishers * each {
		m, err := sub.Next(ctx)
		if err != nil {
			failure = fmt.Errorf("after %d of %d messages: Next: %w", len(seen), publishers*each, err)
			break
		}
		var p, i int
		if _, err := fmt.Sscanf(string(m.Payload), "p%d-%d", &p, &i); err != nil || p < 0 || p >= publishers || i < 0 || i >= each {
			failure = fmt.Errorf("unexpected message %q on %q", m.Payload, m.Channel)
			break
		}
		if seen[[2]int{p, i}] {
			failure = fmt.Errorf("message %q arrived twice", m.Payload)
			break
		}
		seen[[2]int{p, i}] = true
		if ordered && i != next[p] {
			failure = fmt.Errorf("publisher %d: message %d arrived when %d was due", p, i, next[p])
			break
		}
		next[p] = i + 1
	}
	if failure != nil {
		cancel() // release publishers still waiting
	}
	wg.Wait()
	if failure != nil {
		t.Fatal(failure)
	}
}
