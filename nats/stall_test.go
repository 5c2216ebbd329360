package nats_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/internal/faultproxy"
	"github.com/eventpub/eventpub/transport"
)

// TestStalledLinkFailsFast: when the link stalls with the connection still
// open, core publishes stop being taken within about PublishTimeout: the
// stalled socket write times out (in nats.go's flusher for small messages,
// in Publish itself for one over its write buffer), the connection
// reconnects, and Publish fails fast with ErrUnavailable until the link is
// back, instead of taking messages that the next stalled write drops.
func TestStalledLinkFailsFast(t *testing.T) {
	srv := brokertest.StartNATS(t)
	for _, size := range []int{512, 64 << 10} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			proxy := faultproxy.Start(t, strings.TrimPrefix(srv.URL(), "nats://"))
			const publishTimeout = 300 * time.Millisecond
			tr := open(t, "nats://"+proxy.Addr()+"?publish_timeout="+publishTimeout.String())
			msg := transport.Message{Channel: "stalled", Payload: make([]byte, size)}
			if err := tr.Publish(ctxT(t), msg); err != nil {
				t.Fatal(err)
			}
			proxy.Stall()
			start := time.Now()
			var slowest time.Duration
			var err error
			n := 0
			for ; err == nil && time.Since(start) < 20*time.Second; n++ {
				t0 := time.Now()
				err = tr.Publish(ctxT(t), msg)
				slowest = max(slowest, time.Since(t0))
			}
			t.Logf("%d publishes of %d bytes were taken, then %v after %v; the slowest took %v", n-1, size, err, time.Since(start), slowest)
			if !errors.Is(err, transport.ErrUnavailable) {
				t.Fatalf("Publish on a stalled link: %v, want ErrUnavailable", err)
			}
			// nats.go may take a message or two before it sees the
			// connection it must drop is gone.
			waitFor(t, "publishes to fail fast", func() bool {
				return errors.Is(tr.Publish(ctxT(t), msg), transport.ErrUnavailable)
			})
			for i := range 20 {
				if err := tr.Publish(ctxT(t), msg); !errors.Is(err, transport.ErrUnavailable) {
					t.Fatalf("Publish %d on the link still stalled: %v, want ErrUnavailable", i, err)
				}
			}
			// A stalled write holds a Publish for up to PublishTimeout
			// (twice when its own write stalls next); allow for slack.
			if slowest > 10*publishTimeout {
				t.Fatalf("a Publish on the stalled link blocked %v", slowest)
			}
			proxy.Pass()
			waitFor(t, "the reconnect", func() bool { return tr.Publish(ctxT(t), msg) == nil })
		})
	}
}
