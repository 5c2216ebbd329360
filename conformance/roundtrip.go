package conformance

import (
	"fmt"
	"testing"

	"github.com/eventpub/eventpub/transport"
)

// largestSent caps the "largest payload" check so a driver with a huge
// limit (Redis allows 512 MiB) does not make the suite slow.
const largestSent = 8 << 20

// testRoundTrip sends payloads of unusual shapes and sizes and checks the
// exact bytes arrive on the right channel.
func (s suite) testRoundTrip(t *testing.T) {
	largest := 1 << 20
	if max := s.caps(t).MaxPayload; max > 0 {
		largest = min(max, largestSent)
	}
	cases := []struct {
		name    string
		payload []byte
	}{
		{"Empty", []byte{}},
		{"Binary", []byte{0x00, 0xff, 0xfe, 0x80, 0xc3, 0x28, '\r', '\n', 0x00, 0x7f, 0xed, 0xa0, 0x80}},
		{"Text", []byte(`{"type":"job_done","data":{"ok":true,"name":"été 日本"}}`)},
		{"64KiB", randomBytes(64 << 10)},
		{fmt.Sprintf("Largest_%d", largest), randomBytes(largest)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pub, subT := s.open(t), s.open(t)
			ch := channelBase()
			sub := subscribe(t, subT, ch)
			publish(t, pub, ch, c.payload)
			expect(t, sub, ch, c.payload)
		})
	}
}

// testPayloadCopied checks Publish does not keep the caller's buffer.
func (s suite) testPayloadCopied(t *testing.T) {
	tr := s.open(t)
	ch := channelBase()
	sub := subscribe(t, tr, ch)
	buf := []byte("first message")
	publish(t, tr, ch, buf)
	copy(buf, "XXXXXXXXXXXXX")
	publish(t, tr, ch, buf)
	expect(t, sub, ch, []byte("first message"))
	expect(t, sub, ch, []byte("XXXXXXXXXXXXX"))
}

// testIsolation checks a subscription receives only its own channel, even
// from channels whose names extend or share a prefix with it.
func (s suite) testIsolation(t *testing.T) {
	pub, subT := s.open(t), s.open(t)
	ch := channelBase()
	sub := subscribe(t, subT, ch+":mine")
	for _, other := range []string{ch + ":other", ch + ":mine:more", ch + ":min", ch} {
		publish(t, pub, other, []byte("not for you: "+other))
	}
	publish(t, pub, ch+":mine", []byte("marker"))
	expect(t, sub, ch+":mine", []byte("marker"))
}

// testFanOut checks every subscription of a channel, on any transport,
// receives each message.
func (s suite) testFanOut(t *testing.T) {
	pub, a, b := s.open(t), s.open(t), s.open(t)
	ch := channelBase()
	subs := []transport.Subscription{
		subscribe(t, a, ch), subscribe(t, a, ch), subscribe(t, b, ch), subscribe(t, pub, ch),
	}
	publish(t, pub, ch, []byte("one"))
	publish(t, pub, ch, []byte("two"))
	for i, sub := range subs {
		got := map[string]bool{}
		for range 2 {
			m := receive(t, sub)
			if m.Channel != ch {
				t.Fatalf("subscriber %d: message on %q, want %q", i, m.Channel, ch)
			}
			got[string(m.Payload)] = true
		}
		if !got["one"] || !got["two"] {
			t.Fatalf("subscriber %d received %v, want one and two", i, got)
		}
	}
}

// testMultiChannel checks one subscription on several channels tags each
// message with the channel it was published on.
func (s suite) testMultiChannel(t *testing.T) {
	pub, subT := s.open(t), s.open(t)
	base := channelBase()
	chans := []string{base + ":a", base + ":b", base + ":c"}
	sub := subscribe(t, subT, chans...)
	for _, ch := range chans {
		publish(t, pub, ch, []byte(ch))
	}
	seen := map[string]bool{}
	for range chans {
		m := receive(t, sub)
		if m.Channel != string(m.Payload) {
			t.Fatalf("message %q arrived tagged with channel %q", m.Payload, m.Channel)
		}
		if seen[m.Channel] {
			t.Fatalf("message on %q arrived twice", m.Channel)
		}
		seen[m.Channel] = true
	}
}

// testChannelNames checks unusual but valid names round-trip.
func (s suite) testChannelNames(t *testing.T) {
	base := channelBase()
	names := []struct{ name, channel string }{
		{"Colons", base + ":codeworm:events"},
		{"Dots", base + ".codeworm.events"},
		{"Unicode", base + ":événements-日本語-ü"},
		{"Dashes", base + "_under-score-dash"},
	}
	for _, n := range names {
		name, ch := n.name, n.channel
		t.Run(name, func(t *testing.T) {
			pub, subT := s.open(t), s.open(t)
			sub := subscribe(t, subT, ch)
			publish(t, pub, ch, []byte(name))
			expect(t, sub, ch, []byte(name))
		})
	}
}

// testOrder checks one publisher's messages arrive in order.
func (s suite) testOrder(t *testing.T) {
	if !s.caps(t).Ordered {
		t.Skip("Capabilities.Ordered is false: the driver does not promise order")
	}
	pub, subT := s.open(t), s.open(t)
	ch := channelBase()
	sub := subscribe(t, subT, ch)
	const n = 500
	for i := range n {
		publish(t, pub, ch, fmt.Appendf(nil, "%d", i))
	}
	for i := range n {
		expect(t, sub, ch, fmt.Appendf(nil, "%d", i))
	}
}

// testHeaders checks Message.Header round-trips.
func (s suite) testHeaders(t *testing.T) {
	if !s.caps(t).Headers {
		t.Skip("Capabilities.Headers is false: the driver does not carry headers")
	}
	pub, subT := s.open(t), s.open(t)
	ch := channelBase()
	sub := subscribe(t, subT, ch)
	want := map[string]string{"X-Eventpub-Test": "value 1", "X-Eventpub-Unicode": "été"}
	hdr := map[string]string{}
	for k, v := range want {
		hdr[k] = v
	}
	msg := transport.Message{Channel: ch, Payload: []byte("with headers"), Header: hdr}
	if err := pub.Publish(callCtx(t), msg); err != nil {
		t.Fatalf("Publish with headers: %v", err)
	}
	hdr["X-Eventpub-Test"] = "changed after Publish"
	m := expect(t, sub, ch, []byte("with headers"))
	for k, v := range want {
		if got, ok := m.Header[k]; !ok || got != v {
			t.Errorf("header %q = %q (present %v), want %q; all headers: %v", k, got, ok, v, m.Header)
		}
	}
}

// testPersistence checks a subscriber reads what was published before it
// subscribed.
func (s suite) testPersistence(t *testing.T) {
	caps := s.caps(t)
	if !caps.Persistent {
		t.Skip("Capabilities.Persistent is false: messages are not kept for later subscribers")
	}
	pub, subT := s.open(t), s.open(t)
	ch := channelBase()
	for i := range 3 {
		publish(t, pub, ch, fmt.Appendf(nil, "kept %d", i))
	}
	sub := subscribe(t, subT, ch)
	got := map[string]bool{}
	for i := range 3 {
		m := receive(t, sub)
		if m.Channel != ch {
			t.Fatalf("kept message on %q, want %q", m.Channel, ch)
		}
		if want := fmt.Sprintf("kept %d", i); caps.Ordered && string(m.Payload) != want {
			t.Fatalf("kept message %d is %q, want %q", i, m.Payload, want)
		}
		got[string(m.Payload)] = true
	}
	if len(got) != 3 {
		t.Fatalf("received %v, want 3 distinct kept messages", got)
	}
	publish(t, pub, ch, []byte("live"))
	expect(t, sub, ch, []byte("live"))
}

// testBatch checks PublishBatch delivers every message, in order when the
// driver is Ordered.
func (s suite) testBatch(t *testing.T) {
	pub := s.open(t)
	bp, ok := pub.(transport.BatchPublisher)
	if !ok {
		t.Skip("the transport does not implement transport.BatchPublisher")
	}
	ordered := pub.Capabilities().Ordered
	subT := s.open(t)
	base := channelBase()
	chans := []string{base + ":a", base + ":b"}
	sub := subscribe(t, subT, chans...)
	const n = 100
	batch := make([]transport.Message, n)
	for i := range batch {
		batch[i] = transport.Message{Channel: chans[i%2], Payload: fmt.Appendf(nil, "%s#%d", chans[i%2], i)}
	}
	if err := bp.PublishBatch(callCtx(t), batch); err != nil {
		t.Fatalf("PublishBatch of %d: %v", n, err)
	}
	next := map[string]int{chans[0]: 0, chans[1]: 1} // next index expected per channel
	seen := map[string]bool{}
	for range n {
		m := receive(t, sub)
		p := string(m.Payload)
		if seen[p] {
			t.Fatalf("batch message %q arrived twice", p)
		}
		seen[p] = true
		want, known := next[m.Channel]
		if !known {
			t.Fatalf("batch message on unexpected channel %q", m.Channel)
		}
		if ordered {
			if w := fmt.Sprintf("%s#%d", m.Channel, want); p != w {
				t.Fatalf("batch out of order: got %q, want %q", p, w)
			}
			next[m.Channel] = want + 2
		}
	}
	if err := bp.PublishBatch(callCtx(t), nil); err != nil {
		t.Fatalf("PublishBatch of no messages: %v", err)
	}
}
