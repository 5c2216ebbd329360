package mqtt_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/eventpub/eventpub/mqtt"
	"github.com/eventpub/eventpub/transport"
)

func TestZZSlow(t *testing.T) {
	url := brokerURL(t)
	pub, subT := open(t, url), open(t, url, mqtt.WithSubscriptionBuffer(10))
	ch := unique("slow")
	sub, err := subT.Subscribe(ctxT(t), ch)
	if err != nil {
		t.Fatal(err)
	}
	batch := make([]transport.Message, 250)
	for i := 0; i < 3000; i += 250 {
		for j := range batch {
			batch[j] = transport.Message{Channel: ch, Payload: fmt.Appendf(nil, "%d", i+j)}
		}
		if err := pub.PublishBatch(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(time.Second)
	c := 0
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := sub.Next(ctx)
		cancel()
		if err != nil {
			break
		}
		c++
	}
	t.Logf("received %d of 3000", c)
}
