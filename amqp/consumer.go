package amqp

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventpub/eventpub/transport"
	amqp091 "github.com/rabbitmq/amqp091-go"
)

// delivery is one received message waiting in a subscription's buffer.
type delivery struct {
	msg transport.Message
	ack *ackRef
}

// ackRef acknowledges a message once every subscription it was handed to
// has read it or let it go: ack when any read it, else requeue it.
type ackRef struct {
	d    amqp091.Delivery
	seen *idRing // the durable queue's: ids handed out, or nil
	refs atomic.Int32
	read atomic.Bool
}

func (a *ackRef) release(read bool) {
	if read {
		a.read.Store(true)
	}
	if a.refs.Add(-1) == 0 {
		if a.read.Load() {
			if a.seen != nil {
				a.seen.add(a.d.MessageId)
			}
			_ = a.d.Ack(false)
		} else {
			_ = a.d.Nack(false, true)
		}
	}
}

// idRing remembers the last message ids a durable-queue consumer handed
// out. An ack still on its way when the connection ends is lost and the
// broker delivers the message again, marked redelivered; one whose id is
// here was read already and is dropped.
type idRing struct {
	mu   sync.Mutex
	ids  map[string]struct{}
	ring []string
	next int
}

const idRingSize = 8192

func (r *idRing) add(id string) {
	if id == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ids == nil {
		r.ids, r.ring = make(map[string]struct{}, idRingSize), make([]string, idRingSize)
	}
	if old := r.ring[r.next]; old != "" {
		delete(r.ids, old)
	}
	r.ring[r.next] = id
	r.ids[id] = struct{}{}
	r.next = (r.next + 1) % idRingSize
}

func (r *idRing) has(id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.ids[id]
	return ok
}

// consumer is one AMQP consumer on one queue, handing deliveries to its
// subscriptions (one for an exclusive queue, several for the durable
// queue). It re-creates itself on every new connection.
type consumer struct {
	t     *Transport
	queue string // "": an exclusive server-named queue

	mu    sync.Mutex
	keys  []string // binding keys
	sinks map[*subscription]struct{}
	ch    *amqp091.Channel
	seen  *idRing // durable queue only

	once    sync.Once
	done    chan struct{} // closed by stop
	stopped chan struct{} // closed when loop has ended
}

// open declares the queue, binds the keys and starts consuming on s.
func (c *consumer) open(s *session) (<-chan amqp091.Delivery, error) {
	t := c.t
	ch, err := s.conn.Channel()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.ch = ch
	keys := slices.Clone(c.keys)
	c.mu.Unlock()
	if err := ch.Qos(t.cfg.SubscriptionBuffer, 0, false); err != nil {
		return nil, err
	}
	// Declared here too, so that a subscription binds even after the
	// exchange was deleted since the connection was made.
	if err := ch.ExchangeDeclare(t.cfg.Exchange, "topic", true, false, false, false, nil); err != nil {
		return nil, t.classify(nil, err, fmt.Sprintf("declare exchange %q", t.cfg.Exchange))
	}
	q := c.queue
	if q == "" {
		declared, err := ch.QueueDeclare("", false, true, true, false, nil)
		if err != nil {
			return nil, t.classify(nil, err, "declare subscription queue")
		}
		q = declared.Name
	} else if _, err := ch.QueueDeclare(q, true, false, false, false, nil); err != nil {
		return nil, t.classify(nil, err, fmt.Sprintf("declare queue %q", q))
	}
	for _, k := range keys {
		if err := ch.QueueBind(q, k, t.cfg.Exchange, false, nil); err != nil {
			return nil, t.classify(nil, err, fmt.Sprintf("bind queue %q to %s", q, transport.QuoteChannel(k)))
		}
	}
	dels, err := ch.Consume(q, "", false, false, false, false, nil)
	if err != nil {
		return nil, t.classify(nil, err, fmt.Sprintf("consume queue %q", q))
	}
	return dels, nil
}

func (c *consumer) closeChannel() {
	c.mu.Lock()
	ch := c.ch
	c.mu.Unlock()
	if ch != nil {
		_ = ch.Close()
	}
}

// stop ends the consumer; its loop closes the channel.
func (c *consumer) stop() { c.once.Do(func() { close(c.done) }) }

// loop hands deliveries out until stop, and after the channel or the
// connection ends opens the consumer again on the next session.
func (c *consumer) loop(dels <-chan amqp091.Delivery) {
	defer close(c.stopped)
	defer c.closeChannel()
	t := c.t
	backoff := t.cfg.MinBackoff
	for {
		if !c.pump(dels) {
			return
		}
		// The broker cancelled the consumer (its queue was deleted) or the
		// channel or connection ended: let the old channel go.
		c.closeChannel()
		for {
			s := t.waitSession(c.done)
			if s == nil {
				return
			}
			var err error
			if dels, err = c.open(s); err == nil {
				backoff = t.cfg.MinBackoff
				break
			}
			c.closeChannel()
			select {
			case <-time.After(backoff):
			case <-c.done:
				return
			}
			backoff = min(2*backoff, t.cfg.MaxBackoff)
		}
	}
}

// pump hands deliveries to the matching subscriptions until dels ends
// (it returns true) or the consumer stops (false).
func (c *consumer) pump(dels <-chan amqp091.Delivery) bool {
	var targets []*subscription
	for {
		var d amqp091.Delivery
		var ok bool
		select {
		case d, ok = <-dels:
			if !ok {
				return true
			}
		case <-c.done:
			return false
		}
		targets = targets[:0]
		c.mu.Lock()
		for s := range c.sinks {
			if s.wants(d.RoutingKey) {
				targets = append(targets, s)
			}
		}
		c.mu.Unlock()
		if len(targets) == 0 || (d.Redelivered && c.seen != nil && c.seen.has(d.MessageId)) {
			_ = d.Ack(false) // no subscription wants it, or it was read already
			continue
		}
		ref := &ackRef{d: d, seen: c.seen}
		ref.refs.Store(int32(len(targets)))
		msg := transport.Message{Channel: d.RoutingKey, Payload: d.Body, Header: headers(d.Headers)}
		for _, s := range targets {
			select {
			case s.buf <- delivery{msg: msg, ack: ref}:
			case <-s.done:
				ref.release(false)
			case <-c.done:
				ref.release(false)
			}
		}
	}
}

// headers turns AMQP headers into a Message.Header.
func headers(tab amqp091.Table) map[string]string {
	if len(tab) == 0 {
		return nil
	}
	h := make(map[string]string, len(tab))
	for k, v := range tab {
		switch v := v.(type) {
		case string:
			h[k] = v
		case []byte:
			h[k] = string(v)
		default:
			h[k] = fmt.Sprint(v)
		}
	}
	return h
}

// waitSession returns the live session once there is one, or nil when
// done is closed or the transport closes.
func (t *Transport) waitSession(done <-chan struct{}) *session {
	for {
		t.mu.Lock()
		s, changed := t.sess, t.changed
		t.mu.Unlock()
		if s != nil {
			select {
			case <-s.dead:
			default:
				return s
			}
		}
		select {
		case <-changed:
		case <-done:
			return nil
		case <-t.done:
			return nil
		}
	}
}
