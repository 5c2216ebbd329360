package nats

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/eventpub/eventpub/transport"
	natsgo "github.com/nats-io/nats.go"
)

// Link state: watching the connection's status, probing a link that looks
// stalled, and the errors a publish gets while the link is down.

// watch follows the connection's state so Publish can fail fast while it
// is down and in-flight JetStream publishes stop waiting when it drops.
func (t *Transport) watch() {
	defer t.watchWG.Done()
	for st := range t.statusCh {
		// Use the status the event carries: asking the connection would
		// wait on its lock, which a reconnect holds through its handshake.
		t.refreshState(st)
	}
}

func (t *Transport) refreshState(st natsgo.Status) {
	t.stateMu.Lock() // the watcher, a recheck and a probe may all call it
	defer t.stateMu.Unlock()
	t.status.Store(int32(st))
	if st == natsgo.CONNECTED {
		if mp := t.nc.MaxPayload(); mp > 0 {
			t.maxPay.Store(mp)
		}
		if !t.isUp() {
			ch := make(chan struct{})
			t.down.Store(&ch)
			t.gate.And(^(gateDown | gateSuspect)) // up, and a new link
		}
		return
	}
	if t.gate.Or(gateDown)&gateDown == 0 || !isClosedChan(*t.down.Load()) {
		close(*t.down.Load())
	}
}

func isClosedChan(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

func (t *Transport) stopWatch() {
	t.cancel()
	t.nc.RemoveStatusListener(t.statusCh)
	t.watchWG.Wait()
	t.probeWG.Wait()
}

// probeLink runs after an ack did not come in time on a connection that
// looks up: one PING round trip in the background tells a slow stream from
// a link that carries nothing (an open socket to a paused host). nats.go's
// own pings would notice only after minutes. When the PING times out and
// nats.go has not reconnected meanwhile, the connection reconnects at once,
// so calls fail fast until it is back. It never waits on the connection.
func (t *Transport) probeLink() {
	if !t.owned || !t.isUp() {
		return
	}
	t.background(&t.probing, func() {
		defer t.gate.And(^gateSuspect) // settled: the link answered, or it is marked down
		before := t.nc.Stats().Reconnects
		ctx, cancel := context.WithTimeout(t.quit, t.cfg.PublishTimeout)
		err := t.nc.FlushWithContext(ctx)
		cancel()
		timedOut := errors.Is(err, natsgo.ErrTimeout) || errors.Is(err, context.DeadlineExceeded)
		if timedOut && t.quit.Err() == nil && !t.closed.Load() && t.nc.Stats().Reconnects == before {
			// Mark the link down first: the reconnect holds nats.go's lock
			// through its handshake, and a publish let through before the
			// watcher hears of it would wait on that lock.
			t.refreshState(natsgo.RECONNECTING)
			_ = t.nc.ForceReconnect()
		}
	})
}

// suspectStall runs after an ack did not come in time: until the link
// probe settles whether the link is stalled, JetStream publishes fail fast
// instead of each waiting out the stall.
func (t *Transport) suspectStall() {
	if t.owned && t.isUp() && t.js != nil {
		t.gate.Or(gateSuspect)
	}
	t.probeLink()
}

// errStalled is the cause given while a stalled link is suspected.
var errStalled = errors.New("eventpub/nats: the last publish got no ack on a link that looks up; checking the link (nothing was sent)")

// recheck asks the connection its status in the background, for when the
// watcher may have missed an event (nats.go drops status events when its
// channel is full). It never waits on the connection.
func (t *Transport) recheck() {
	t.background(&t.rechecking, func() { t.refreshState(t.nc.Status()) })
}

// background runs f on its own goroutine unless running says an f of its
// kind is under way or the transport is closed; Close waits for it
// (probeWG).
func (t *Transport) background(running *atomic.Bool, f func()) {
	if !running.CompareAndSwap(false, true) {
		return
	}
	if !t.trackWG(&t.probeWG) {
		running.Store(false)
		return
	}
	go func() {
		defer t.probeWG.Done()
		defer running.Store(false)
		f()
	}()
}

// connected reports whether publishing can go to the server now, as the
// watcher last saw it. It does not ask the connection: while nats.go tries
// a reconnect over a stalled link it holds the connection's lock for the
// whole connect timeout, and asking would wait that long. Right after a
// reconnect the answer may lag by a moment (a call fails with
// ErrUnavailable that could have gone through).
func (t *Transport) connected() bool {
	if t.isUp() {
		return true
	}
	t.recheck()
	return false
}

// The bits of Transport.gate.
const (
	gateDown    uint32 = 1 << iota // the connection is not CONNECTED, as the watcher last saw it
	gateSuspect                    // an ack did not come on a link that looks up (JetStream, owned connection): until the link probe settles whether it is stalled, publishes fail fast
	gateClosed                     // Close has begun
	gateFull                       // JetStream mode or Flush: every Publish takes the full path
)

// isUp reports whether the connection is CONNECTED, as the watcher last
// saw it.
func (t *Transport) isUp() bool { return t.gate.Load()&gateDown == 0 }

// errDown is the cause given while the connection is down.
var errDown = errors.New("eventpub/nats: not connected to any NATS server (reconnecting in the background)")

// downErr says why nothing can be sent now: ErrAuth when nats.go gave up
// because the server refused the credentials, else ErrUnavailable.
func (t *Transport) downErr() error {
	if t.closed.Load() {
		return transport.ErrClosed
	}
	// The status comes from the watcher: asking the connection would wait
	// on its lock while a reconnect holds it.
	if natsgo.Status(t.status.Load()) == natsgo.CLOSED {
		if le := t.nc.LastError(); le != nil && isAuthErr(le) {
			return credsErr("", t.cfg.scrub(le))
		}
		return transport.Unavailable(natsgo.ErrConnectionClosed)
	}
	return transport.Unavailable(t.notConnected())
}
