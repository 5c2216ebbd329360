package redis

import (
	"context"
	"sync"
	"sync/atomic"

	goredis "github.com/redis/go-redis/v9"
)

// Automatic pipelining. Publish calls are spread over a few lanes. A caller
// that finds its lane idle sends its own command at once, on its own
// goroutine (no hand-off on the sequential path). Callers that find the lane
// busy queue their command and wait; when the running flush ends, the first
// waiter becomes the lane's flusher and sends everything queued (up to
// MaxPipeline commands) in one pipeline, then hands the lane on. Each
// caller reads its own command's result.

// flushRounds caps the pipelines one flusher sends before handing on.
const flushRounds = 4

type request struct {
	cmd  goredis.Cmder
	also goredis.Cmder // nil, or a command sent right after cmd (dual mode)
	done chan struct{} // buffered 1: result ready, or lead is set
	lead bool          // set under the lane lock: flush the queue now
}

type lane struct {
	mu    sync.Mutex
	busy  bool
	queue []*request
	batch []*request // the flusher's scratch slice
}

type pipeliner struct {
	t     *Transport
	lanes []lane
	next  atomic.Uint32
	reqs  sync.Pool
}

func (p *pipeliner) init(t *Transport) {
	p.t = t
	p.lanes = make([]lane, t.cfg.PipelineConns)
	p.reqs.New = func() any { return &request{done: make(chan struct{}, 1)} }
}

// do runs cmd, coalesced with concurrent calls, and returns its error.
// When it returns, cmd (and so the payload) is no longer used.
func (p *pipeliner) do(ctx context.Context, cmd goredis.Cmder) error {
	return p.doWith(ctx, cmd, nil)
}

// doWith is do with also (when not nil) sent right after cmd in the same
// pipeline. It returns cmd's error, else also's.
func (p *pipeliner) doWith(ctx context.Context, cmd, also goredis.Cmder) error {
	l := &p.lanes[int(p.next.Add(1))%len(p.lanes)]
	l.mu.Lock()
	if !l.busy {
		l.busy = true
		l.mu.Unlock()
		var err error
		if also == nil {
			err = p.t.client.Process(ctx, cmd)
		} else {
			pipe := p.t.client.Pipeline()
			_ = pipe.Process(ctx, cmd)
			_ = pipe.Process(ctx, also)
			_, _ = pipe.Exec(ctx)
			err = pairErr(cmd, also)
		}
		l.mu.Lock()
		p.handOffLocked(l)
		l.mu.Unlock()
		return err
	}
	r := p.reqs.Get().(*request)
	r.cmd, r.also = cmd, also
	l.queue = append(l.queue, r)
	l.mu.Unlock()

	select {
	case <-r.done:
	case <-ctx.Done():
		l.mu.Lock()
		if i := indexOf(l.queue, r); i >= 0 {
			// Not sent yet: withdraw, passing on the lead if we had it.
			l.queue = append(l.queue[:i], l.queue[i+1:]...)
			if r.lead {
				p.handOffLocked(l)
			}
			l.mu.Unlock()
			p.release(r)
			return ctx.Err()
		}
		l.mu.Unlock()
		<-r.done // in flight: the pipeline is bounded by the I/O timeouts
	}
	if r.lead {
		p.flush(l)
	}
	err := pairErr(cmd, also)
	p.release(r)
	return err
}

// pairErr returns cmd's error, else also's when there is one.
func pairErr(cmd, also goredis.Cmder) error {
	if err := cmd.Err(); err != nil || also == nil {
		return err
	}
	return also.Err()
}

// flush sends the queued commands (ours first) in one pipeline and wakes
// their callers. While more are queued it sends them too, up to
// flushRounds pipelines, which saves waking a new flusher; then it hands
// the lane on.
func (p *pipeliner) flush(l *lane) {
	self := true
	for round := 0; ; round++ {
		l.mu.Lock()
		if round > 0 && (len(l.queue) == 0 || round == flushRounds) {
			p.handOffLocked(l)
			l.mu.Unlock()
			return
		}
		n := min(len(l.queue), p.t.cfg.MaxPipeline)
		batch := append(l.batch[:0], l.queue[:n]...)
		l.queue = append(l.queue[:0], l.queue[n:]...)
		l.batch = nil
		l.mu.Unlock()

		if n == 1 && batch[0].also == nil {
			_ = p.t.client.Process(context.Background(), batch[0].cmd)
		} else {
			pipe := p.t.client.Pipeline()
			for _, r := range batch {
				_ = pipe.Process(context.Background(), r.cmd)
				if r.also != nil {
					_ = pipe.Process(context.Background(), r.also)
				}
			}
			// Exec sets each command's own error.
			_, _ = pipe.Exec(context.Background())
		}
		wake := batch
		if self {
			// The flusher's own request is first; it reads its result
			// when flush returns.
			batch[0].lead = false
			wake, self = batch[1:], false
		}
		for _, r := range wake {
			r.done <- struct{}{}
		}
		clear(batch)
		l.mu.Lock()
		l.batch = batch[:0]
		l.mu.Unlock()
	}
}

// handOffLocked makes the first queued caller the flusher, or marks the
// lane idle.
func (p *pipeliner) handOffLocked(l *lane) {
	if len(l.queue) == 0 {
		l.busy = false
		return
	}
	r := l.queue[0]
	r.lead = true
	r.done <- struct{}{}
}

func (p *pipeliner) release(r *request) {
	select { // a lead signal may be pending after a withdrawal
	case <-r.done:
	default:
	}
	r.cmd, r.also, r.lead = nil, nil, false
	p.reqs.Put(r)
}

func indexOf[T comparable](q []T, r T) int {
	for i, x := range q {
		if x == r {
			return i
		}
	}
	return -1
}
