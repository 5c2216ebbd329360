package redis

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/transport"
)

// loopbackServer accepts connections on a loopback port and calls serve
// with each, on a goroutine of wg's (serve may start more on wg); the
// test's cleanup closes the listener and every connection and waits for
// them. It returns the address.
func loopbackServer(t *testing.T, serve func(c net.Conn, wg *sync.WaitGroup)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() { serve(c, &wg) })
		}
	})
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// fakeServer accepts connections on a loopback port and answers each
// request it reads with reply(request's first line after the verb); an
// empty reply answers nothing. It returns the address and the requests'
// channel names as they arrived.
func fakeServer(t *testing.T, reply func(channel string) string) (addr string, seen func() []string) {
	t.Helper()
	var mu sync.Mutex
	var chans []string
	addr = loopbackServer(t, func(c net.Conn, _ *sync.WaitGroup) {
		r := bufio.NewReader(c)
		for {
			// *3, $n, verb, $n, channel, $n, payload
			var lines [7]string
			for i := range lines {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				lines[i] = strings.TrimSuffix(l, "\r\n")
			}
			mu.Lock()
			chans = append(chans, lines[4])
			mu.Unlock()
			if rep := reply(lines[4]); rep != "" {
				if _, err := c.Write([]byte(rep)); err != nil {
					return
				}
			}
		}
	})
	return addr, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), chans...)
	}
}

func openFake(t *testing.T, addr string, opts ...Option) *Transport {
	t.Helper()
	tr, err := Open(context.Background(), "redis://"+addr+"/0", opts...)
	if err != nil {
		t.Fatal(err)
	}
	if tr.cp == nil {
		t.Fatal("Open on a standalone URL did not set up the publish connections")
	}
	tr.cp.noDirect = true // the fake server speaks only PUBLISH
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}

func msg(ch string) transport.Message { return transport.Message{Channel: ch, Payload: []byte("p")} }

// A queued request whose caller gives up is withdrawn: it is never
// written, so its payload is not read after Publish returns.
func TestConnPipeWithdrawsQueued(t *testing.T) {
	addr, seen := fakeServer(t, func(string) string { return ":0\r\n" })
	tr := openFake(t, addr)
	if err := tr.Publish(context.Background(), msg("first")); err != nil {
		t.Fatal(err)
	}
	// Once the connection is idle (the dialer that wrote "first" may still
	// be in its write loop), mark a write "in progress": nothing else goes
	// out.
	pc := &tr.cp.conns[0]
	var w *wire
	brokertest.WaitFor(t, 10*time.Second, "the publish connection to go idle", func() bool {
		pc.mu.Lock()
		defer pc.mu.Unlock()
		if c := pc.cur; c != nil && !c.writing && !c.delivering && c.inflight.n == 0 {
			w, c.writing = c, true
			return true
		}
		return false
	})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := tr.Publish(ctx, msg("withdrawn")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("queued publish with an expired context: %v", err)
	}
	pc.mu.Lock()
	n := len(pc.queue)
	w.writing = false
	pc.mu.Unlock()
	if n != 0 {
		t.Fatalf("withdrawn request still queued (%d)", n)
	}
	if err := tr.Publish(context.Background(), msg("last")); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(seen(), ","); got != "first,last" {
		t.Fatalf("server saw %s, want first,last", got)
	}
}

// Replies wake their callers in order; an error reply is the caller's
// error alone and leaves the connection up.
func TestConnPipeReplies(t *testing.T) {
	addr, _ := fakeServer(t, func(ch string) string {
		if strings.HasPrefix(ch, "bad") {
			return "-ERR no such thing for " + ch + "\r\n"
		}
		return ":1\r\n"
	})
	tr := openFake(t, addr)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				ch := "good"
				if (g+i)%5 == 0 {
					ch = "bad" + string(rune('a'+g))
				}
				err := tr.Publish(context.Background(), msg(ch))
				switch {
				case ch == "good" && err != nil:
					t.Errorf("good publish: %v", err)
				case ch != "good" && (err == nil || !strings.Contains(err.Error(), "no such thing for "+ch)):
					t.Errorf("publish to %s: %v, want its own error reply", ch, err)
				case errors.Is(err, transport.ErrUnavailable):
					t.Errorf("an error reply was classified as unavailable: %v", err)
				}
			}
		})
	}
	wg.Wait()
	if err := tr.downErr(); err != nil {
		t.Fatalf("error replies marked Redis down: %v", err)
	}
}

// A server that stops answering fails the calls in flight with
// ErrUnavailable after the read timeout, and the transport fails fast.
func TestConnPipeReadTimeout(t *testing.T) {
	addr, _ := fakeServer(t, func(string) string { return "" })
	tr := openFake(t, addr, WithReadTimeout(100*time.Millisecond), WithBackoff(time.Hour, time.Hour))
	start := time.Now()
	err := tr.Publish(context.Background(), msg("c"))
	if !errors.Is(err, transport.ErrUnavailable) {
		t.Fatalf("Publish to a silent server: %v, want ErrUnavailable", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("Publish took %v with a 100ms read timeout", took)
	}
	if err := tr.Publish(context.Background(), msg("c")); !errors.Is(err, transport.ErrUnavailable) {
		t.Fatalf("second Publish: %v, want fail-fast ErrUnavailable", err)
	}
}

// A caller whose request is on the wire returns when its context ends,
// without waiting for the reply.
func TestConnPipeInFlightCallerLeaves(t *testing.T) {
	addr, seen := fakeServer(t, func(string) string { return "" })
	tr := openFake(t, addr, WithReadTimeout(time.Minute))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := tr.Publish(ctx, msg("c")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Publish: %v, want its context's error", err)
	}
	if got := seen(); len(got) != 1 {
		t.Fatalf("server saw %v, want the one request", got)
	}
}

// An unexpected reply closes the connection with ErrUnavailable.
func TestConnPipeProtocolError(t *testing.T) {
	addr, _ := fakeServer(t, func(string) string { return "$3\r\nfoo\r\n" })
	tr := openFake(t, addr)
	if err := tr.Publish(context.Background(), msg("c")); !errors.Is(err, transport.ErrUnavailable) {
		t.Fatalf("Publish answered with a bulk string: %v, want ErrUnavailable", err)
	}
}
