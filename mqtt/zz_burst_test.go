package mqtt_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/eventpub/eventpub/transport"
)

func TestZZBurst(t *testing.T) {
	url := brokerURL(t)
	pub, subT := open(t, url), open(t, url)
	ch := unique("burst")
	sub, err := subT.Subscribe(ctxT(t), ch)
	if err != nil {
		t.Fatal(err)
	}
	const n = 20000
	got := make(chan int, 1)
	go func() {
		c := 0
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_, err := sub.Next(ctx)
			cancel()
			if err != nil {
				got <- c
				return
			}
			c++
		}
	}()
	start := time.Now()
	batch := make([]transport.Message, 256)
	for i := 0; i < n; i += 256 {
		for j := range batch {
			batch[j] = transport.Message{Channel: ch, Payload: fmt.Appendf(nil, "%d", i+j)}
		}
		if err := pub.PublishBatch(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("published %d in %v", n/256*256+256, time.Since(start))
	c := <-got
	t.Logf("received %d", c)
}
