package mqtt

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/eclipse/paho.golang/paho"
	"github.com/eventpub/eventpub/transport"
)

// Subscribe starts delivery of the given channels, each an exact topic
// (see checkTopic: no '+', '#' or leading '$'). It returns once the server
// has acknowledged every new subscription (SUBACK). While the connection
// is down it fails at once with ErrUnavailable. Messages are received
// with the configured QoS (default 1) and carry their user properties as
// Header.
func (t *Transport) Subscribe(ctx context.Context, channels ...string) (transport.Subscription, error) {
	for _, ch := range channels {
		if err := checkTopic(ch); err != nil {
			return nil, err
		}
	}
	return t.subscribe(ctx, channels)
}

// SubscribePattern starts delivery of MQTT topic filters: '+' matches one
// level and '#', last, any number of levels (including none), with '/'
// separating levels: "codeworm/+/logs", "codeworm/#". Since ':' is not a
// separator, "codeworm:logs" is one level, matched by "+" or "#" but not
// by "codeworm:+". Wildcards at the first level do not match topics that
// start with '$'. "$share/GROUP/FILTER" gives a shared subscription
// (each message goes to one member of the group).
func (t *Transport) SubscribePattern(ctx context.Context, patterns ...string) (transport.Subscription, error) {
	for _, p := range patterns {
		if err := checkFilter(p); err != nil {
			return nil, err
		}
	}
	return t.subscribe(ctx, patterns)
}

func (t *Transport) subscribe(ctx context.Context, filters []string) (transport.Subscription, error) {
	if len(filters) == 0 {
		return nil, errors.New("eventpub/mqtt: Subscribe needs at least one channel")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	filters = slices.Compact(slices.Sorted(slices.Values(filters)))
	t.subMu.Lock()
	defer t.subMu.Unlock()
	l, err := t.current()
	if err != nil {
		return nil, err
	}
	s := &subscription{t: t, filters: filters, ch: make(chan transport.Message, t.cfg.SubscriptionBuffer), done: make(chan struct{})}
	// Register first, so that nothing sent right after a SUBACK is missed.
	t.mu.Lock()
	var added []string
	for _, f := range filters {
		st := t.filters[f]
		if st == nil {
			t.nextID++
			st = &filterState{id: t.nextID}
			t.filters[f] = st
			t.byID[st.id] = f
			added = append(added, f)
		}
		st.refs++
	}
	t.subs[s] = struct{}{}
	t.adoptPending(s)
	t.mu.Unlock()

	wctx, cancel := t.bound(ctx, l)
	defer cancel()
	for i, f := range added {
		t.mu.RLock()
		id := t.filters[f].id
		t.mu.RUnlock()
		if sa, err := l.cli.Subscribe(wctx, t.subscribePacket(f, id)); err != nil {
			// Unsubscribe only from what the server did subscribe.
			t.release(s, added[i:]...)
			return nil, t.subscribeError(ctx, f, sa, err)
		}
	}
	return s, nil
}

// subscribePacket is the SUBSCRIBE for one filter with its identifier.
func (t *Transport) subscribePacket(filter string, id int) *paho.Subscribe {
	return &paho.Subscribe{
		Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: t.cfg.QoS.level()}},
		Properties:    &paho.SubscribeProperties{SubscriptionIdentifier: &id},
	}
}

// subscribeError classifies a failed SUBSCRIBE; sa is the SUBACK if one came.
func (t *Transport) subscribeError(ctx context.Context, filter string, sa *paho.Suback, err error) error {
	if sa != nil && len(sa.Reasons) > 0 && sa.Reasons[0] >= rcUnspecified {
		reason := ""
		if sa.Properties != nil {
			reason = sa.Properties.ReasonString
		}
		return reasonError("subscribe to "+transport.QuoteChannel(filter), sa.Reasons[0], reason)
	}
	if errors.Is(err, paho.ErrInvalidArguments) {
		return fmt.Errorf("eventpub/mqtt: subscribe to %s: %w", transport.QuoteChannel(filter), err)
	}
	return callError(ctx, "subscribe", err)
}

// release unregisters s and unsubscribes from the filters no other
// subscription uses, but for those in skip. The caller holds subMu.
func (t *Transport) release(s *subscription, skip ...string) {
	t.mu.Lock()
	delete(t.subs, s)
	var gone []string
	for _, f := range s.filters {
		st := t.filters[f]
		if st == nil {
			continue
		}
		if st.refs--; st.refs == 0 {
			delete(t.filters, f)
			delete(t.byID, st.id)
			if !slices.Contains(skip, f) {
				gone = append(gone, f)
			}
		}
	}
	l, closed := t.link, t.closed
	t.mu.Unlock()
	if len(gone) == 0 || l == nil || closed {
		return
	}
	ctx, cancel := t.bound(l.ctx, l)
	defer cancel()
	_, _ = l.cli.Unsubscribe(ctx, &paho.Unsubscribe{Topics: gone})
}

// onPublish hands a received message to every subscription that wants it.
// It runs on paho's delivery goroutine; see deliver for a full buffer.
func (t *Transport) onPublish(pr paho.PublishReceived) (bool, error) {
	p := pr.Packet
	msg := transport.Message{Channel: p.Topic, Payload: p.Payload}
	id := 0
	if p.Properties != nil {
		if len(p.Properties.User) > 0 {
			msg.Header = make(map[string]string, len(p.Properties.User))
			for _, u := range p.Properties.User {
				msg.Header[u.Key] = u.Value
			}
		}
		if p.Properties.SubscriptionIdentifier != nil {
			id = *p.Properties.SubscriptionIdentifier
		}
	}
	if msg.Payload == nil {
		msg.Payload = []byte{}
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	byID, known := t.byID[id]
	// An identifier from an earlier run of a kept session may name
	// another filter now: trust it only when that filter matches.
	known = known && matches(byID, msg.Channel)
	taken := false
	for s := range t.subs {
		if s.wants(msg.Channel, byID, known) {
			s.deliver(msg)
			taken = true
		}
	}
	if !taken && t.cfg.KeepSession {
		// A resumed session delivers what it queued right after CONNACK,
		// before the program has subscribed again: keep it for the first
		// subscription that matches. (t.mu is held for reading, so
		// pendMu guards the list; adoptPending holds t.mu for writing.)
		t.pendMu.Lock()
		if len(t.pending) < t.cfg.SubscriptionBuffer {
			t.pending = append(t.pending, msg)
		}
		t.pendMu.Unlock()
	}
	return true, nil
}

// adoptPending moves the kept messages s matches into s. The caller holds
// t.mu.
func (t *Transport) adoptPending(s *subscription) {
	kept := t.pending[:0]
	for _, m := range t.pending {
		if s.wants(m.Channel, "", false) {
			s.deliver(m)
		} else {
			kept = append(kept, m)
		}
	}
	clear(t.pending[len(kept):])
	t.pending = kept
}

// subscription is one Subscribe or SubscribePattern call's delivery.
type subscription struct {
	t       *Transport
	filters []string
	ch      chan transport.Message
	done    chan struct{}
	once    sync.Once
}

// wants reports whether s takes a message on topic. When the server said
// which subscription the message is for (its identifier, known), only
// that filter counts, so overlapping filters of different subscriptions
// do not deliver one copy twice.
func (s *subscription) wants(topic, filter string, known bool) bool {
	if known {
		_, ok := slices.BinarySearch(s.filters, filter)
		return ok
	}
	for _, f := range s.filters {
		if matches(f, topic) {
			return true
		}
	}
	return false
}

// deliver hands m to s. At QoS 0 a full buffer loses m; at QoS 1 and 2
// deliver waits for room (or for s to close), which holds back the
// acknowledgement of m and, once paho's own buffer is full too, the
// server's further deliveries to this connection: at least once holds
// for a slow reader at the price of its transport's other subscriptions.
func (s *subscription) deliver(m transport.Message) {
	select {
	case s.ch <- m:
		return
	case <-s.done:
		return
	default:
	}
	if s.t.cfg.QoS.level() == 0 {
		return
	}
	select {
	case s.ch <- m:
	case <-s.done:
	}
}

// Next returns the next message, ctx's error when it ends first, or
// ErrClosed once the subscription or its transport is closed.
func (s *subscription) Next(ctx context.Context) (transport.Message, error) {
	if err := ctx.Err(); err != nil {
		return transport.Message{}, err
	}
	select {
	case <-s.done:
		return transport.Message{}, errClosed
	default:
	}
	select {
	case m := <-s.ch:
		return m, nil
	case <-s.done:
		return transport.Message{}, errClosed
	case <-ctx.Done():
		return transport.Message{}, ctx.Err()
	}
}

// Close stops delivery and unsubscribes from filters no other
// subscription of the transport uses. It is idempotent.
func (s *subscription) Close() error {
	s.once.Do(func() {
		close(s.done)
		s.t.subMu.Lock()
		s.t.release(s)
		s.t.subMu.Unlock()
	})
	return nil
}

// end closes s when its transport closes.
func (s *subscription) end() { s.once.Do(func() { close(s.done) }) }
