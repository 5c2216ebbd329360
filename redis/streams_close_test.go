package redis_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/eventpub/eventpub/redis"
	"github.com/eventpub/eventpub/transport"
)

var _ transport.ContextCloser = (*redis.Transport)(nil)

// TestStreamsCloseContext checks that Close acknowledges the entry a group
// subscription's Next returned last, while CloseContext with a done
// context waits for nothing, that acknowledgement included: the entry is
// delivered again to the same consumer on restart. Both end the
// subscription.
func TestStreamsCloseContext(t *testing.T) {
	for name, url := range streamURLs(t) {
		for _, done := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/done=%v", name, done), func(t *testing.T) {
				ch, group := chanName("close"), chanName("g")
				c := rawClient(t, url)
				t.Cleanup(func() { c.Del(context.Background(), ch) })
				pub := open(t, withQuery(url, "mode=streams"))
				for i := range 3 {
					if err := pub.Publish(ctx5(t), transport.Message{Channel: ch, Payload: fmt.Appendf(nil, "%d", i)}); err != nil {
						t.Fatal(err)
					}
				}
				gurl := withQuery(url, "mode=streams&group="+group+"&consumer=c1")
				first := open(t, gurl)
				sub, err := first.Subscribe(ctx5(t), ch)
				if err != nil {
					t.Fatal(err)
				}
				if got := string(next(t, sub).Payload); got != "0" {
					t.Fatalf("first entry %q, want 0", got)
				}
				ctx, cancel := context.WithCancel(context.Background())
				if done {
					cancel()
				}
				err = first.CloseContext(ctx)
				cancel()
				if err != nil {
					t.Fatalf("CloseContext: %v", err)
				}
				if _, err := sub.Next(ctx5(t)); !errors.Is(err, transport.ErrClosed) {
					t.Fatalf("Next after CloseContext = %v, want ErrClosed", err)
				}
				again, err := open(t, gurl).Subscribe(ctx5(t), ch)
				if err != nil {
					t.Fatal(err)
				}
				want := "1"
				if done {
					want = "0" // not acknowledged: delivered again
				}
				if got := string(next(t, again).Payload); got != want {
					t.Fatalf("after restart got %q first, want %q", got, want)
				}
			})
		}
	}
}
