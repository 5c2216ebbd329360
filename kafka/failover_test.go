package kafka_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/eventpub/eventpub/kafka"
	"github.com/eventpub/eventpub/transport"
)

// TestFailover publishes continuously on a 3-broker kfake cluster while
// the channel's partition leader moves to another broker, then while the
// broker leading it is removed from the cluster. Every Publish succeeds
// (franz-go follows the new leader and resends with the same idempotent
// sequence), and a subscriber replaying the topic reads every message
// once, in order. kfake keeps one copy of the log for all its brokers, so
// this shows the client side of a failover, not Kafka's replication.
func TestFailover(t *testing.T) {
	k := cluster3(t)
	pub := open(t, k.URL())
	ch := "failover:" + unique()
	topic, err := kafka.TopicFor(kafka.Escape, ch)
	if err != nil {
		t.Fatal(err)
	}
	const n = 3000
	var moved, removed int32 = -1, -1
	for i := range n {
		switch i {
		case n / 3:
			from := k.Kfake().LeaderFor(topic, 0)
			moved = (from + 1) % 3
			if err := k.Kfake().MoveTopicPartition(topic, 0, moved); err != nil {
				t.Fatalf("MoveTopicPartition: %v", err)
			}
			t.Logf("seq %d: leader moved from node %d to %d", i, from, moved)
		case 2 * n / 3:
			removed = k.Kfake().LeaderFor(topic, 0)
			if err := k.Kfake().RemoveNode(removed); err != nil {
				t.Fatalf("RemoveNode: %v", err)
			}
			t.Logf("seq %d: leader node %d removed, new leader %d", i, removed, k.Kfake().LeaderFor(topic, 0))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		err := pub.Publish(ctx, transport.Message{Channel: ch, Payload: fmt.Appendf(nil, "%d", i)})
		cancel()
		if err != nil {
			t.Fatalf("Publish %d (leader moved to %d, node %d removed): %v", i, moved, removed, err)
		}
	}
	if leader := k.Kfake().LeaderFor(topic, 0); leader == removed {
		t.Fatalf("the removed node %d still leads the partition", removed)
	}
	sub, err := open(t, k.URL(), kafka.WithFrom(kafka.FromStart)).Subscribe(ctxT(t), ch)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	for i := range n {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		m, err := sub.Next(ctx)
		cancel()
		if err != nil {
			t.Fatalf("after %d of %d messages: %v", i, n, err)
		}
		if want := fmt.Sprint(i); string(m.Payload) != want {
			t.Fatalf("message %d is %q: lost, repeated or out of order", i, m.Payload)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if m, err := sub.Next(ctx); err == nil {
		t.Fatalf("a message beyond the %d published arrived: %q", n, m.Payload)
	}
}
