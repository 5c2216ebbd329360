package faultproxy

import (
	"errors"
	"io"
	"net"
	"time"
)

const bufSize = 32 << 10

// link is one proxied connection: a client accepted on Addr and its own
// connection to the target, forwarded by two goroutines.
type link struct {
	client, server *net.TCPConn
	done           chan struct{} // closed once both sockets are closed

	// Guarded by Proxy.mu.
	cutting bool      // Cut or CutHard began on this link
	limitAt time.Time // when a cut ends at the latest
	running int       // forwarding goroutines still running
}

// abort closes both sockets at once; later calls do nothing harmful.
func (l *link) abort() {
	l.client.Close()
	l.server.Close()
}

// beginCut starts step 1 of Cut on l (or closes it, when hard). p.mu is held.
func (p *Proxy) beginCut(l *link, hard bool) {
	if hard {
		l.cutting = true
		l.abort()
		return
	}
	if l.cutting {
		return
	}
	now := time.Now()
	l.cutting = true
	l.limitAt = now.Add(p.limit)
	l.client.SetReadDeadline(now)  // wake and stop the client-side read
	l.server.SetWriteDeadline(now) // stop a write the server is not taking
	l.client.SetWriteDeadline(l.limitAt)
	p.armQuiet(l, now)
}

// armQuiet lets the server-side read of a cut link wait for the quiet grace,
// never past the link's limit. p.mu is held.
func (p *Proxy) armQuiet(l *link, now time.Time) {
	d := now.Add(p.quiet)
	if d.After(l.limitAt) {
		d = l.limitAt
	}
	l.server.SetReadDeadline(d)
}

// gate reports whether bytes read in one direction of l may be written now,
// waiting while the proxy stalls. Client-to-server bytes never pass once l
// is being cut; server-to-client bytes always do, so replies drain.
func (p *Proxy) gate(l *link, toClient bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		switch {
		case p.closed:
			return false
		case l.cutting:
			return toClient
		case p.mode == modeStall, p.mode == modeStallReplies && toClient:
			p.cond.Wait()
		default:
			return true
		}
	}
}

func (p *Proxy) isCutting(l *link) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return l.cutting
}

// toServer forwards client to server until the client ends, a write fails,
// the link is cut or the proxy closes.
func (p *Proxy) toServer(l *link) {
	defer p.wg.Done()
	buf := make([]byte, bufSize)
	var err error
	for {
		var n int
		n, err = l.client.Read(buf)
		if n > 0 {
			if !p.gate(l, false) {
				break
			}
			if _, werr := l.server.Write(buf[:n]); werr != nil {
				err = werr
				break
			}
		}
		if err != nil {
			break
		}
	}
	switch {
	case p.isCutting(l):
		// Cut step 1 is done; toClient drains the replies and closes.
	case errors.Is(err, io.EOF):
		l.server.CloseWrite() // pass the client's half-close on
	default:
		l.abort()
	}
	p.finish(l)
}

// toClient forwards server to client until the server ends, a write fails,
// the proxy closes, or (while a cut drains) the server stays quiet.
func (p *Proxy) toClient(l *link) {
	defer p.wg.Done()
	buf := make([]byte, bufSize)
	var err error
	for {
		p.mu.Lock()
		if l.cutting && !l.limitAt.IsZero() {
			p.armQuiet(l, time.Now()) // quiet is measured from our last write
		}
		p.mu.Unlock()
		var n int
		n, err = l.server.Read(buf)
		if n > 0 {
			if !p.gate(l, true) {
				break
			}
			if _, werr := l.client.Write(buf[:n]); werr != nil {
				err = werr
				break
			}
		}
		if err != nil {
			break
		}
	}
	switch {
	case p.isCutting(l):
		l.abort() // Cut step 3
	case errors.Is(err, io.EOF):
		l.client.CloseWrite() // pass the server's half-close on
	default:
		l.abort()
	}
	p.finish(l)
}

// finish records that one direction of l ended; the last one closes both
// sockets and forgets the link.
func (p *Proxy) finish(l *link) {
	p.mu.Lock()
	l.running--
	last := l.running == 0
	if last {
		delete(p.links, l)
	}
	p.mu.Unlock()
	if last {
		l.abort()
		close(l.done)
	}
}
