package tee_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventpub/eventpub"
	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/tee"
	"github.com/eventpub/eventpub/transport"
)

// TestMigrationRedisToNATS: a service publishes CodeWorm events through
// tee(Redis, NATS); a Redis and a NATS subscriber each receive every one.
// Then, while the service keeps publishing, Redis is removed from the tee:
// the NATS subscriber still receives every event, once, in order.
func TestMigrationRedisToNATS(t *testing.T) {
	for _, b := range brokertest.Pairs(t) {
		t.Run(b.Name, func(t *testing.T) { testMigration(t, b) })
	}
}

func testMigration(t *testing.T, b brokertest.Pair) {
	const before, total = 200, 1200
	ns := "eventpub-tee-" + brokertest.Unique()
	channel := ns + ":events"
	redisSide := brokertest.Open(t, b.RedisURL)
	natsSide := brokertest.Open(t, b.NATSURL)
	fromRedis := brokertest.Collect(t, brokertest.Open(t, b.RedisURL), channel)
	fromNATS := brokertest.Collect(t, brokertest.Open(t, b.NATSURL), channel)

	tt, err := tee.New(redisSide, []transport.Transport{natsSide}, tee.WithSecondaryFailure(tee.FailCall))
	if err != nil {
		t.Fatal(err)
	}
	clock := func() time.Time { return time.Date(2024, 5, 1, 12, 0, 0, 123456000, time.Local) }
	svc := eventpub.New(tt, eventpub.WithNamespace(ns), eventpub.WithClock(clock))
	defer svc.Close(context.Background())
	publish := func(i int) error {
		return svc.PublishEvent(ctxT(t), "tick", map[string]any{"seq": i, "note": "ü\u2028<&>"})
	}

	// Dual-writing: both subscribers see every event, byte for byte alike.
	for i := range before {
		if err := publish(i); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
	r := fromRedis.Wait(t, "Redis subscriber", before)
	n := fromNATS.Wait(t, "NATS subscriber", before)
	for i := range before {
		if !bytes.Equal(r[i].Payload, n[i].Payload) || seqOf(t, n[i]) != i {
			t.Fatalf("event %d: Redis has %q, NATS has %q", i, r[i].Payload, n[i].Payload)
		}
	}

	// Switch while the service keeps publishing.
	var next atomic.Int64
	next.Store(before)
	var wg sync.WaitGroup
	var pubErr error
	wg.Go(func() {
		for i := before; i < total; i++ {
			if err := publish(i); err != nil {
				pubErr = err
				return
			}
			next.Store(int64(i + 1))
		}
	})
	for next.Load() < (before+total)/2 && next.Load() < total {
		time.Sleep(time.Millisecond)
	}
	removed, err := tt.Remove(redisSide)
	if err != nil {
		t.Fatal(err)
	}
	_ = redisSide.Close() // the tee no longer uses it
	wg.Wait()
	if pubErr != nil {
		t.Fatalf("publishing across the switch: %v", pubErr)
	}

	all := fromNATS.Wait(t, "NATS subscriber after the switch", total)
	for i, m := range all {
		if got := seqOf(t, m); got != i {
			t.Fatalf("NATS message %d carries seq %d: lost or reordered across the switch", i, got)
		}
	}
	if removed.Published == before || removed.Published >= total {
		t.Errorf("Redis took %d events; the switch did not happen while publishing", removed.Published)
	}
	old := fromRedis.Wait(t, "Redis subscriber", int(removed.Published))
	for i, m := range old {
		if got := seqOf(t, m); got != i {
			t.Fatalf("Redis message %d carries seq %d", i, got)
		}
	}
	st := tt.Stats()
	if len(st) != 1 || st[0].Published != total || st[0].Failed != 0 || st[0].Name != natsSide.(fmt.Stringer).String() {
		t.Errorf("Stats after the switch = %+v, want NATS alone with all %d events", st, total)
	}
	time.Sleep(50 * time.Millisecond) // a late extra message would show now
	if got := fromNATS.Count(); got != total {
		t.Errorf("NATS subscriber has %d messages, want exactly %d", got, total)
	}
}

// seqOf returns data.seq of a CodeWorm event envelope.
func seqOf(t testing.TB, m transport.Message) int {
	t.Helper()
	var env struct {
		Type      string         `json:"type"`
		Timestamp string         `json:"timestamp"`
		Data      map[string]any `json:"data"`
	}
	if err := json.Unmarshal(m.Payload, &env); err != nil || env.Type != "tick" || env.Timestamp != "2024-05-01T12:00:00.123456" {
		t.Fatalf("not the event envelope expected: %q (%v)", m.Payload, err)
	}
	seq, ok := env.Data["seq"].(float64)
	if !ok {
		t.Fatalf("no data.seq in %q", m.Payload)
	}
	return int(seq)
}
