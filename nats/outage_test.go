package nats_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/nats"
	"github.com/eventpub/eventpub/transport"
	natsgo "github.com/nats-io/nats.go"
)

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	brokertest.WaitFor(t, 10*time.Second, what, cond)
}

// TestOpenWhileServerDown: construction succeeds with no server, publishing
// fails fast, and the transport connects once the server is up.
func TestOpenWhileServerDown(t *testing.T) {
	srv := brokertest.StartNATS(t)
	srv.Stop()
	for _, mode := range []string{"core", "jetstream"} {
		t.Run(mode, func(t *testing.T) {
			var opts []nats.Option
			if mode == "jetstream" {
				opts = append(opts, nats.WithJetStream(nats.JetStreamConfig{}))
			}
			srv.Stop()
			start := time.Now()
			tr := open(t, srv.URL(), opts...)
			if took := time.Since(start); took > 3*time.Second {
				t.Fatalf("Open took %v with the server down", took)
			}
			err := tr.Publish(ctxT(t), transport.Message{Channel: "c", Payload: []byte("x")})
			if !errors.Is(err, transport.ErrUnavailable) {
				t.Fatalf("Publish with the server down: %v, want ErrUnavailable", err)
			}
			if _, err := tr.Subscribe(ctxT(t), "c"); !errors.Is(err, transport.ErrUnavailable) {
				t.Fatalf("Subscribe with the server down: %v, want ErrUnavailable", err)
			}
			srv.Start()
			waitFor(t, "the background connect", func() bool {
				return tr.Publish(ctxT(t), transport.Message{Channel: "c", Payload: []byte("x")}) == nil
			})
		})
	}
}

// TestReconnectBuffer: with a reconnect buffer, core publishes while down
// are kept up to the bound, then fail with ErrUnavailable; what was kept
// arrives after the reconnect.
func TestReconnectBuffer(t *testing.T) {
	srv := brokertest.StartNATS(t)
	const bufBytes = 4096
	// One connection for both: after a reconnect nats.go re-subscribes
	// before it sends the buffer (a separate subscriber might come back late).
	pub := open(t, srv.URL(), nats.WithReconnectBuffer(bufBytes))
	sub, err := pub.Subscribe(ctxT(t), "buffered")
	if err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	waitFor(t, "the disconnect", func() bool { return pub.Conn().Status() != natsgo.CONNECTED })
	kept := 0
	for ; kept < 1000; kept++ {
		err := pub.Publish(ctxT(t), transport.Message{Channel: "buffered", Payload: fmt.Appendf(nil, "%03d-%s", kept, make([]byte, 90))})
		if err != nil {
			if !errors.Is(err, transport.ErrUnavailable) || !errors.Is(err, natsgo.ErrReconnectBufExceeded) {
				t.Fatalf("Publish past the buffer: %v, want ErrUnavailable wrapping ErrReconnectBufExceeded", err)
			}
			break
		}
	}
	// Each message is about 120 bytes on the wire: the bound must bite.
	if kept == 0 || kept > bufBytes/100 {
		t.Fatalf("%d publishes kept in a %d-byte buffer", kept, bufBytes)
	}
	t.Logf("%d publishes were kept in the %d-byte reconnect buffer", kept, bufBytes)
	srv.Start()
	for i := range kept {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		m, err := sub.Next(ctx)
		cancel()
		if err != nil || string(m.Payload[:3]) != fmt.Sprintf("%03d", i) {
			t.Fatalf("buffered message %d after reconnect: %q, %v", i, m.Payload, err)
		}
	}
}

// TestFlushOption: with WithFlush, Publish returns after the server has
// handled the message. The server echoes it to a subscriber on the same
// connection before it answers the flush, so the echo is already queued
// when Publish returns.
func TestFlushOption(t *testing.T) {
	srv := brokertest.StartNATS(t)
	pub := open(t, srv.URL(), nats.WithFlush())
	echo, err := pub.Conn().SubscribeSync("flushed")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Unsubscribe()
	if err := pub.Conn().Flush(); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if err := pub.Publish(ctxT(t), transport.Message{Channel: "flushed", Payload: []byte("x")}); err != nil {
			t.Fatal(err)
		}
		if n, _, _ := echo.Pending(); n != i+1 {
			t.Fatalf("after %d flushed publishes %d echoes were queued", i+1, n)
		}
	}
	if err := pub.Ping(ctxT(t)); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// TestCloseWhileServerDown: Close does not wait for a server that is gone.
func TestCloseWhileServerDown(t *testing.T) {
	srv := brokertest.StartNATS(t)
	for _, mode := range []string{"core", "jetstream"} {
		t.Run(mode, func(t *testing.T) {
			srv.Start()
			var opts []nats.Option
			if mode == "jetstream" {
				opts = append(opts, nats.WithJetStream(nats.JetStreamConfig{}))
			}
			tr, err := nats.Open(ctxT(t), srv.URL(), opts...)
			if err != nil {
				t.Fatal(err)
			}
			sub, err := tr.Subscribe(ctxT(t), "closing")
			if err != nil {
				t.Fatal(err)
			}
			srv.Stop()
			waitFor(t, "the disconnect", func() bool { return tr.Conn().Status() != natsgo.CONNECTED })
			start := time.Now()
			if err := tr.Close(); err != nil {
				t.Fatalf("Close while the server is down: %v", err)
			}
			// nats.go's ordered consumer, resetting while the connection is
			// down, holds its lock through a 1 s backoff before it sees the
			// stop; Close waits for that once the connection is closed.
			if took := time.Since(start); took > 3*time.Second {
				t.Fatalf("Close while the server is down took %v", took)
			}
			if _, err := sub.Next(ctxT(t)); !errors.Is(err, transport.ErrClosed) {
				t.Fatalf("Next after Close: %v, want ErrClosed", err)
			}
		})
	}
}
