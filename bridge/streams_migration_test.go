package bridge_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/eventpub/eventpub"
	_ "github.com/eventpub/eventpub/amqp"
	"github.com/eventpub/eventpub/bridge"
	"github.com/eventpub/eventpub/internal/brokertest"
	_ "github.com/eventpub/eventpub/nats"
	"github.com/eventpub/eventpub/redis"
	"github.com/eventpub/eventpub/tee"
	"github.com/eventpub/eventpub/transport"
	goredis "github.com/redis/go-redis/v9"
)

// migrationTargets are the brokers a service moves to: NATS JetStream
// (embedded, always) and RabbitMQ (when one listens; it has no in-process
// form). Each returns the target's URL.
var migrationTargets = []struct {
	name string
	url  func(t *testing.T) string
}{
	{"jetstream", func(t *testing.T) string {
		srv := brokertest.StartNATS(t)
		return srv.URL() + "?jetstream=" + brokertest.NATSStream(t, srv.URL())
	}},
	{"rabbitmq", func(t *testing.T) string {
		return brokertest.AMQPExchange(t, brokertest.RequireListening(t, brokertest.AMQPURLEnv, brokertest.AMQPDefaultURL))
	}},
}

// TestMigrationFromRedisStreams moves a service off Redis pub/sub, to each
// target, with nothing lost and nothing duplicated:
//
//  1. The service publishes in dual mode: CodeWorm's dashboard (a pub/sub
//     subscriber) keeps receiving live, and a stream keeps the history.
//  2. A bridge in a consumer group drains the history into the target and
//     is stopped; the service publishes more history meanwhile.
//  3. The service moves to tee(Redis pub/sub, target): the dashboard still
//     receives everything live, the target gets each new event directly,
//     and the stream (written only in dual mode) stops growing.
//  4. A new bridge in the same group resumes where the first stopped and
//     drains the rest of the history.
//
// The target then holds every event exactly once. The history arrives
// after the live events that followed it (compare data.seq, not arrival
// order); a bridge acknowledges an entry when it takes the next one or
// stops, so only a bridge that dies (not stopped) would relay its last
// taken entry again after a restart.
func TestMigrationFromRedisStreams(t *testing.T) {
	for _, target := range migrationTargets {
		t.Run(target.name, func(t *testing.T) { testMigration(t, target.url(t)) })
	}
}

func testMigration(t *testing.T, targetURL string) {
	redisURL := brokertest.RealRedisURL()
	if redisURL == "" {
		redisURL = brokertest.StartMiniredis(t).URL()
	}
	const drained1, history, total = 100, 200, 400

	ns := "eventpub-mig-" + brokertest.Unique()
	channel := ns + ":events"
	sep := "?"
	if strings.Contains(redisURL, "?") {
		sep = "&"
	}
	group := "migrate-" + brokertest.Unique()
	streamsURL := redisURL + sep + "mode=streams&group=" + group + "&consumer=bridge"
	t.Cleanup(func() {
		o, _ := goredis.ParseURL(redisURL)
		c := goredis.NewClient(o)
		c.Del(context.Background(), channel)
		_ = c.Close()
	})

	dashboard := brokertest.Collect(t, brokertest.Open(t, redisURL), channel)
	target := brokertest.Open(t, targetURL)
	fromTarget := brokertest.Collect(t, brokertest.Open(t, targetURL), channel)

	clock := func() time.Time { return time.Date(2024, 5, 1, 12, 0, 0, 123456000, time.Local) }
	publishRange := func(tr transport.Transport, from, to int) {
		t.Helper()
		svc := eventpub.New(tr, eventpub.WithNamespace(ns), eventpub.WithClock(clock), eventpub.WithKeepOpen())
		for i := from; i < to; i++ {
			if err := svc.PublishEvent(ctxT(t), "tick", map[string]any{"seq": i}); err != nil {
				t.Fatalf("event %d: %v", i, err)
			}
		}
		if err := svc.Close(ctxT(t)); err != nil {
			t.Fatal(err)
		}
	}
	drain := func(what string, n int) {
		t.Helper()
		b, err := bridge.New(brokertest.Open(t, streamsURL), target)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Start(ctxT(t), channel); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(20 * time.Second); b.Stats().Relayed < uint64(n); {
			if time.Now().After(deadline) {
				t.Fatalf("%s relayed %d of %d history events", what, b.Stats().Relayed, n)
			}
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond) // an extra one would be taken now
		if err := b.Stop(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		if st := b.Stats(); st.Received != uint64(n) || st.Relayed != uint64(n) {
			t.Fatalf("%s: stats %+v, want %d received and relayed", what, st, n)
		}
	}

	// 1 and 2: dual mode, history drained in two runs of the bridge.
	dual := brokertest.Open(t, redisURL+sep+"mode=dual")
	publishRange(dual, 0, drained1)
	drain("the first bridge", drained1)
	publishRange(dual, drained1, history)

	// 3: the service moves to the target through tee.
	pubsub, err := redis.Open(context.Background(), redisURL)
	if err != nil {
		t.Fatal(err)
	}
	tt, err := tee.New(pubsub, []transport.Transport{target}, tee.WithSecondaryFailure(tee.FailCall), tee.WithKeepOpen())
	if err != nil {
		t.Fatal(err)
	}
	publishRange(tt, history, total)
	_ = tt.Close()
	_ = pubsub.Close()

	// 4: a restarted bridge drains the rest of the history.
	drain("the restarted bridge", history-drained1)

	live := dashboard.Wait(t, "the dashboard", total)
	for i, m := range live {
		if got := eventSeq(t, m); got != i {
			t.Fatalf("dashboard message %d carries seq %d", i, got)
		}
	}
	got := fromTarget.Wait(t, "the target", total)
	seen := make(map[int]bool, total)
	lastHistory := -1
	for _, m := range got {
		s := eventSeq(t, m)
		if seen[s] {
			t.Fatalf("seq %d reached the target twice", s)
		}
		seen[s] = true
		if s < history {
			if s < lastHistory {
				t.Fatalf("history seq %d after %d: the bridge reordered", s, lastHistory)
			}
			lastHistory = s
		}
	}
	if len(seen) != total {
		t.Fatalf("the target has %d distinct events, want %d", len(seen), total)
	}
	time.Sleep(100 * time.Millisecond)
	if n := fromTarget.Count(); n != total {
		t.Fatalf("the target has %d messages, want exactly %d", n, total)
	}
}

func eventSeq(t *testing.T, m transport.Message) int {
	t.Helper()
	var env struct {
		Data struct {
			Seq *int `json:"seq"`
		} `json:"data"`
	}
	if err := json.Unmarshal(m.Payload, &env); err != nil || env.Data.Seq == nil {
		t.Fatalf("not an event with data.seq: %q (%v)", m.Payload, err)
	}
	return *env.Data.Seq
}
