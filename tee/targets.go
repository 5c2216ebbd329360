package tee

import (
	"errors"
	"fmt"
	"reflect"
	"slices"

	"github.com/eventpub/eventpub/transport"
)

// TargetStats are one target's counters.
type TargetStats struct {
	// Name is the target's String() when it has one (drivers hide secrets
	// there), else its Go type.
	Name string
	// Primary is true for the primary target.
	Primary bool
	// Published counts the messages the target accepted.
	Published uint64
	// Failed counts the messages the target refused or could not take.
	Failed uint64
}

// Stats returns the counters of the current targets, primary first.
func (t *Transport) Stats() []TargetStats {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]TargetStats, len(t.targets))
	for i, tg := range t.targets {
		out[i] = tg.stats(i == 0)
	}
	return out
}

// StatsOf returns the counters of tr, and false when tr is not a target.
func (t *Transport) StatsOf(tr transport.Transport) (TargetStats, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	i := t.index(tr)
	if i < 0 {
		return TargetStats{}, false
	}
	return t.targets[i].stats(i == 0), true
}

func (tg *target) stats(primary bool) TargetStats {
	c := tg.counts.Snapshot()
	return TargetStats{Name: tg.name, Primary: primary, Published: c.Published, Failed: c.Failed}
}

// Add makes tr a new secondary target, with counters from zero. It waits
// for publishes in flight; every later publish reaches tr.
func (t *Transport) Add(tr transport.Transport) error {
	if tr == nil {
		return errors.New("tee: Add: the transport is nil")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return transport.ErrClosed
	}
	if t.index(tr) >= 0 {
		return fmt.Errorf("tee: Add: %s is already a target", nameOf(tr))
	}
	t.targets = append(t.targets, newTarget(tr))
	return nil
}

// Remove takes tr out of the targets and returns its final counters. When
// tr is the primary, the first secondary becomes the primary. It waits for
// publishes in flight, so once it returns the tee no longer uses tr, which
// it does not close. The last target cannot be removed.
func (t *Transport) Remove(tr transport.Transport) (TargetStats, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return TargetStats{}, transport.ErrClosed
	}
	i := t.index(tr)
	if i < 0 {
		return TargetStats{}, fmt.Errorf("tee: Remove: %s is not a target", nameOf(tr))
	}
	if len(t.targets) == 1 {
		return TargetStats{}, fmt.Errorf("tee: Remove: %s is the only target; a tee needs one", nameOf(tr))
	}
	st := t.targets[i].stats(i == 0)
	t.targets = slices.Delete(slices.Clone(t.targets), i, i+1)
	return st, nil
}

// SetPrimary makes tr the primary, adding it when it is not a target yet.
// The former primary becomes the first secondary; counters are kept. It
// waits for publishes in flight.
func (t *Transport) SetPrimary(tr transport.Transport) error {
	if tr == nil {
		return errors.New("tee: SetPrimary: the transport is nil")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return transport.ErrClosed
	}
	tg := newTarget(tr)
	rest := slices.Clone(t.targets)
	if i := t.index(tr); i >= 0 {
		tg = rest[i]
		rest = slices.Delete(rest, i, i+1)
	}
	t.targets = append([]*target{tg}, rest...)
	return nil
}

// limit returns the smallest non-zero MaxPayload of the targets, asked
// anew on every call: a driver may learn its limit only once connected
// (NATS). mu is held.
func (t *Transport) limit() int {
	least := 0
	for _, tg := range t.targets {
		if m := tg.t.Capabilities().MaxPayload; m > 0 && (least == 0 || m < least) {
			least = m
		}
	}
	return least
}

// index returns tr's position among the targets, or -1.
func (t *Transport) index(tr transport.Transport) int {
	for i, tg := range t.targets {
		if same(tg.t, tr) {
			return i
		}
	}
	return -1
}

// same reports whether a and b are the same transport, without the panic
// == gives for values of types that cannot be compared.
func same(a, b transport.Transport) bool {
	if a == nil || b == nil {
		return a == b
	}
	ta, tb := reflect.TypeOf(a), reflect.TypeOf(b)
	if ta != tb || !ta.Comparable() {
		return false
	}
	return a == b
}

// nameOf names tr for errors and stats.
func nameOf(tr transport.Transport) string {
	if tr == nil {
		return "<nil>"
	}
	if s, ok := tr.(fmt.Stringer); ok {
		return s.String()
	}
	return fmt.Sprintf("%T", tr)
}
