package redis

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventpub/eventpub/transport"
	goredis "github.com/redis/go-redis/v9"
)

// Failure, Close and deadline handling of the publish connections, on the
// fake server of connpipe_internal_test.go.

// A caller whose deadline passes with its request in flight and no reply
// on the connection during its wait marks Redis down, as go-redis does
// when a read hits the caller's deadline; later callers fail fast instead
// of queueing on the dead connection until the read timeout.
func TestConnPipeStallMarksDown(t *testing.T) {
	addr, _ := fakeServer(t, func(string) string { return "" })
	tr := openFake(t, addr, WithReadTimeout(time.Minute), WithBackoff(time.Hour, time.Hour))
	errs := make(chan error, 4)
	var wg sync.WaitGroup
	for range cap(errs) {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			errs <- tr.Publish(ctx, msg("c"))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, transport.ErrUnavailable) {
			t.Errorf("Publish on a stalled link: %v, want its deadline or ErrUnavailable", err)
		}
	}
	if err := tr.downErr(); err == nil || !strings.Contains(err.Error(), errStalled.Error()) {
		t.Fatalf("after callers' deadlines passed on a stalled link: down state %v, want %q", err, errStalled)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := tr.Publish(ctx, msg("c")); !errors.Is(err, transport.ErrUnavailable) {
		t.Fatalf("Publish after the stall: %v, want fail-fast ErrUnavailable", err)
	}
}

// A cancelled context (no deadline) only withdraws its caller: it says
// nothing about Redis.
func TestConnPipeCancelKeepsUp(t *testing.T) {
	addr, _ := fakeServer(t, func(string) string { return "" })
	tr := openFake(t, addr, WithReadTimeout(time.Minute), WithBackoff(time.Hour, time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	stop := time.AfterFunc(100*time.Millisecond, cancel)
	defer stop.Stop()
	if err := tr.Publish(ctx, msg("c")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Publish: %v, want context.Canceled", err)
	}
	if err := tr.downErr(); err != nil {
		t.Fatalf("a cancelled caller marked Redis down: %v", err)
	}
}

// A connection that fails marks Redis down even when no caller waits on it
// any more.
func TestConnPipeFailureMarksDownWithoutCallers(t *testing.T) {
	addr, _ := fakeServer(t, func(string) string { return "" })
	tr := openFake(t, addr, WithReadTimeout(200*time.Millisecond), WithBackoff(time.Hour, time.Hour))
	ctx, cancel := context.WithCancel(context.Background())
	stop := time.AfterFunc(20*time.Millisecond, cancel)
	defer stop.Stop()
	if err := tr.Publish(ctx, msg("c")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Publish: %v, want context.Canceled", err)
	}
	// The read timeout fires with nobody waiting.
	deadline := time.Now().Add(10 * time.Second)
	for tr.downErr() == nil && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := tr.downErr(); !errors.Is(err, transport.ErrUnavailable) || !strings.Contains(err.Error(), "timeout") {
		t.Fatalf("after the read timeout with no caller left: down state %v, want an ErrUnavailable timeout", err)
	}
}

// slowConn delays each write, and reports its Close.
type slowConn struct {
	net.Conn
	delay  time.Duration
	closed chan struct{}
	once   sync.Once
}

func (c *slowConn) Write(b []byte) (int, error) {
	time.Sleep(c.delay)
	return c.Conn.Write(b)
}

func (c *slowConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

// newFake returns a Transport on a client given to New with dial as its
// Dialer and the given timeouts, publishing on the publish connections only.
func newFake(t *testing.T, addr string, dial func(context.Context, string, string) (net.Conn, error), read, write time.Duration) *Transport {
	t.Helper()
	client := goredis.NewClient(&goredis.Options{Addr: addr, Dialer: dial, ReadTimeout: read, WriteTimeout: write,
		MaxRetries: -1, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = client.Close() })
	tr, err := New(client, WithBackoff(time.Hour, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if tr.cp == nil {
		t.Fatal("New on a standalone client did not set up the publish connections")
	}
	tr.cp.noDirect = true
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}

// A write slower than the read timeout does not use up the read timeout:
// the reply that follows it is read, and Redis is not marked down.
func TestConnPipeSlowWriteKeepsReadTimeout(t *testing.T) {
	for _, write := range []time.Duration{2 * time.Second, -1} { // -1: no write timeout
		addr, seen := fakeServer(t, func(string) string { return ":1\r\n" })
		dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
			var d net.Dialer
			c, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return &slowConn{Conn: c, delay: 250 * time.Millisecond, closed: make(chan struct{})}, nil
		}
		tr := newFake(t, addr, dial, 100*time.Millisecond, write)
		for i := range 3 {
			if err := tr.Publish(context.Background(), msg("c")); err != nil {
				t.Fatalf("write timeout %v: Publish %d with writes slower than the read timeout: %v", write, i, err)
			}
		}
		if err := tr.downErr(); err != nil {
			t.Fatalf("write timeout %v: slow writes marked Redis down: %v", write, err)
		}
		if n := len(seen()); n != 3 {
			t.Fatalf("write timeout %v: server saw %d requests, want 3", write, n)
		}
	}
}

// Close does not wait for a dial that ignores its context; the dial closes
// its connection when it returns, and callers waiting for it get
// ErrClosed at once.
func TestConnPipeCloseDuringDial(t *testing.T) {
	addr, _ := fakeServer(t, func(string) string { return ":1\r\n" })
	entered, release := make(chan struct{}), make(chan struct{})
	var released sync.Once
	t.Cleanup(func() { released.Do(func() { close(release) }) })
	conns := make(chan *slowConn, 1)
	dial := func(_ context.Context, network, addr string) (net.Conn, error) {
		close(entered) // a second dial would panic: there must be one
		<-release      // ignores its context, like a TLS dial through go-redis's default dialer
		c, err := net.Dial(network, addr)
		if err != nil {
			return nil, err
		}
		sc := &slowConn{Conn: c, closed: make(chan struct{})}
		conns <- sc
		return sc, nil
	}
	tr := newFake(t, addr, dial, time.Second, time.Second)
	pub := make(chan error, 1)
	go func() { pub <- tr.Publish(context.Background(), msg("c")) }()
	<-entered
	closed := make(chan error, 1)
	go func() { closed <- tr.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close is waiting for a dial in progress")
	}
	select {
	case err := <-pub:
		if !errors.Is(err, transport.ErrClosed) {
			t.Fatalf("Publish waiting for the dial when Close was called: %v, want ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Publish still waits for the dial after Close")
	}
	released.Do(func() { close(release) })
	select {
	case c := <-conns:
		select {
		case <-c.closed:
		case <-time.After(10 * time.Second):
			t.Fatal("the connection dialled after Close was not closed")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the dial did not return")
	}
}

// Open's TLS dialer stops its handshake when the Transport closes, so no
// dial outlives Close by its dial timeout.
func TestOpenTLSDialEndsOnClose(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	// Open's certificate check dials first: hang up on it, which is no
	// certificate error, so Open succeeds.
	go func() {
		if c, err := ln.Accept(); err == nil {
			_ = c.Close()
		}
	}()
	tr, err := Open(context.Background(), "rediss://"+ln.Addr().String()+"/0", WithConnectTimeout(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	tr.cp.noDirect = true
	pub := make(chan error, 1)
	go func() { pub <- tr.Publish(context.Background(), msg("c")) }()
	c, err := ln.Accept() // the handshake starts and gets no answer
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = c.Close() }()
	if err := tr.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := <-pub; !errors.Is(err, transport.ErrClosed) {
		t.Fatalf("Publish during the TLS dial: %v, want ErrClosed", err)
	}
	// The client hangs up without waiting out its one-minute dial timeout.
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = io.Copy(io.Discard, c)
	if err != nil {
		t.Fatalf("the TLS dial went on after Close: server read %v, want EOF", err)
	}
}

// hookConn calls afterWrite after each write, and counts the bytes read
// and the Read calls that start after n bytes were read.
type hookConn struct {
	net.Conn
	mu         sync.Mutex
	afterWrite func()
	read       int
	wantRead   int           // signal readAgain at the first Read after wantRead bytes
	readAgain  chan struct{} // nil: no signal wanted
}

func (c *hookConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.mu.Lock()
	f := c.afterWrite
	c.mu.Unlock()
	if f != nil {
		f()
	}
	return n, err
}

func (c *hookConn) Read(b []byte) (int, error) {
	c.mu.Lock()
	if c.readAgain != nil && c.read >= c.wantRead {
		close(c.readAgain)
		c.readAgain = nil
	}
	c.mu.Unlock()
	n, err := c.Conn.Read(b)
	c.mu.Lock()
	c.read += n
	c.mu.Unlock()
	return n, err
}

// A caller whose reply and context's end are both ready gets the reply:
// a published message is not reported as failed.
func TestConnPipeReplyBeatsDeadline(t *testing.T) {
	addr, _ := fakeServer(t, func(string) string { return ":1\r\n" })
	conns := make(chan *hookConn, 1)
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		hc := &hookConn{Conn: c}
		conns <- hc // one dial only: a second would block and fail the test
		return hc, nil
	}
	tr := newFake(t, addr, dial, time.Minute, time.Minute)
	if err := tr.Publish(context.Background(), msg("c")); err != nil {
		t.Fatal(err)
	}
	hc := <-conns
	pc := &tr.cp.conns[0]
	for i := range 10 {
		// Wait until the reader is done with the last reply, so that the
		// caller finds the connection idle and writes itself.
		for idle := false; !idle; {
			pc.mu.Lock()
			w := pc.cur
			idle = w != nil && !w.delivering && !w.writing && w.inflight.n == 0
			pc.mu.Unlock()
			if !idle {
				time.Sleep(time.Millisecond)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
		again := make(chan struct{})
		hc.mu.Lock()
		hc.wantRead, hc.readAgain = hc.read+len(":1\r\n"), again
		// The caller writes on its own goroutine (the connection is idle):
		// it reaches its wait only once its deadline has passed and the
		// reader has woken it (it is back reading after the reply).
		hc.afterWrite = func() {
			<-ctx.Done()
			select {
			case <-again:
			case <-time.After(10 * time.Second):
				t.Error("the reply was not read")
			}
		}
		hc.mu.Unlock()
		err := tr.Publish(ctx, msg("c"))
		cancel()
		hc.mu.Lock()
		hc.afterWrite = nil
		hc.mu.Unlock()
		if err != nil {
			t.Fatalf("publish %d: answered, but reported %v", i, err)
		}
	}
}
