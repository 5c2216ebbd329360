package mqtt_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/eventpub/eventpub/mqtt"
	"github.com/eventpub/eventpub/transport"
)

// TestSubscribePattern checks '+' and '#' filters, that ':' is part of a
// level, and that each message carries the topic it was published on.
func TestSubscribePattern(t *testing.T) {
	url := brokerURL(t)
	pub, subT := open(t, url), open(t, url)
	base := unique("pattern")
	plus, err := subT.SubscribePattern(ctxT(t), base+"/+/logs")
	if err != nil {
		t.Fatal(err)
	}
	defer plus.Close()
	hash, err := subT.SubscribePattern(ctxT(t), base+"/#")
	if err != nil {
		t.Fatal(err)
	}
	defer hash.Close()
	for _, ch := range []string{base + "/a/logs", base + "/a/b/logs", base + "/codeworm:logs", base} {
		if err := pub.Publish(ctxT(t), transport.Message{Channel: ch, Payload: []byte(ch)}); err != nil {
			t.Fatal(err)
		}
	}
	// "+" takes one level: only base/a/logs.
	expectMsg(t, plus, base+"/a/logs", base+"/a/logs")
	// "#" takes every level below base, and base itself.
	for _, ch := range []string{base + "/a/logs", base + "/a/b/logs", base + "/codeworm:logs", base} {
		expectMsg(t, hash, ch, ch)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if m, err := plus.Next(ctx); err == nil {
		t.Fatalf("the '+' filter also received %q on %q", m.Payload, m.Channel)
	}
}

// TestOverlappingFiltersDeliverOnce checks that two subscriptions of one
// transport whose filters overlap each get a message once.
func TestOverlappingFiltersDeliverOnce(t *testing.T) {
	url := brokerURL(t)
	tr := open(t, url)
	base := unique("overlap")
	exact, err := tr.Subscribe(ctxT(t), base+"/x")
	if err != nil {
		t.Fatal(err)
	}
	defer exact.Close()
	wild, err := tr.SubscribePattern(ctxT(t), base+"/#", base+"/+")
	if err != nil {
		t.Fatal(err)
	}
	defer wild.Close()
	for _, p := range []string{"one", "two"} {
		if err := tr.Publish(ctxT(t), transport.Message{Channel: base + "/x", Payload: []byte(p)}); err != nil {
			t.Fatal(err)
		}
	}
	expectMsg(t, exact, base+"/x", "one")
	expectMsg(t, exact, base+"/x", "two")
	got := map[string]int{}
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		m, err := wild.Next(ctx)
		cancel()
		if err != nil {
			break
		}
		got[string(m.Payload)]++
	}
	// The wildcard subscription has two filters matching the topic; the
	// server may send a copy for each, so it sees each message once or
	// twice, but never a copy meant for the exact subscription.
	for _, p := range []string{"one", "two"} {
		if got[p] < 1 || got[p] > 2 {
			t.Fatalf("wildcard subscription got %v, want each message once or twice", got)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if m, err := exact.Next(ctx); err == nil {
		t.Fatalf("the exact subscription got an extra copy %q", m.Payload)
	}
	t.Logf("copies per message on the two-filter subscription: %v", got)
}

// TestTopicRules checks what publish and subscribe refuse.
func TestTopicRules(t *testing.T) {
	tr := open(t, brokerURL(t))
	for _, ch := range []string{"a/+", "#", "x#", "$SYS/broker", "nul\x00", "bad\xffutf8", ""} {
		err := tr.Publish(ctxT(t), transport.Message{Channel: ch, Payload: []byte("x")})
		if !errors.Is(err, transport.ErrInvalidChannel) {
			t.Errorf("Publish on %q: %v, want ErrInvalidChannel", ch, err)
		}
		if sub, err := tr.Subscribe(ctxT(t), ch); !errors.Is(err, transport.ErrInvalidChannel) {
			if sub != nil {
				sub.Close()
			}
			t.Errorf("Subscribe to %q: %v, want ErrInvalidChannel", ch, err)
		}
	}
	for _, f := range []string{"a/#/b", "a#", "a/b+", "+a", "$share/g"} {
		if sub, err := tr.SubscribePattern(ctxT(t), f); !errors.Is(err, transport.ErrInvalidChannel) {
			if sub != nil {
				sub.Close()
			}
			t.Errorf("SubscribePattern(%q): %v, want ErrInvalidChannel", f, err)
		}
	}
	// Valid as-is: colons, dots, spaces and slashes.
	base := unique("rules")
	sub, err := tr.Subscribe(ctxT(t), base+"/codeworm:logs", base+" with space.dot")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	for _, ch := range []string{base + "/codeworm:logs", base + " with space.dot"} {
		if err := tr.Publish(ctxT(t), transport.Message{Channel: ch, Payload: []byte(ch)}); err != nil {
			t.Fatal(err)
		}
		expectMsg(t, sub, ch, ch)
	}
}

// TestPersistentSession checks clean=false: messages published while the
// session's client is away arrive when it comes back.
func TestPersistentSession(t *testing.T) {
	url := brokerURL(t)
	id := unique("eventpub-test-session")
	ch := unique("kept")
	first := open(t, url, mqtt.WithPersistentSession(id, time.Minute))
	sub, err := first.Subscribe(ctxT(t), ch)
	if err != nil {
		t.Fatal(err)
	}
	_ = sub.Close // the session keeps the subscription on the server
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	pub := open(t, url)
	for _, p := range []string{"while away 1", "while away 2"} {
		if err := pub.Publish(ctxT(t), transport.Message{Channel: ch, Payload: []byte(p)}); err != nil {
			t.Fatal(err)
		}
	}
	// The same client id with clean=false resumes the session; its
	// subscription for ch gets what was queued.
	second := open(t, url+"?client_id="+id+"&clean=false&session_expiry=1s")
	back, err := second.Subscribe(ctxT(t), ch)
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	expectMsg(t, back, ch, "while away 1")
	expectMsg(t, back, ch, "while away 2")
}

// TestSlowReaderLosesNothing checks a QoS 1 subscription that is not read
// while 3000 messages arrive gets them all, in order, once read: past its
// buffer, delivery waits, and the client's Receive Maximum keeps the
// server (Mosquitto: 20 in flight, 1000 queued by default) from dropping.
func TestSlowReaderLosesNothing(t *testing.T) {
	url := brokerURL(t)
	pub, subT := open(t, url), open(t, url, mqtt.WithSubscriptionBuffer(10))
	ch := unique("slow")
	sub, err := subT.Subscribe(ctxT(t), ch)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	const n = 3000
	batch := make([]transport.Message, 250)
	for i := 0; i < n; i += len(batch) {
		for j := range batch {
			batch[j] = transport.Message{Channel: ch, Payload: []byte(strconv.Itoa(i + j))}
		}
		if err := pub.PublishBatch(ctxT(t), batch); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(500 * time.Millisecond) // the reader is away
	for i := range n {
		expectMsg(t, sub, ch, strconv.Itoa(i))
	}
}
