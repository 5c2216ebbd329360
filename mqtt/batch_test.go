package mqtt_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/eventpub/eventpub/transport"
)

// TestBatchResults checks a batch with refused messages in the middle
// sends the others, in order, and reports each message's fate.
func TestBatchResults(t *testing.T) {
	url := brokerURL(t)
	pub, subT := open(t, url), open(t, url)
	ch := unique("batch")
	sub, err := subT.Subscribe(ctxT(t), ch)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	const n = 500
	msgs := make([]transport.Message, n)
	bad := map[int]string{3: "bad+topic", 250: "bad#", 499: ""}
	for i := range msgs {
		msgs[i] = transport.Message{Channel: ch, Payload: fmt.Appendf(nil, "%d", i)}
		if b, ok := bad[i]; ok {
			msgs[i].Channel = b
		}
	}
	err = pub.PublishBatch(ctxT(t), msgs)
	var be *transport.BatchError
	if !errors.As(err, &be) || be.Sent != 3 || len(be.Results) != n {
		t.Fatalf("PublishBatch: %v (%+v), want a BatchError with Sent 3 and %d results", err, be, n)
	}
	if !errors.Is(err, transport.ErrInvalidChannel) {
		t.Fatalf("PublishBatch: %v, want ErrInvalidChannel", err)
	}
	for i, r := range be.Results {
		if _, isBad := bad[i]; isBad != (r != nil) || (isBad && !errors.Is(r, transport.ErrInvalidChannel)) {
			t.Fatalf("result %d: %v", i, r)
		}
	}
	for i := range n {
		if _, isBad := bad[i]; !isBad {
			expectMsg(t, sub, ch, fmt.Sprint(i))
		}
	}
}
