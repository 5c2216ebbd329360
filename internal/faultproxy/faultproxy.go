// Package faultproxy is a fault-injecting TCP proxy for eventpub's tests.
//
// A test points one client (for example a Publisher's driver) at the proxy's
// Addr while other clients (a subscriber) talk to the broker directly, then
// breaks only the proxied link: refuse new connections, cut existing ones, or
// stall traffic, and heal it again with Pass.
//
// # Modes
//
// The proxy is always in one mode; each method switches it for every
// connection at once:
//
//   - Pass: forward bytes both ways and accept new connections (the start mode).
//   - Refuse: close new connections at once; existing ones keep flowing.
//   - Cut: end every existing connection in a defined order (see Cut) and
//     refuse new ones until Pass. CutHard ends them at once instead.
//   - Stall: hold bytes in both directions while connections stay open; new
//     connections are accepted but stalled too. Pass forwards what was held,
//     in order.
//
// The package uses only the standard library and listens on loopback only.
package faultproxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"
)

// Default grace of Cut: the server side must stay quiet for DefaultCutQuiet
// before a cut connection is closed, and no cut lasts longer than
// DefaultCutLimit. SetCutGrace changes both.
const (
	DefaultCutQuiet = 50 * time.Millisecond
	DefaultCutLimit = 500 * time.Millisecond
)

const dialTimeout = 5 * time.Second

type mode int

const (
	modePass mode = iota
	modeRefuse
	modeStall
	modeStallReplies
	modeCut
)

// Proxy forwards TCP connections from Addr to one target and injects faults
// on command. Its methods are safe for concurrent use.
type Proxy struct {
	target string
	ln     *net.TCPListener
	ctx    context.Context // ends on Close; bounds dials to the target
	cancel context.CancelFunc
	wg     sync.WaitGroup // the accept loop and every forwarding goroutine

	mu       sync.Mutex
	cond     *sync.Cond // broadcast on every mode change and on Close
	mode     mode
	closed   bool
	closeErr error
	links    map[*link]struct{}
	quiet    time.Duration
	limit    time.Duration
}

// New starts a proxy listening on a free loopback port that forwards every
// accepted connection to target ("host:port"). The target is dialled per
// connection, so it need not be up yet. The proxy starts in Pass mode.
func New(target string) (*Proxy, error) {
	_, port, err := net.SplitHostPort(target)
	if err != nil {
		return nil, fmt.Errorf("faultproxy: target %q is not host:port: %w", target, err)
	}
	if port == "" {
		return nil, fmt.Errorf("faultproxy: target %q has no port", target)
	}
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen on loopback: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proxy{
		target: target,
		ln:     ln,
		ctx:    ctx,
		cancel: cancel,
		links:  make(map[*link]struct{}),
		quiet:  DefaultCutQuiet,
		limit:  DefaultCutLimit,
	}
	p.cond = sync.NewCond(&p.mu)
	p.wg.Add(1)
	go p.acceptLoop()
	return p, nil
}

// Start is New for tests: it fails the test at once if the proxy cannot
// start and closes the proxy when the test ends.
func Start(t testing.TB, target string) *Proxy {
	t.Helper()
	p, err := New(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("faultproxy: close: %v", err)
		}
	})
	return p
}

// Addr is the loopback "host:port" clients dial to reach the target.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Pass restores normal forwarding: new connections are accepted and bytes
// held by Stall are forwarded in order. Connections already being cut still
// end.
func (p *Proxy) Pass() { p.setMode(modePass) }

// Refuse closes each new connection as soon as it is accepted (the client
// sees EOF or a reset); existing connections keep flowing, and bytes held
// by Stall are released.
func (p *Proxy) Refuse() { p.setMode(modeRefuse) }

// Stall stops forwarding bytes in both directions until Pass or Refuse.
// Connections stay open and nothing is lost: bytes read meanwhile are held,
// and the operating system's buffers hold the rest, so a peer's reads time
// out and its writes eventually block. New connections are accepted and
// stalled too.
func (p *Proxy) Stall() { p.setMode(modeStall) }

// StallReplies holds server-to-client bytes until Pass or Refuse, while
// client-to-server bytes flow: the server acts on requests whose replies
// the client does not get. Followed by CutHard, it makes the case a client
// cannot settle: a request that arrived but was never answered.
func (p *Proxy) StallReplies() { p.setMode(modeStallReplies) }

func (p *Proxy) setMode(m mode) {
	p.mu.Lock()
	p.mode = m
	p.cond.Broadcast()
	p.mu.Unlock()
}

// SetCutGrace sets how long Cut waits for the server side to stay quiet
// (quiet) and the most a cut may take (limit). Values not above zero keep
// the current setting. It applies to later cuts.
func (p *Proxy) SetCutGrace(quiet, limit time.Duration) {
	p.mu.Lock()
	if quiet > 0 {
		p.quiet = quiet
	}
	if limit > 0 {
		p.limit = limit
	}
	p.mu.Unlock()
}

// Cut ends every existing connection and refuses new ones until Pass. It
// works in a defined order so that a test can tell a delivered request from
// a lost one:
//
//  1. Client to server stops at once: bytes read from the client after this
//     point are discarded, and the client-side read stops. A chunk that was
//     already being written to the server may arrive whole or in part; a
//     partial request is incomplete at the server and dropped by it.
//  2. Server to client keeps flowing until the server side has been quiet
//     for the cut grace (DefaultCutQuiet after its last byte, at most
//     DefaultCutLimit in all; see SetCutGrace), so every reply to a request
//     the server received reaches the client. Bytes held by Stall towards
//     the client are forwarded too. The server side is not half-closed
//     meanwhile: servers such as nats-server drop a client, and replies
//     still owed to it, as soon as they read EOF.
//  3. Both sockets are closed: the client reads the replies and then EOF,
//     the server sees the connection end.
//
// Cut returns when every connection it cut is closed.
func (p *Proxy) Cut() { p.cut(false) }

// CutHard closes every existing connection at once, with no grace, and
// refuses new ones until Pass. Like a real network failure, it may lose the
// reply to a request the server already acted on. It returns when every
// connection is closed.
func (p *Proxy) CutHard() { p.cut(true) }

func (p *Proxy) cut(hard bool) {
	p.mu.Lock()
	p.mode = modeCut
	cut := make([]*link, 0, len(p.links))
	for l := range p.links {
		p.beginCut(l, hard)
		cut = append(cut, l)
	}
	p.cond.Broadcast()
	p.mu.Unlock()
	for _, l := range cut {
		<-l.done
	}
}

// Conns reports how many proxied connections are open.
func (p *Proxy) Conns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.links)
}

// Close stops listening, closes every connection at once and returns when
// every goroutine of the proxy has ended. Later calls return nil.
func (p *Proxy) Close() error {
	p.mu.Lock()
	first := !p.closed
	if first {
		p.closed = true
		p.cond.Broadcast()
		p.cancel()
		if err := p.ln.Close(); err != nil {
			p.closeErr = fmt.Errorf("faultproxy: close listener: %w", err)
		}
		for l := range p.links {
			l.abort()
		}
	}
	p.mu.Unlock()
	p.wg.Wait()
	if first {
		return p.closeErr
	}
	return nil
}

func (p *Proxy) acceptLoop() {
	defer p.wg.Done()
	dialer := net.Dialer{Timeout: dialTimeout}
	for {
		client, err := p.ln.AcceptTCP()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || p.isClosed() {
				return
			}
			// A transient failure such as too many open files: back off a
			// little and try again, unless the proxy closes meanwhile.
			select {
			case <-p.ctx.Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		if !p.accepting() {
			client.Close()
			continue
		}
		conn, err := dialer.DialContext(p.ctx, "tcp", p.target)
		server, ok := conn.(*net.TCPConn)
		if err != nil || !ok {
			if conn != nil {
				conn.Close()
			}
			client.Close() // the target is down: the client sees the link end
			continue
		}
		p.mu.Lock()
		if p.closed || !(p.mode == modePass || p.mode == modeStall || p.mode == modeStallReplies) {
			p.mu.Unlock()
			client.Close()
			server.Close()
			continue
		}
		l := &link{client: client, server: server, running: 2, done: make(chan struct{})}
		p.links[l] = struct{}{}
		p.wg.Add(2)
		go p.toServer(l)
		go p.toClient(l)
		p.mu.Unlock()
	}
}

func (p *Proxy) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

func (p *Proxy) accepting() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.closed && (p.mode == modePass || p.mode == modeStall || p.mode == modeStallReplies)
}
