package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/eventpub/eventpub/transport"
)

// serveAddr waits for serve's "dashboard at http://ADDR/" line.
func serveAddr(t *testing.T, p *proc) string {
	t.Helper()
	p.waitStderr("dashboard at http://")
	m := regexp.MustCompile(`dashboard at http://([^/]+)/`).FindStringSubmatch(p.stderr.String())
	if m == nil {
		t.Fatalf("no address in %q", p.stderr.String())
	}
	return m[1]
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// serve relays a broker's CodeWorm channels to WebSocket clients, serves
// the page and /health, and stops cleanly on Ctrl-C.
func TestServe(t *testing.T) {
	for _, b := range brokers(t) {
		t.Run(b.name, func(t *testing.T) {
			ns := uniqueNamespace(t)
			p := startBin(t, "serve", "--addr", "127.0.0.1:0", "--namespace", ns, b.url)
			addr := serveAddr(t, p)
			if code, body := httpGet(t, "http://"+addr+"/health"); code != 200 || body != `{"status":"healthy"}` {
				t.Fatalf("/health: %d %s", code, body)
			}
			if code, body := httpGet(t, "http://"+addr+"/"); code != 200 || !strings.Contains(body, `content="`+ns+`"`) {
				t.Fatalf("/: %d %.300s", code, body)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			conn, _, err := websocket.Dial(ctx, "ws://"+addr+"/api/ws", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.CloseNow()
			pub, err := transport.Open(ctx, b.url)
			if err != nil {
				t.Fatal(err)
			}
			defer pub.Close()
			// The client may join a moment after Dial returns; publish until
			// a frame arrives.
			go func() {
				for ctx.Err() == nil {
					_ = pub.Publish(ctx, transport.Message{Channel: ns + ":logs", Payload: []byte(`{"event":"hello","n":1.50}`)})
					time.Sleep(100 * time.Millisecond)
				}
			}()
			for {
				_, data, err := conn.Read(ctx)
				if err != nil {
					t.Fatal(err)
				}
				// Link-state frames, and a history frame when a message
				// reached the relay before this client joined, come first.
				if strings.HasPrefix(string(data), `{"type":"broker"`) || strings.HasPrefix(string(data), `{"channel":"`+ns+`:history"`) {
					continue
				}
				if want := `{"channel":"` + ns + `:logs","data":{"event":"hello","n":1.5}}`; string(data) != want {
					t.Fatalf("frame %s, want %s", data, want)
				}
				break
			}
			cancel()
			conn.CloseNow()
			p.interrupt()
			if code := p.wait(); code != 0 {
				t.Fatalf("exit code %d; stderr: %s", code, p.stderr.String())
			}
			if !strings.Contains(p.stderr.String(), "serve: stopping") {
				t.Fatalf("stderr: %s", p.stderr.String())
			}
		})
	}
}

func TestServeToken(t *testing.T) {
	p := startBin(t, "serve", "--addr", "127.0.0.1:0", "--token", "s3cret", "memory://serve-token")
	addr := serveAddr(t, p)
	if strings.Contains(p.stderr.String(), "s3cret") {
		t.Fatalf("the token was printed: %s", p.stderr.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, resp, err := websocket.Dial(ctx, "ws://"+addr+"/ws", nil); err == nil || resp == nil || resp.StatusCode != 401 {
		t.Fatalf("without a token: %v %v", resp, err)
	}
	conn, _, err := websocket.Dial(ctx, "ws://"+addr+"/ws?token=s3cret", nil)
	if err != nil {
		t.Fatal(err)
	}
	conn.CloseNow()
	p.interrupt()
	if code := p.wait(); code != 0 {
		t.Fatalf("exit code %d", code)
	}
}

func TestServeUsage(t *testing.T) {
	for _, args := range [][]string{
		{"serve"},
		{"serve", "memory://a", "memory://b"},
		{"serve", "--allow-origin", "not-an-origin", "memory://a"},
		{"serve", "--static", "/nonexistent/dir", "memory://a"},
		{"serve", "--nope", "memory://a"},
	} {
		r := runBin(t, nil, args...)
		if r.code != 2 || !strings.Contains(r.stderr, "eventpub serve") {
			t.Errorf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
	r := runBin(t, nil, "serve", "--addr", "256.0.0.1:1", "memory://a")
	if r.code != 1 || !strings.Contains(r.stderr, "listen on 256.0.0.1:1") {
		t.Errorf("bad address: exit %d, stderr %q", r.code, r.stderr)
	}
}
