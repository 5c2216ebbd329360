package bridge_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/internal/kafkatest"
	"github.com/eventpub/eventpub/kafka"
	"github.com/eventpub/eventpub/transport"
)

// TestMigrateRedisToKafka moves a service's channels from Redis (miniredis)
// to Kafka (a 3-broker kfake cluster) with a bridge: every payload arrives
// byte for byte on the topic its channel maps to, the Kafka cluster is
// restarted in the middle without losing an event, and a Kafka reader
// replaying the topics afterwards sees every message, first arrivals in
// order per channel, under the original channel names (a message in
// flight when the cluster went down may be there twice: at least once).
func TestMigrateRedisToKafka(t *testing.T) {
	mini := brokertest.StartMiniredis(t)
	k := kafkatest.Start(t, kafkatest.Options{Brokers: 3, Restartable: true})
	ns := "eventpub-migrate-" + brokertest.Unique()
	chans := []string{ns + ":logs", ns + ":events"}
	from, publisher := brokertest.Open(t, mini.URL()), brokertest.Open(t, mini.URL())
	to, err := kafka.Open(ctxT(t), k.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = to.Close() })
	br := start(t, from, to, chans)
	detail := func() string { return fmt.Sprintf("stats %+v", br.Stats()) }

	var want []transport.Message
	send := func(m transport.Message) {
		t.Helper()
		if err := publisher.Publish(ctxT(t), m); err != nil {
			t.Fatalf("publishing on Redis: %v", err)
		}
		want = append(want, m)
	}
	for i, p := range testPayloads(t) {
		send(transport.Message{Channel: chans[i%2], Payload: p})
	}
	for i := range 200 {
		send(transport.Message{Channel: chans[i%2], Payload: fmt.Appendf(nil, "before %d", i)})
	}
	waitFor(t, "the first events to reach Kafka", func() bool { return br.Stats().Relayed == uint64(len(want)) }, detail)

	k.Stop()
	for i := range 300 {
		send(transport.Message{Channel: chans[i%2], Payload: fmt.Appendf(nil, "during %d", i)})
	}
	waitFor(t, "the bridge to receive every event", func() bool { return br.Stats().Received == uint64(len(want)) }, detail)
	if st := br.Stats(); st.Relayed == st.Received || st.Dropped != 0 {
		t.Fatalf("Stats while Kafka is down = %+v, want events queued", st)
	}
	time.Sleep(200 * time.Millisecond) // let the bridge retry against the dead cluster
	k.Start()
	for i := range 100 {
		send(transport.Message{Channel: chans[i%2], Payload: fmt.Appendf(nil, "after %d", i)})
	}
	waitFor(t, "the bridge to catch up", func() bool { return br.Stats().Relayed == uint64(len(want)) }, detail)
	st := br.Stats()
	if st.Dropped != 0 || st.Failed != 0 || st.Queued != 0 {
		t.Fatalf("Stats after catching up = %+v", st)
	}
	checkSum(t, st)

	reader, err := kafka.Open(ctxT(t), k.URL(), kafka.WithFrom(kafka.FromStart))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = reader.Close() })
	replay := brokertest.Collect(t, reader, chans...)
	// Delivery is at least once: a record in flight when the cluster went
	// down may be written again when the bridge resends it. Every event
	// must be there, first arrivals in order; repeats are counted.
	var dups int
	var problem string
	waitFor(t, "the Kafka replay to hold every event", func() bool {
		got := replay.Wait(t, "Kafka replay", replay.Count())
		dups, problem = 0, ""
		for _, ch := range chans {
			g, w := onChannel(got, ch), onChannel(want, ch)
			next := 0
			for _, p := range g {
				switch {
				case next < len(w) && bytes.Equal(p, w[next]):
					next++
				case containsPayload(w[:next], p):
					dups++
				default:
					problem = fmt.Sprintf("%q: %q arrived where %q was due: lost, reordered or changed", ch, trim(p), trim(w[min(next, len(w)-1)]))
					return true
				}
			}
			if next < len(w) {
				problem = fmt.Sprintf("%q: %d of %d events so far", ch, next, len(w))
				return false
			}
		}
		return true
	}, func() string { return problem })
	if problem != "" {
		t.Fatal(problem)
	}
	t.Logf("every event reached Kafka in order; %d repeated by the at-least-once resend", dups)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := br.Stop(ctx); err != nil {
		t.Fatal(err)
	}
}

func containsPayload(payloads [][]byte, p []byte) bool {
	for _, q := range payloads {
		if bytes.Equal(q, p) {
			return true
		}
	}
	return false
}

func trim(b []byte) []byte {
	if len(b) > 40 {
		return b[:40]
	}
	return b
}
