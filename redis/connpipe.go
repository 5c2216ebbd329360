package redis

import (
	"bufio"
	"context"
	"net"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventpub/eventpub/transport"
	goredis "github.com/redis/go-redis/v9"
)

// Continuous pipelining for a standalone server. Publish does not go
// through go-redis: the driver keeps Config.PipelineConns connections of
// its own, dialled with the client's Dialer (so TLS and custom dialers
// apply), authenticated and with the database selected as the client's
// options say, and with the client's timeouts. Each caller queues its
// request; whoever writes next copies every queued request into one buffer
// and writes it at once, and one reader goroutine a connection parses the
// replies in order and wakes the callers (waking itself once for many
// replies when many are owed: lowat.go). Writes never wait for replies,
// so requests stream while earlier replies are still on their way.
//
// A lone caller (nothing queued or in flight, no other lone caller) makes
// its round trip through go-redis on its own goroutine, so the sequential
// path costs what plain go-redis costs; callers arriving meanwhile use the
// publish connection.
//
// Who writes: a caller that finds the connection idle (nothing in flight)
// writes at once on its own goroutine. While requests are in flight,
// callers only queue: the reader, after waking a few callers (wakeChunk),
// yields so they can publish again and then writes everything queued in
// one write. Replies are sure to come (or the read timeout or a caller's
// deadline to fail the connection), so nothing waits forever.
//
// A request is copied into the write buffer under the lock that guards the
// queue, so a caller whose context ends either withdraws its request from
// the queue or finds it already copied: the payload is never read after
// Publish returns. How connections fail and close: connfail.go.

// maxWrite is the size past which a write takes no more requests.
const maxWrite = 256 << 10

// wakeChunk is how many callers the reader wakes before it writes what
// they queued. Small chunks keep Redis busy with one write while the
// reader wakes the next callers; on a 2-core machine 8 measured best
// (4 and 16 were 10–20% slower, waking all at once 60% slower).
const wakeChunk = 8

type preq struct {
	channel string
	payload []byte
	err     error
	done    chan struct{} // buffered 1: err is set (nil in a batch)
	batch   *pbatch       // the batch it belongs to, if any
}

// finish sets r's outcome and wakes its caller: r's own, or its batch's
// once every request of the batch has one.
func (r *preq) finish(err error) {
	r.payload = nil
	r.err = err
	if b := r.batch; b != nil {
		if b.left.Add(-1) == 0 {
			b.done <- struct{}{}
		}
		return
	}
	r.done <- struct{}{}
}

// fifo is a ring of the requests written and not yet answered.
type fifo struct {
	buf  []*preq
	head int
	n    int
}

func (f *fifo) push(r *preq) {
	if f.n == len(f.buf) {
		nb := make([]*preq, max(2*len(f.buf), 64))
		for i := range f.n {
			nb[i] = f.buf[(f.head+i)&(len(f.buf)-1)]
		}
		f.buf, f.head = nb, 0
	}
	f.buf[(f.head+f.n)&(len(f.buf)-1)] = r
	f.n++
}

// frontRun returns how many requests from the front belong to the same
// caller (the front's batch), at most limit: 1 for a single caller's, 0
// when f is empty.
func (f *fifo) frontRun(limit int) int {
	if f.n == 0 {
		return 0
	}
	b := f.buf[f.head].batch
	if b == nil {
		return 1
	}
	k := 1
	for k < f.n && k < limit && f.buf[(f.head+k)&(len(f.buf)-1)].batch == b {
		k++
	}
	return k
}

func (f *fifo) pop() *preq {
	r := f.buf[f.head]
	f.buf[f.head] = nil
	f.head = (f.head + 1) & (len(f.buf) - 1)
	f.n--
	return r
}

// connPipe publishes over len(conns) connections.
type connPipe struct {
	t      *Transport
	opts   *goredis.Options
	header []byte
	conns  []pconn
	next   atomic.Uint32
	reqs   sync.Pool
	// batches recycles *pbatch (batch.go).
	batches sync.Pool
	// The client's timeouts; 0: none.
	dialTimeout, readTimeout, writeTimeout time.Duration
	// noDirect: never take the go-redis path for a lone caller (tests).
	noDirect bool
}

// pconn is one publish connection slot: the requests queued for it and
// the live connection, if any.
type pconn struct {
	p       *connPipe
	mu      sync.Mutex
	cur     *wire
	dialing bool
	closed  bool
	direct  bool // a lone caller is publishing through go-redis
	queue   []*preq
	// heard counts the reply batches read on this slot's connections, so a
	// caller that gives up can tell whether any came during its wait.
	heard uint64
}

// wire is one live connection. Its fields other than c, wbuf, chanOf,
// chanHead and wake are guarded by the pconn's mu; wbuf, chanOf and
// chanHead belong to whoever set writing, and wake guards itself (the
// reader sets it, a caller giving up may nudge it).
type wire struct {
	pc       *pconn
	c        net.Conn
	inflight fifo
	writing  bool // a caller, the dialer or the reader is writing
	// delivering: the reader is waking callers and writes what they queue
	// next; until then nobody else starts writing.
	delivering bool
	wbuf       []byte // the writer's buffer
	// The writer's copy of the start of a request to chanOf: the header
	// and the channel as a bulk string (a batch is usually to one channel).
	chanOf   string
	chanHead []byte
	failed   bool
	// wake: how many reply bytes the reader waits for (lowat.go).
	wake *rcvLowat
}

// standaloneOptions returns the options to dial client's server for
// publishing, or nil when client is not a plain standalone client whose
// options say all there is to connecting (cluster, failover and clients
// with credential providers or connect hooks keep go-redis pipelining).
func standaloneOptions(client goredis.UniversalClient) *goredis.Options {
	c, ok := client.(*goredis.Client)
	if !ok {
		return nil
	}
	o := c.Options()
	if o.Dialer == nil || o.Addr == "FailoverClient" || o.OnConnect != nil ||
		o.CredentialsProvider != nil || o.CredentialsProviderContext != nil ||
		o.StreamingCredentialsProvider != nil {
		return nil
	}
	return o
}

func newConnPipe(t *Transport, opts *goredis.Options) *connPipe {
	p := &connPipe{t: t, opts: opts, header: publishHeader(t.cfg.Sharded),
		dialTimeout: max(opts.DialTimeout, 0), readTimeout: max(opts.ReadTimeout, 0),
		writeTimeout: max(opts.WriteTimeout, 0)}
	p.conns = make([]pconn, t.cfg.PipelineConns)
	for i := range p.conns {
		p.conns[i].p = p
	}
	p.reqs.New = func() any { return &preq{done: make(chan struct{}, 1)} }
	return p
}

// do publishes msg and returns Redis's reply error or the connection's
// error, unmapped.
func (p *connPipe) do(ctx context.Context, msg *transport.Message) error {
	return p.doVia(ctx, msg, nil, nil)
}

// doVia is do called from the hook tap (hooks.go) with cmd, msg's command,
// and next, the rest of the go-redis chain: a lone caller sends cmd with
// next, so hooks see it once.
func (p *connPipe) doVia(ctx context.Context, msg *transport.Message, next goredis.ProcessHook, cmd goredis.Cmder) error {
	pc := &p.conns[0]
	if len(p.conns) > 1 {
		pc = &p.conns[int(p.next.Add(1))%len(p.conns)]
	}
	pc.mu.Lock()
	if pc.closed {
		pc.mu.Unlock()
		return goredis.ErrClosed
	}
	if !pc.direct && !p.noDirect && len(pc.queue) == 0 &&
		(pc.cur == nil || pc.cur.inflight.n == 0 && !pc.cur.writing && !pc.cur.delivering) {
		// A lone caller: a round trip on its own goroutine through
		// go-redis saves the hand-off from the reader goroutine. Callers
		// arriving meanwhile use the publish connection.
		pc.direct = true
		pc.mu.Unlock()
		var err error
		if next != nil {
			err = next(ctx, cmd)
		} else {
			err = p.t.client.Process(ctx, p.t.publishCmd(ctx, msg))
		}
		pc.mu.Lock()
		pc.direct = false
		pc.mu.Unlock()
		return err
	}
	r := p.reqs.Get().(*preq)
	r.channel, r.payload = msg.Channel, msg.Payload
	pc.queue = append(pc.queue, r)
	heard := pc.heard
	lead := pc.kickLocked()
	pc.mu.Unlock()
	if lead != nil {
		lead.flush()
	}

	if done := ctx.Done(); done == nil {
		<-r.done
	} else {
		select {
		case <-r.done:
		case <-done:
			// Both may be ready: a reply that came in wins.
			select {
			case <-r.done:
			default:
				return pc.giveUp(ctx, r, heard)
			}
		}
	}
	err := r.err
	r.err, r.channel = nil, ""
	p.reqs.Put(r)
	return err
}

// kickLocked makes sure what is queued gets written: it starts a dial
// when there is no connection, and returns the connection when it is idle,
// for the caller to write on at once (it set writing). Otherwise the
// reader writes the queue when the next replies come in, or the caller
// writing now does. Caller holds pc.mu.
func (pc *pconn) kickLocked() *wire {
	switch w := pc.cur; {
	case w == nil:
		if !pc.dialing {
			// Not counted in t.wg: Close does not wait for a dial.
			pc.dialing = true
			go pc.dial()
		}
	case w.inflight.n == 0 && !w.writing && !w.delivering:
		w.writing = true
		return w
	}
	return nil
}

// dial connects, then hands the queue to the new connection, or fails the
// queue with the error. After Close it closes what it dialled.
func (pc *pconn) dial() {
	p := pc.p
	t := p.t
	ctx, cancel := t.ctx, context.CancelFunc(func() {})
	if p.dialTimeout > 0 {
		ctx, cancel = context.WithTimeout(t.ctx, p.dialTimeout)
	}
	c, err := p.opts.Dialer(ctx, p.opts.Network, p.opts.Addr)
	cancel()
	if err == nil {
		err = dialErr(c) // Open's quiet dialer
	}
	if err == nil {
		timeout := p.dialTimeout + p.readTimeout
		stop := context.AfterFunc(t.ctx, func() { _ = c.Close() }) // Close does not wait
		err = handshake(c, p.opts, timeout)
		if !stop() && err == nil {
			err = goredis.ErrClosed
		}
		if err != nil {
			_ = c.Close()
		}
	}
	if err != nil && t.ctx.Err() != nil {
		err = goredis.ErrClosed
	}
	pc.mu.Lock()
	pc.dialing = false
	if err == nil && pc.closed {
		_ = c.Close()
		err = goredis.ErrClosed
	}
	if err != nil {
		q := pc.takeQueueLocked()
		pc.mu.Unlock()
		p.down(err)
		fail(q, err)
		return
	}
	w := &wire{pc: pc, c: c, wake: newRcvLowat(c)}
	pc.cur = w
	// pc.closed is false: Close has not reached t.wg.Wait yet.
	t.wg.Add(1)
	go w.readLoop()
	w.writing = true
	pc.mu.Unlock()
	w.flush()
}

func (pc *pconn) takeQueueLocked() []*preq {
	q := pc.queue
	pc.queue = nil
	return q
}

// flush writes the queue. It is called by whoever set w.writing, and
// clears it once the queue is empty or requests are in flight: then the
// reader writes what is queued after their replies come in. A batch's
// requests are all queued already, so flush writes them all, one write
// after the other, without waiting for replies to gather more.
func (w *wire) flush() {
	pc := w.pc
	t := pc.p.t
	header := pc.p.header
	rt := pc.p.readTimeout
	for wrote := false; ; wrote = true {
		pc.mu.Lock()
		if wrote && rt > 0 && !w.failed && w.inflight.n > 0 {
			// The read timeout counts from the end of the write, so a slow
			// write does not use it up while the reply is on its way. (The
			// write itself is bounded by the write timeout, or with none by
			// its callers' deadlines: see giveUp.)
			_ = w.c.SetReadDeadline(time.Now().Add(rt))
		}
		if w.failed || len(pc.queue) == 0 || wrote && w.inflight.n > 0 && pc.queue[0].batch == nil {
			w.writing = false
			pc.mu.Unlock()
			return
		}
		buf := w.wbuf[:0]
		n := 0
		for n < len(pc.queue) && n < t.cfg.MaxPipeline && len(buf) < maxWrite {
			r := pc.queue[n]
			if w.chanHead == nil || r.channel != w.chanOf {
				w.chanHead = appendBulk(append(w.chanHead[:0], header...), r.channel)
				w.chanOf = r.channel
			}
			buf = append(buf, w.chanHead...)
			buf = appendBulk(buf, r.payload)
			r.payload = nil
			w.inflight.push(r)
			n++
		}
		rest := copy(pc.queue, pc.queue[n:])
		clear(pc.queue[rest:])
		pc.queue = pc.queue[:rest]
		pc.mu.Unlock()

		if pc.p.writeTimeout > 0 {
			_ = w.c.SetWriteDeadline(time.Now().Add(pc.p.writeTimeout))
		}
		_, err := w.c.Write(buf)
		if cap(buf) > maxWrite*2 {
			buf = nil // a large payload: do not keep its buffer
		}
		w.wbuf = buf
		if err != nil {
			w.fail(err)
		}
	}
}

// readLoop parses replies and wakes their callers, in order.
func (w *wire) readLoop() {
	pc := w.pc
	t := pc.p.t
	defer t.wg.Done()
	br := bufio.NewReaderSize(w.c, 32<<10)
	var reps []error
	var woken []*preq
	for {
		reps = reps[:0]
		w.wake.reading(true)
		rep, err := readReply(br)
		w.wake.reading(false)
		if err != nil && w.wake.resume(err) {
			_ = w.c.SetReadDeadline(time.Now().Add(pc.p.readTimeout))
			continue
		}
		if err != nil {
			w.fail(err)
			return
		}
		reps = append(reps, rep)
		if reps, err = readBuffered(br, reps); err != nil {
			w.fail(err)
			return
		}
		pc.mu.Lock()
		if w.inflight.n < len(reps) {
			pc.mu.Unlock()
			w.fail(errProtocol)
			return
		}
		pc.heard++
		woken = woken[:0]
		for range reps {
			woken = append(woken, w.inflight.pop())
		}
		switch {
		case pc.p.readTimeout == 0:
		case w.inflight.n > 0:
			_ = w.c.SetReadDeadline(time.Now().Add(pc.p.readTimeout))
		default:
			_ = w.c.SetReadDeadline(time.Time{})
		}
		w.delivering = true
		owed := w.inflight.frontRun(lowatMax/minReply + 1)
		pc.mu.Unlock()
		w.wake.set(wakeAfter(owed))
		for i := 0; i < len(woken); {
			// (a batch's requests wake one caller, at its last reply)
			k := 0
			for ; i < len(woken) && k < wakeChunk; i++ {
				b := woken[i].batch
				if b == nil {
					k++
					woken[i].finish(reps[i])
					continue
				}
				j := i + 1
				for j < len(woken) && woken[j].batch == b {
					j++
				}
				b.finish(woken[i:j], reps[i:j])
				i = j - 1
			}
			if k > 0 {
				// The callers just woken often publish again at once: let
				// them queue, then write all they queued in one go.
				runtime.Gosched()
			}
			pc.mu.Lock()
			if i == len(woken) {
				w.delivering = false
			}
			write := !w.writing && !w.failed && len(pc.queue) > 0
			if write {
				w.writing = true
			}
			pc.mu.Unlock()
			if write {
				w.flush()
			}
		}
		clear(woken)
	}
}
