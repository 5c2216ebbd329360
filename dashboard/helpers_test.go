package dashboard

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/eventpub/eventpub/memory"
	"github.com/eventpub/eventpub/transport"
)

// harness is a started relay over a transport, behind an httptest server.
type harness struct {
	relay *Relay
	srv   *httptest.Server
	t     transport.Transport
}

// startRelay starts a relay over tr and an HTTP server for it; both are
// closed when the test ends (the transport too).
func startRelay(t testing.TB, tr transport.Transport, opts ...Option) *harness {
	t.Helper()
	r, err := New(tr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("the relay did not subscribe within 10s")
	}
	srv := httptest.NewServer(r)
	t.Cleanup(func() {
		_ = r.Close()
		srv.Close()
		_ = tr.Close()
	})
	return &harness{relay: r, srv: srv, t: tr}
}

// startMemory starts a relay over a fresh memory broker.
func startMemory(t testing.TB, opts ...Option) (*harness, *memory.Broker) {
	t.Helper()
	b := memory.NewBroker()
	return startRelay(t, b.Connect(), opts...), b
}

func (h *harness) wsURL(path string) string {
	return "ws" + strings.TrimPrefix(h.srv.URL, "http") + path
}

// wsClient is a test WebSocket client.
type wsClient struct {
	t    testing.TB
	conn *websocket.Conn
}

// dial connects to path and waits until the relay has registered the client.
func (h *harness) dial(t testing.TB, path string, hdr http.Header) *wsClient {
	t.Helper()
	before := h.relay.Stats().Clients
	c := h.dialNoWait(t, path, hdr)
	waitFor(t, "the relay to register the client", func() bool { return h.relay.Stats().Clients > before })
	return c
}

func (h *harness) dialNoWait(t testing.TB, path string, hdr http.Header) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, h.wsURL(path), &websocket.DialOptions{HTTPHeader: hdr})
	if err != nil {
		t.Fatalf("dial %s: %v", path, err)
	}
	conn.SetReadLimit(64 << 20)
	t.Cleanup(func() { _ = conn.CloseNow() })
	return &wsClient{t: t, conn: conn}
}

// next returns the next frame that is not a broker-state frame.
func (c *wsClient) next() string {
	c.t.Helper()
	for {
		f := c.raw()
		if !strings.HasPrefix(f, `{"type":"broker"`) {
			return f
		}
	}
}

// raw returns the next frame, whatever it is.
func (c *wsClient) raw() string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	typ, data, err := c.conn.Read(ctx)
	if err != nil {
		c.t.Fatalf("read a frame: %v", err)
	}
	if typ != websocket.MessageText {
		c.t.Fatalf("frame of type %v, want text", typ)
	}
	return string(data)
}

func (c *wsClient) send(text string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.conn.Write(ctx, websocket.MessageText, []byte(text)); err != nil {
		c.t.Fatalf("send %q: %v", text, err)
	}
}

// publish sends payload on channel through tr.
func publish(t testing.TB, tr transport.Transport, channel, payload string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := tr.Publish(ctx, transport.Message{Channel: channel, Payload: []byte(payload)}); err != nil {
		t.Fatalf("publish on %s: %v", channel, err)
	}
}

// frame is the frame CodeWorm's relay sends for a JSON payload it writes
// back unchanged.
func frame(channel, data string) string {
	return `{"channel":"` + channel + `","data":` + data + `}`
}

// waitFor polls cond for up to 10 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// mustJSON checks that s is valid JSON.
func mustJSON(t testing.TB, s string) {
	t.Helper()
	if !json.Valid([]byte(s)) {
		t.Fatalf("frame is not valid JSON: %s", s)
	}
}
