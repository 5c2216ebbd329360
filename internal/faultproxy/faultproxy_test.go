package faultproxy

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestNewRejectsBadTarget(t *testing.T) {
	for _, target := range []string{"", "localhost", "127.0.0.1:", "[::1"} {
		p, err := New(target)
		if err == nil {
			p.Close()
			t.Errorf("New(%q) succeeded, want an error", target)
			continue
		}
		if !strings.Contains(err.Error(), "target") || !strings.Contains(err.Error(), "\""+target+"\"") {
			t.Errorf("New(%q) error %q does not name the target", target, err)
		}
	}
}

func TestPassForwardsBothWays(t *testing.T) {
	srv := startTarget(t, false)
	p := Start(t, srv.addr())
	c := dial(t, p.Addr())
	s := srv.next(t)
	send(t, c, "ping")
	expect(t, s, "ping")
	send(t, s, "pong")
	expect(t, c, "pong")

	// A megabyte each way arrives whole and in order.
	big := make([]byte, 1<<20)
	rand.Read(big)
	errc := make(chan error, 1)
	go func() {
		_, err := c.Write(big)
		errc <- err
	}()
	s.SetReadDeadline(time.Now().Add(10 * time.Second))
	got := make([]byte, len(big))
	if _, err := io.ReadFull(s, got); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, big) {
		t.Fatal("client to server: bytes differ")
	}
	go func() {
		_, err := s.Write(big)
		errc <- err
	}()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, big) {
		t.Fatal("server to client: bytes differ")
	}
}

func TestPassPropagatesHalfClose(t *testing.T) {
	srv := startTarget(t, true)
	p := Start(t, srv.addr())
	c := dial(t, p.Addr())
	send(t, c, "last words")
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	expect(t, c, "last words") // the echo ends only after our EOF reached it
	expectEnd(t, c)
	waitFor(t, "Conns() == 0", func() bool { return p.Conns() == 0 })
}

func TestRefuse(t *testing.T) {
	srv := startTarget(t, true)
	p := Start(t, srv.addr())
	old := dial(t, p.Addr())
	roundTrip(t, old, "before")

	p.Refuse()
	refused := dial(t, p.Addr())
	expectEnd(t, refused)
	roundTrip(t, old, "during") // existing connections keep flowing
	if n := p.Conns(); n != 1 {
		t.Fatalf("Conns() = %d while refusing, want 1", n)
	}

	p.Pass()
	roundTrip(t, dial(t, p.Addr()), "after")
	roundTrip(t, old, "still")
}

func TestCutEndsConnsAndPassRestores(t *testing.T) {
	srv := startTarget(t, true)
	p := Start(t, srv.addr())
	a, b := dial(t, p.Addr()), dial(t, p.Addr())
	roundTrip(t, a, "a")
	roundTrip(t, b, "b")

	p.Cut()
	if n := p.Conns(); n != 0 {
		t.Fatalf("Conns() = %d after Cut returned, want 0", n)
	}
	expectEnd(t, a)
	expectEnd(t, b)
	expectEnd(t, dial(t, p.Addr())) // refused until Pass

	p.Pass()
	roundTrip(t, dial(t, p.Addr()), "back")
}

// The ordered cut: a reply the server sends after Cut began, to a request it
// received before, reaches the client; the server does not see EOF before
// it replies; bytes the client sends after the cut never reach the server.
func TestCutDeliversRepliesToForwardedRequests(t *testing.T) {
	srv := startTarget(t, false)
	p := Start(t, srv.addr())
	p.SetCutGrace(500*time.Millisecond, 5*time.Second)
	c := dial(t, p.Addr())
	s := srv.next(t)
	send(t, c, "req\n")
	expect(t, s, "req\n")

	cut := make(chan struct{})
	go func() {
		p.Cut()
		close(cut)
	}()
	waitFor(t, "the cut to begin", func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		return p.mode == modeCut
	})
	c.Write([]byte("late\n")) // may fail or not; it must not be forwarded
	expectSilence(t, s)       // no EOF yet: the server may still reply
	send(t, s, "reply\n")

	expect(t, c, "reply\n")
	expectEnd(t, c)
	s.SetReadDeadline(time.Now().Add(5 * time.Second))
	rest, err := io.ReadAll(s)
	if len(rest) > 0 {
		t.Fatalf("the server got %q sent after the cut", rest)
	}
	if err != nil && !isReset(err) {
		t.Fatalf("server read after the cut: %v, want EOF or reset", err)
	}
	<-cut
	if n := p.Conns(); n != 0 {
		t.Fatalf("Conns() = %d after Cut, want 0", n)
	}
}

func TestCutReleasesHeldRepliesOfStalledLink(t *testing.T) {
	srv := startTarget(t, false)
	p := Start(t, srv.addr())
	c := dial(t, p.Addr())
	s := srv.next(t)
	roundTripVia(t, c, s)

	p.Stall()
	send(t, c, "dropped")
	send(t, s, "held reply")
	expectSilence(t, c)
	p.Cut()
	expect(t, c, "held reply")
	expectEnd(t, c)
	s.SetReadDeadline(time.Now().Add(5 * time.Second))
	if rest, _ := io.ReadAll(s); len(rest) > 0 {
		t.Fatalf("the server got %q held from the client before the cut", rest)
	}
}

func TestCutEndsAtLimitWhenServerNeverQuiet(t *testing.T) {
	srv := startTarget(t, false)
	p := Start(t, srv.addr())
	p.SetCutGrace(200*time.Millisecond, 300*time.Millisecond)
	c := dial(t, p.Addr())
	s := srv.next(t)
	roundTripVia(t, c, s)

	chatter := make(chan struct{})
	go func() { // the server keeps talking, faster than the quiet grace
		defer close(chatter)
		for {
			s.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if _, err := s.Write([]byte("tick")); err != nil {
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	drained := make(chan error, 1)
	go func() { // the client keeps reading until the link ends
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err := io.Copy(io.Discard, c)
		drained <- err
	}()
	p.Cut() // returns only because of the limit
	if err := <-drained; err != nil && !isReset(err) {
		t.Fatalf("client read during the cut: %v, want EOF or reset", err)
	}
	s.Close()
	<-chatter
}

func TestCutHardDropsLateReplies(t *testing.T) {
	srv := startTarget(t, false)
	p := Start(t, srv.addr())
	c := dial(t, p.Addr())
	s := srv.next(t)
	send(t, c, "req")
	expect(t, s, "req")

	p.CutHard()
	if n := p.Conns(); n != 0 {
		t.Fatalf("Conns() = %d after CutHard, want 0", n)
	}
	s.Write([]byte("reply")) // too late: the link is gone
	expectEnd(t, c)
	expectEnd(t, dial(t, p.Addr())) // refused until Pass

	p.Pass()
	c2 := dial(t, p.Addr())
	roundTripVia(t, c2, srv.next(t))
}

func TestStallHoldsBytesAndPassDeliversInOrder(t *testing.T) {
	srv := startTarget(t, false)
	p := Start(t, srv.addr())
	c := dial(t, p.Addr())
	s := srv.next(t)
	roundTripVia(t, c, s)

	p.Stall()
	for _, part := range []string{"1", "2", "3"} {
		send(t, c, part)
	}
	send(t, s, "x")
	send(t, s, "y")
	expectSilence(t, s)
	expectSilence(t, c)

	// A connection made while stalled opens but is stalled too.
	c2 := dial(t, p.Addr())
	s2 := srv.next(t)
	send(t, c2, "new")
	expectSilence(t, s2)
	if n := p.Conns(); n != 2 {
		t.Fatalf("Conns() = %d while stalled, want 2", n)
	}

	p.Pass()
	expect(t, s, "123")
	expect(t, c, "xy")
	expect(t, s2, "new")
	roundTripVia(t, c, s)
}

func TestRefuseReleasesStall(t *testing.T) {
	srv := startTarget(t, false)
	p := Start(t, srv.addr())
	c := dial(t, p.Addr())
	s := srv.next(t)
	p.Stall()
	send(t, c, "held")
	expectSilence(t, s)
	p.Refuse()
	expect(t, s, "held")
}

func TestConnsCounts(t *testing.T) {
	srv := startTarget(t, true)
	p := Start(t, srv.addr())
	if n := p.Conns(); n != 0 {
		t.Fatalf("Conns() = %d before any connection, want 0", n)
	}
	var cs []net.Conn
	for i := range 3 {
		c := dial(t, p.Addr())
		roundTrip(t, c, string(rune('a'+i)))
		cs = append(cs, c)
	}
	if n := p.Conns(); n != 3 {
		t.Fatalf("Conns() = %d, want 3", n)
	}
	cs[0].Close() // the echo target ends too, so the link closes
	waitFor(t, "Conns() == 2", func() bool { return p.Conns() == 2 })
}

func TestTargetDownEndsClient(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := Start(t, addr)
	expectEnd(t, dial(t, p.Addr()))
	if n := p.Conns(); n != 0 {
		t.Fatalf("Conns() = %d with the target down, want 0", n)
	}
}

func TestCloseEndsEverything(t *testing.T) {
	srv := startTarget(t, false)
	before := goleak.IgnoreCurrent()
	p, err := New(srv.addr())
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, p.Addr())
	s := srv.next(t)
	roundTripVia(t, c, s)
	p.Stall()
	send(t, c, "held")
	send(t, s, "held")
	c2 := dial(t, p.Addr()) // a second, stalled connection
	srv.next(t)

	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if n := p.Conns(); n != 0 {
		t.Fatalf("Conns() = %d after Close, want 0", n)
	}
	expectEnd(t, c)
	expectEnd(t, c2)
	if c3, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
		c3.Close()
		t.Fatal("dialing a closed proxy succeeded")
	}
	goleak.VerifyNone(t, before)
	p.Pass() // mode changes after Close do nothing harmful
	p.Cut()
}

func TestStartClosesAtCleanup(t *testing.T) {
	srv := startTarget(t, true)
	var addr string
	t.Run("uses", func(t *testing.T) {
		p := Start(t, srv.addr())
		addr = p.Addr()
		roundTrip(t, dial(t, addr), "hi")
	})
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatal("the proxy still listens after its test ended")
	}
}

// roundTripVia checks both directions between client c and server side s.
func roundTripVia(t *testing.T, c, s net.Conn) {
	t.Helper()
	send(t, c, "q")
	expect(t, s, "q")
	send(t, s, "r")
	expect(t, c, "r")
}

// isReset reports whether err is a connection reset or broken pipe, which a
// peer may see instead of EOF when the other end closes.
func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

func TestStallRepliesLetsRequestsThroughAndHoldsReplies(t *testing.T) {
	srv := startTarget(t, false)
	p := Start(t, srv.addr())
	c := dial(t, p.Addr())
	s := srv.next(t)
	roundTripVia(t, c, s)

	p.StallReplies()
	send(t, c, "req")
	expect(t, s, "req") // the server gets the request
	send(t, s, "reply")
	expectSilence(t, c) // the client does not get the reply

	p.Pass()
	expect(t, c, "reply")
	roundTripVia(t, c, s)
}
