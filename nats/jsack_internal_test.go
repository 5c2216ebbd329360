package nats

import (
	"errors"
	"testing"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

func TestParseReply(t *testing.T) {
	const p = "_INBOX.abc."
	for _, c := range []struct {
		subj   string
		id     uint64
		idx    int
		wantOK bool
	}{
		{p + "12.034", 12, 34, true},
		{p + "1.0", 1, 0, true},
		{p + "12", 0, 0, false},
		{p + "12.", 0, 0, false},
		{p + ".3", 0, 0, false},
		{p + "1a.2", 0, 0, false},
		{p + "1.2.3", 0, 0, false},
		{p, 0, 0, false},
		{p + "18446744073709551617.0", 0, 0, false}, // would wrap to batch 1
		{p + "1.3000000000", 0, 0, false},           // would wrap a 32-bit int
		{p + "1.1073741824", 1, 1 << 30, true},
	} {
		id, idx, ok := parseReply(c.subj, len(p))
		if ok != c.wantOK || ok && (id != c.id || idx != c.idx) {
			t.Errorf("parseReply(%q) = %d, %d, %v; want %d, %d, %v", c.subj, id, idx, ok, c.id, c.idx, c.wantOK)
		}
	}
}

// TestOnAckTakesOnlyAwaitedSlots: an ack for a message that was not sent
// (its slot given back) or whose ack is in already changes nothing, so a
// stray ack on the inbox cannot settle a batch early.
func TestOnAckTakesOnlyAwaitedSlots(t *testing.T) {
	tr := &Transport{}
	a := &tr.acks
	a.prefix = "P."
	b := &jsBatch{id: 1, acks: []error{ackAwaited, nil}, left: 1, done: make(chan struct{})}
	a.batches = map[uint64]*jsBatch{1: b}
	a.pending = 1
	ack := func(subj string) { tr.onAck(&natsgo.Msg{Subject: subj, Data: []byte(`{"stream":"S","seq":1}`)}) }

	ack("P.1.1") // message 1 was not sent
	if b.left != 1 || a.pending != 1 || b.acks[1] != nil {
		t.Fatalf("an ack for a message not sent was taken: left %d, pending %d, slot %v", b.left, a.pending, b.acks[1])
	}
	ack("P.1.0")
	if b.left != 0 || a.pending != 0 || b.acks[0] != ackOK {
		t.Fatalf("the awaited ack: left %d, pending %d, slot %v", b.left, a.pending, b.acks[0])
	}
	select {
	case <-b.done:
	default:
		t.Fatal("the batch is not done once its one awaited ack came")
	}
	ack("P.1.0") // a second copy: the batch is gone
	if a.pending != 0 {
		t.Fatalf("a second ack changed pending to %d", a.pending)
	}
}

// TestAckErr: a positive ack (a duplicate too) is ackOK without decoding;
// the rest give the errors nats.go's PublishAsync gives.
func TestAckErr(t *testing.T) {
	msg := func(data string) *natsgo.Msg { return &natsgo.Msg{Data: []byte(data)} }
	noResponders := &natsgo.Msg{Header: natsgo.Header{"Status": []string{"503"}}}
	for _, c := range []struct {
		m    *natsgo.Msg
		want error
	}{
		{msg(`{"stream":"S","seq":7}`), ackOK},
		{msg(`{"stream":"S","domain":"hub","seq":7,"duplicate":true}`), ackOK},
		{msg(`{"seq":7,"stream":"S"}`), ackOK},
		{msg(`{"stream":"","seq":7}`), jetstream.ErrInvalidJSAck},
		{msg(`{"seq":7}`), jetstream.ErrInvalidJSAck},
		{msg(`not json`), jetstream.ErrInvalidJSAck},
		{msg(``), jetstream.ErrInvalidJSAck},
		{noResponders, jetstream.ErrNoStreamResponse},
	} {
		if got := ackErr(c.m); got != c.want {
			t.Errorf("ackErr(%q) = %v, want %v", c.m.Data, got, c.want)
		}
	}
	got := ackErr(msg(`{"error":{"code":400,"err_code":10071,"description":"wrong last sequence: 3"},"stream":"S","seq":0}`))
	var apiErr *jetstream.APIError
	if !errors.As(got, &apiErr) || apiErr.Code != 400 || apiErr.ErrorCode != 10071 {
		t.Errorf("ackErr of a refusal = %#v, want the APIError", got)
	}
}

// TestDefaultsLeaveTheCallersJetStreamConfig: filling in defaults gives
// the transport a JetStreamConfig of its own, so that one WithJetStream
// option or WithConfig used for several transports is not written to
// while another reads it (a data race when a second Open ran beside a
// first one publishing).
func TestDefaultsLeaveTheCallersJetStreamConfig(t *testing.T) {
	shared := &JetStreamConfig{Stream: "S"}
	opt := WithJetStream(JetStreamConfig{Stream: "S"})
	var a, b, c Config
	opt(&a)
	opt(&b)
	WithConfig(Config{JetStream: shared})(&c)
	a.setDefaults()
	c.setDefaults()
	if a.JetStream.MaxPending != DefaultMaxPending || c.JetStream.MaxPending != DefaultMaxPending {
		t.Fatalf("defaults not filled in: %+v, %+v", *a.JetStream, *c.JetStream)
	}
	if b.JetStream.MaxPending != 0 || shared.MaxPending != 0 || shared.MaxAge != 0 {
		t.Fatalf("filling in one transport's defaults changed the option's or caller's JetStreamConfig: %+v, %+v", *b.JetStream, *shared)
	}
}
