package dashboard

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// client is one connected WebSocket or event-stream reader. Frames wait in
// out; the hub never blocks on it: when out is full the client is dropped.
type client struct {
	out    chan []byte
	ctx    context.Context
	cancel context.CancelFunc
	mu     sync.Mutex
	reason string // why the client was dropped; "" while it is not
	// writing is when the write in progress began (UnixNano), 0 between
	// writes; the hub's watchdog drops a client whose write takes too long.
	writing atomic.Int64
	// kill, when set before the client joins, cuts its connection at once;
	// drop calls it for a client too slow to be closed politely.
	kill func()
}

func newClient(parent context.Context, buffer int) *client {
	ctx, cancel := context.WithCancel(parent)
	// Two more places: the history and broker-state frames sent on join.
	return &client{out: make(chan []byte, buffer+2), ctx: ctx, cancel: cancel}
}

// send queues frame without waiting; a full queue drops the client.
func (c *client) send(frame []byte) bool {
	select {
	case c.out <- frame:
		return true
	default:
		c.drop(reasonSlow)
		return false
	}
}

// drop ends the client's connection, giving the reason once.
func (c *client) drop(reason string) {
	c.mu.Lock()
	first := c.reason == ""
	if first {
		c.reason = reason
	}
	c.mu.Unlock()
	c.cancel()
	if first && reason != reasonClosing && c.kill != nil {
		c.kill()
	}
}

// dropReason says why the client was dropped, "" when it was not.
func (c *client) dropReason() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reason
}

// hub fans frames out to the clients and keeps the history.
type hub struct {
	mu       sync.Mutex
	clients  map[*client]struct{}
	history  [][]byte // ring of the latest logs and events frames
	head     int      // index of the oldest frame once the ring is full
	capacity int
	histName string // the history frame's channel, JSON-quoted
	state    []byte // the current broker-state frame, nil before the first check
	closed   bool
	slow     uint64 // clients dropped as too slow (buffer full or write stuck)
}

func newHub(capacity int, histName string) *hub {
	return &hub{clients: map[*client]struct{}{}, capacity: capacity, histName: histName}
}

// join registers c and queues the history and broker state for it first,
// so that it misses no frame and sees none twice. It is false once closed.
func (h *hub) join(c *client) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	if len(h.history) > 0 {
		c.out <- h.historyFrame()
	}
	if h.state != nil {
		c.out <- h.state
	}
	h.clients[c] = struct{}{}
	return true
}

// leave forgets c.
func (h *hub) leave(c *client) {
	h.mu.Lock()
	delete(h.clients, c)
	h.mu.Unlock()
}

// historyFrame builds {"channel":NS:history,"data":[frames oldest first]}.
func (h *hub) historyFrame() []byte {
	n := len(`{"channel":,"data":[]}`) + len(h.histName)
	for _, f := range h.history {
		n += len(f) + 1
	}
	b := make([]byte, 0, n)
	b = append(b, `{"channel":`...)
	b = append(b, h.histName...)
	b = append(b, `,"data":[`...)
	for i := range h.history {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, h.history[(h.head+i)%len(h.history)]...)
	}
	return append(b, "]}"...)
}

// broadcast queues frame for every client, keeping it in the history when
// keep is true. A client whose queue is full is dropped.
func (h *hub) broadcast(frame []byte, keep bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if keep && h.capacity > 0 {
		if len(h.history) < h.capacity {
			h.history = append(h.history, frame)
		} else {
			h.history[h.head] = frame
			h.head = (h.head + 1) % h.capacity
		}
	}
	for c := range h.clients {
		if !c.send(frame) {
			delete(h.clients, c)
			h.slow++
		}
	}
}

// setState records and sends a broker-state frame.
func (h *hub) setState(frame []byte) {
	h.mu.Lock()
	h.state = frame
	h.mu.Unlock()
	h.broadcast(frame, false)
}

// close drops every client and refuses new ones.
func (h *hub) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for c := range h.clients {
		c.drop(reasonClosing)
		delete(h.clients, c)
	}
}

// dropStuck drops the clients whose current write began before cutoff.
func (h *hub) dropStuck(cutoff time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c0 := cutoff.UnixNano()
	for c := range h.clients {
		if w := c.writing.Load(); w != 0 && w < c0 {
			c.drop(reasonStuck)
			delete(h.clients, c)
			h.slow++
		}
	}
}

// dropSlow drops c for the reason given and counts it as too slow, unless
// it has left already (the watchdog may have dropped it first).
func (h *hub) dropSlow(c *client, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.clients[c]; !ok {
		return
	}
	c.drop(reason)
	delete(h.clients, c)
	h.slow++
}

// counts returns the number of clients and of those dropped as too slow.
func (h *hub) counts() (clients int, slow uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.clients), h.slow
}
