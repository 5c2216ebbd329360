package nats_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/nats"
	"github.com/eventpub/eventpub/transport"
	"github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"
)

func rawConn(t testing.TB, url string) *natsgo.Conn {
	t.Helper()
	nc, err := natsgo.Connect(url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func TestPayloadTooLargeBeforeSending(t *testing.T) {
	srv := brokertest.StartNATS(t, func(o *server.Options) { o.MaxPayload = 1024 })
	tr := open(t, srv.URL())
	if got := tr.Capabilities().MaxPayload; got != 1024 {
		t.Fatalf("MaxPayload = %d, want the server's 1024", got)
	}
	before := tr.Conn().Stats().OutMsgs
	err := tr.Publish(ctxT(t), transport.Message{Channel: "big", Payload: make([]byte, 1025)})
	if !errors.Is(err, transport.ErrPayloadTooLarge) || !strings.Contains(err.Error(), "1024") {
		t.Fatalf("Publish of 1025 bytes: %v, want ErrPayloadTooLarge naming the limit", err)
	}
	err = tr.PublishBatch(ctxT(t), []transport.Message{{Channel: "big", Payload: make([]byte, 2000)}})
	var be *transport.BatchError
	if !errors.As(err, &be) || be.Sent != 0 || !errors.Is(err, transport.ErrPayloadTooLarge) {
		t.Fatalf("PublishBatch of 2000 bytes: %v, want BatchError{Sent:0} with ErrPayloadTooLarge", err)
	}
	if after := tr.Conn().Stats().OutMsgs; after != before {
		t.Fatalf("%d messages went out for refused payloads", after-before)
	}
	if err := tr.Publish(ctxT(t), transport.Message{Channel: "big", Payload: make([]byte, 1024)}); err != nil {
		t.Fatalf("Publish of exactly max_payload: %v", err)
	}
}

func TestCallerConnNotClosed(t *testing.T) {
	srv := brokertest.StartNATS(t)
	nc := rawConn(t, srv.URL())
	// nats.go keeps one shared subscription for replies to requests; make
	// it exist first so the count below is the driver's alone.
	if _, err := nc.Request("$JS.API.INFO", nil, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	baseline := nc.NumSubscriptions()
	for _, opts := range [][]nats.Option{nil, {nats.WithJetStream(nats.JetStreamConfig{})}} {
		tr, err := nats.New(nc, opts...)
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		sub, err := tr.Subscribe(ctxT(t), "owned")
		if err != nil {
			t.Fatalf("Subscribe: %v", err)
		}
		if err := tr.Publish(ctxT(t), transport.Message{Channel: "owned", Payload: []byte("x")}); err != nil {
			t.Fatalf("Publish: %v", err)
		}
		if err := tr.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if _, err := sub.Next(ctxT(t)); !errors.Is(err, transport.ErrClosed) {
			t.Fatalf("Next after Close: %v, want ErrClosed", err)
		}
		if nc.IsClosed() || !nc.IsConnected() {
			t.Fatalf("Close closed the caller's connection (status %v)", nc.Status())
		}
		if n := nc.NumSubscriptions() - baseline; n != 0 {
			t.Fatalf("Close left %d subscriptions on the caller's connection (options %d)", n, len(opts))
		}
	}
	if _, err := nats.New(nil); err == nil {
		t.Fatal("New(nil) succeeded")
	}
}

func TestChannelKeptAsSubject(t *testing.T) {
	srv := brokertest.StartNATS(t)
	nc := rawConn(t, srv.URL())
	raw, err := nc.SubscribeSync("codeworm:events")
	if err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	tr := open(t, srv.URL())
	if err := tr.Publish(ctxT(t), transport.Message{Channel: "codeworm:events", Payload: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	m, err := raw.NextMsg(5 * time.Second)
	if err != nil || string(m.Data) != "x" {
		t.Fatalf("a plain NATS client on subject codeworm:events got %v, %v", m, err)
	}
}

func TestColonToDotPattern(t *testing.T) {
	srv := brokertest.StartNATS(t)
	for _, mode := range []string{"core", "jetstream"} {
		t.Run(mode, func(t *testing.T) {
			opts := []nats.Option{nats.WithSubjectMapping(nats.ColonToDot)}
			if mode == "jetstream" {
				opts = append(opts, nats.WithJetStream(nats.JetStreamConfig{Stream: "DOTS", Subjects: []string{"app.>"}}))
			}
			tr := open(t, srv.URL(), opts...)
			sub, err := tr.SubscribePattern(ctxT(t), "app:>")
			if err != nil {
				t.Fatalf("SubscribePattern: %v", err)
			}
			defer sub.Close()
			for _, ch := range []string{"app:events", "app:logs:debug"} {
				if err := tr.Publish(ctxT(t), transport.Message{Channel: ch, Payload: []byte(ch)}); err != nil {
					t.Fatalf("Publish %s: %v", ch, err)
				}
				m, err := sub.Next(ctxT(t))
				if err != nil || m.Channel != ch || string(m.Payload) != ch {
					t.Fatalf("pattern subscriber got %q on %q (%v), want channel %q", m.Payload, m.Channel, err, ch)
				}
			}
		})
	}
}

func TestHeadersAndMessageID(t *testing.T) {
	srv := brokertest.StartNATS(t)
	nc := rawConn(t, srv.URL())
	raw, err := nc.SubscribeSync("hdr")
	if err != nil {
		t.Fatal(err)
	}
	_ = nc.Flush()
	tr := open(t, srv.URL())
	sub, err := tr.Subscribe(ctxT(t), "hdr")
	if err != nil {
		t.Fatal(err)
	}
	hdr := map[string]string{transport.HeaderMessageID: "id-1", "Trace": "abc"}
	if err := tr.Publish(ctxT(t), transport.Message{Channel: "hdr", Payload: []byte("p"), Header: hdr}); err != nil {
		t.Fatal(err)
	}
	m, err := raw.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Header.Get(nats.HeaderNatsMsgID); got != "id-1" {
		t.Fatalf("on the wire Nats-Msg-Id = %q, want id-1 (headers %v)", got, m.Header)
	}
	got, err := sub.Next(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	if got.Header[transport.HeaderMessageID] != "id-1" || got.Header["Trace"] != "abc" || len(got.Header) != 2 {
		t.Fatalf("received header %v, want %v", got.Header, hdr)
	}
}

func TestJetStreamDedupByMessageID(t *testing.T) {
	for _, tg := range targets(t) {
		t.Run(tg.name, func(t *testing.T) {
			stream := streamName(t, tg.url)
			tr := open(t, tg.url, nats.WithJetStream(nats.JetStreamConfig{Stream: stream}))
			ch := "dedup-" + unique()
			batch := []transport.Message{
				{Channel: ch, Payload: []byte("first"), Header: map[string]string{transport.HeaderMessageID: "m1"}},
				{Channel: ch, Payload: []byte("again"), Header: map[string]string{transport.HeaderMessageID: "m1"}},
				{Channel: ch, Payload: []byte("second"), Header: map[string]string{transport.HeaderMessageID: "m2"}},
			}
			for _, m := range batch {
				if err := tr.Publish(ctxT(t), m); err != nil {
					t.Fatalf("Publish: %v", err)
				}
			}
			if err := tr.PublishBatch(ctxT(t), batch); err != nil {
				t.Fatalf("PublishBatch: %v", err)
			}
			sub, err := tr.Subscribe(ctxT(t), ch)
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			for _, want := range []string{"first", "second"} {
				m, err := sub.Next(ctxT(t))
				if err != nil || string(m.Payload) != want {
					t.Fatalf("got %q (%v), want %q", m.Payload, err, want)
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			if m, err := sub.Next(ctx); err == nil {
				t.Fatalf("a duplicate was stored: %q", m.Payload)
			}
		})
	}
}

func TestJetStreamStartNewAndReplay(t *testing.T) {
	srv := brokertest.StartNATS(t)
	tr := open(t, srv.URL(), nats.WithJetStream(nats.JetStreamConfig{Start: nats.StartNew}))
	if tr.Capabilities().Persistent {
		t.Fatal("StartNew transport claims Persistent")
	}
	ch := "replay-" + unique()
	if err := tr.Publish(ctxT(t), transport.Message{Channel: ch, Payload: []byte("old")}); err != nil {
		t.Fatal(err)
	}
	fresh, err := tr.Subscribe(ctxT(t), ch)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	replay, err := tr.SubscribeFrom(ctxT(t), nats.StartAll, ch)
	if err != nil {
		t.Fatal(err)
	}
	defer replay.Close()
	if err := tr.Publish(ctxT(t), transport.Message{Channel: ch, Payload: []byte("new")}); err != nil {
		t.Fatal(err)
	}
	if m, err := fresh.Next(ctxT(t)); err != nil || string(m.Payload) != "new" {
		t.Fatalf("StartNew subscriber got %q (%v), want new", m.Payload, err)
	}
	for _, want := range []string{"old", "new"} {
		if m, err := replay.Next(ctxT(t)); err != nil || string(m.Payload) != want {
			t.Fatalf("StartAll subscriber got %q (%v), want %q", m.Payload, err, want)
		}
	}
	core := open(t, srv.URL())
	if _, err := core.SubscribeFrom(ctxT(t), nats.StartAll, ch); err == nil {
		t.Fatal("core SubscribeFrom(StartAll) succeeded")
	}
}

func TestJetStreamStreamDefaultsAndExisting(t *testing.T) {
	srv := brokertest.StartNATS(t)
	tr := open(t, srv.URL(), nats.WithJetStream(nats.JetStreamConfig{Stream: "DEF", Subjects: []string{"def.>"}}))
	nc := rawConn(t, srv.URL())
	js, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	info, err := js.StreamInfo("DEF")
	if err != nil {
		t.Fatalf("stream not created at start-up: %v", err)
	}
	c := info.Config
	if c.MaxAge != 24*time.Hour || c.MaxBytes != 1<<30 || c.Replicas != 1 || c.Retention != natsgo.LimitsPolicy ||
		c.Storage != natsgo.FileStorage || len(c.Subjects) != 1 || c.Subjects[0] != "def.>" {
		t.Fatalf("stream config %+v, want the documented defaults", c)
	}
	// A new channel outside the stream's subjects is added; settings stay.
	if err := tr.Publish(ctxT(t), transport.Message{Channel: "other:chan", Payload: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	// A second transport with other settings keeps the existing stream's.
	tr2 := open(t, srv.URL(), nats.WithJetStream(nats.JetStreamConfig{Stream: "DEF", MaxAge: time.Minute, Subjects: []string{"def.x", "more"}}))
	if err := tr2.Publish(ctxT(t), transport.Message{Channel: "more", Payload: []byte("y")}); err != nil {
		t.Fatal(err)
	}
	info, err = js.StreamInfo("DEF")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(info.Config.Subjects, " "); got != "def.> other:chan more" || info.Config.MaxAge != 24*time.Hour {
		t.Fatalf("subjects %q, max age %v: want def.> other:chan more and the first transport's 24h", got, info.Config.MaxAge)
	}
	fixed := open(t, srv.URL(), nats.WithJetStream(nats.JetStreamConfig{Stream: "DEF", FixedSubjects: true}))
	err = fixed.Publish(ctxT(t), transport.Message{Channel: "nowhere", Payload: []byte("z")})
	if !errors.Is(err, transport.ErrInvalidChannel) {
		t.Fatalf("FixedSubjects publish outside the stream: %v, want ErrInvalidChannel", err)
	}
}

func TestBatchErrorCountsSent(t *testing.T) {
	srv := brokertest.StartNATS(t)
	for _, mode := range []string{"core", "jetstream"} {
		t.Run(mode, func(t *testing.T) {
			var opts []nats.Option
			if mode == "jetstream" {
				opts = append(opts, nats.WithJetStream(nats.JetStreamConfig{}))
			}
			tr := open(t, srv.URL(), opts...)
			ch := "batch-" + unique()
			sub, err := tr.Subscribe(ctxT(t), ch)
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			batch := []transport.Message{{Channel: ch, Payload: []byte("0")}, {Channel: ch, Payload: []byte("1")},
				{Channel: "bad channel", Payload: []byte("2")}, {Channel: ch, Payload: []byte("3")}}
			err = tr.PublishBatch(ctxT(t), batch)
			var be *transport.BatchError
			if !errors.As(err, &be) || be.Sent != 2 || !errors.Is(err, transport.ErrInvalidChannel) {
				t.Fatalf("PublishBatch: %v, want BatchError{Sent: 2} with ErrInvalidChannel", err)
			}
			for i := range 2 {
				if m, err := sub.Next(ctxT(t)); err != nil || string(m.Payload) != fmt.Sprint(i) {
					t.Fatalf("message %d: %q, %v", i, m.Payload, err)
				}
			}
		})
	}
}

func TestJetStreamModeWithoutJetStream(t *testing.T) {
	srv := brokertest.StartNATS(t, func(o *server.Options) { o.JetStream = false })
	tr := open(t, srv.URL(), nats.WithJetStream(nats.JetStreamConfig{}))
	err := tr.Publish(ctxT(t), transport.Message{Channel: "c", Payload: []byte("x")})
	if !errors.Is(err, transport.ErrUnavailable) || !strings.Contains(err.Error(), "JetStream enabled") {
		t.Fatalf("Publish in JetStream mode on a server without it: %v, want ErrUnavailable asking whether JetStream is enabled", err)
	}
}
