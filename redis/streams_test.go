package redis_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/redis"
	"github.com/eventpub/eventpub/transport"
	goredis "github.com/redis/go-redis/v9"
)

// streamURLs returns the servers to run streams checks on: miniredis
// always, the real Redis of EVENTPUB_REDIS_URL when set.
func streamURLs(t *testing.T) map[string]string {
	urls := map[string]string{"miniredis": brokertest.StartMiniredis(t).URL()}
	if u := brokertest.RealRedisURL(); u != "" {
		urls["redis"] = u
	}
	return urls
}

func withQuery(url, q string) string {
	if strings.Contains(url, "?") {
		return url + "&" + q
	}
	return url + "?" + q
}

func rawClient(t *testing.T, url string) *goredis.Client {
	t.Helper()
	o, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(o)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// The entry layout is documented: payload under "payload", each header
// under "h:<name>", exact bytes both ways, and MAXLEN caps the stream.
func TestStreamsWireFormat(t *testing.T) {
	for name, url := range streamURLs(t) {
		t.Run(name, func(t *testing.T) {
			tr := open(t, withQuery(url, "mode=streams&maxlen=50&prefix=ep:"))
			c := rawClient(t, url)
			ch := chanName("wire")
			payload := []byte("bin\x00\xff\r\n é")
			hdr := map[string]string{"Trace": "t\x00\n1", "B": ""}
			if err := tr.Publish(ctx5(t), transport.Message{Channel: ch, Payload: payload, Header: hdr}); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Del(context.Background(), "ep:"+ch, "ep:"+ch+":x") })
			entries, err := c.XRange(ctx5(t), "ep:"+ch, "-", "+").Result()
			if err != nil || len(entries) != 1 {
				t.Fatalf("XRANGE ep:%s: %v %v", ch, entries, err)
			}
			want := map[string]any{"payload": string(payload), "h:Trace": "t\x00\n1", "h:B": ""}
			if fmt.Sprint(entries[0].Values) != fmt.Sprint(want) {
				t.Fatalf("entry fields %q, want %q", entries[0].Values, want)
			}
			// An entry written by another tool reads back the same way.
			sub, err := tr.Subscribe(ctx5(t), ch)
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			if m := next(t, sub); string(m.Payload) != string(payload) || m.Channel != ch || len(m.Header) != 2 || m.Header["Trace"] != "t\x00\n1" {
				t.Fatalf("read back %q on %q, headers %q", m.Payload, m.Channel, m.Header)
			}
			if err := c.XAdd(ctx5(t), &goredis.XAddArgs{Stream: "ep:" + ch, Values: []string{"h:k", "v", "payload", "by hand", "other", "ignored"}}).Err(); err != nil {
				t.Fatal(err)
			}
			if m := next(t, sub); string(m.Payload) != "by hand" || m.Header["k"] != "v" || len(m.Header) != 1 {
				t.Fatalf("hand-written entry read as %q, headers %q", m.Payload, m.Header)
			}
			for i := range 500 {
				if err := tr.Publish(ctx5(t), transport.Message{Channel: ch + ":x", Payload: fmt.Appendf(nil, "%d", i)}); err != nil {
					t.Fatal(err)
				}
			}
			// MAXLEN ~ trims whole nodes: a bit over 50 may remain.
			if n := c.XLen(ctx5(t), "ep:"+ch+":x").Val(); n < 50 || n > 250 {
				t.Fatalf("XLEN after 500 publishes with maxlen=50 is %d", n)
			}
		})
	}
}

// Start new skips what was there; SubscribeFrom an ID reads after it.
func TestStreamsStart(t *testing.T) {
	for name, url := range streamURLs(t) {
		t.Run(name, func(t *testing.T) {
			tr := open(t, withQuery(url, "mode=streams&start=new"))
			ch := chanName("start")
			for i := range 3 {
				if err := tr.Publish(ctx5(t), transport.Message{Channel: ch, Payload: fmt.Appendf(nil, "old %d", i)}); err != nil {
					t.Fatal(err)
				}
			}
			sub, err := tr.Subscribe(ctx5(t), ch)
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			if err := tr.Publish(ctx5(t), transport.Message{Channel: ch, Payload: []byte("new")}); err != nil {
				t.Fatal(err)
			}
			if m := next(t, sub); string(m.Payload) != "new" {
				t.Fatalf("start=new delivered %q first, want new", m.Payload)
			}
			c := rawClient(t, url)
			t.Cleanup(func() { c.Del(context.Background(), ch) })
			first := c.XRange(ctx5(t), ch, "-", "+").Val()[0].ID
			all, err := tr.SubscribeFrom(ctx5(t), first, ch)
			if err != nil {
				t.Fatal(err)
			}
			defer all.Close()
			for _, want := range []string{"old 1", "old 2", "new"} {
				if m := next(t, all); string(m.Payload) != want {
					t.Fatalf("SubscribeFrom(%s) delivered %q, want %q", first, m.Payload, want)
				}
			}
			if _, err := tr.SubscribeFrom(ctx5(t), "yesterday", ch); err == nil || !strings.HasPrefix(err.Error(), "eventpub/redis:") {
				t.Fatalf("SubscribeFrom with a bad start: %v", err)
			}
		})
	}
}

// A consumer group resumes where it stopped: what the caller took is
// acknowledged, what was read ahead but not taken comes again, nothing
// twice. Two groups each see everything; two consumers of one group split.
func TestStreamsGroupResumes(t *testing.T) {
	for name, url := range streamURLs(t) {
		t.Run(name, func(t *testing.T) {
			ch, group := chanName("grp"), chanName("g")
			pub := open(t, withQuery(url, "mode=streams"))
			c := rawClient(t, url)
			t.Cleanup(func() { c.Del(context.Background(), ch) })
			gurl := withQuery(url, "mode=streams&group="+group+"&consumer=bridge-1")
			const n = 20
			for i := range n {
				if err := pub.Publish(ctx5(t), transport.Message{Channel: ch, Payload: fmt.Appendf(nil, "%d", i)}); err != nil {
					t.Fatal(err)
				}
			}
			seen := map[string]int{}
			take := func(tr *redis.Transport, k int) {
				sub, err := tr.Subscribe(ctx5(t), ch)
				if err != nil {
					t.Fatal(err)
				}
				for range k {
					seen[string(next(t, sub).Payload)]++
				}
				if err := sub.Close(); err != nil {
					t.Fatal(err)
				}
			}
			first := open(t, gurl)
			take(first, 7) // the reader has read all 20 ahead into the group
			_ = first.Close()
			take(open(t, gurl), 6) // a restart: 7..12
			take(open(t, gurl), n-13)
			for i := range n {
				if seen[fmt.Sprint(i)] != 1 {
					t.Fatalf("message %d delivered %d times; all: %v", i, seen[fmt.Sprint(i)], seen)
				}
			}
			if p := c.XPending(ctx5(t), ch, group).Val(); p.Count != 0 {
				t.Fatalf("%d entries still pending after all were taken", p.Count)
			}

			// Another group reads everything again.
			other := open(t, withQuery(url, "mode=streams&group="+chanName("g2")))
			sub, err := other.Subscribe(ctx5(t), ch)
			if err != nil {
				t.Fatal(err)
			}
			for i := range n {
				if m := next(t, sub); string(m.Payload) != fmt.Sprint(i) {
					t.Fatalf("second group got %q, want %d", m.Payload, i)
				}
			}
			_ = sub.Close()

			// Two consumers of one new group split new entries.
			g3 := chanName("g3")
			a := open(t, withQuery(url, "mode=streams&start=new&group="+g3+"&consumer=a"))
			b := open(t, withQuery(url, "mode=streams&start=new&group="+g3+"&consumer=b"))
			sa, err := a.Subscribe(ctx5(t), ch)
			if err != nil {
				t.Fatal(err)
			}
			sb, err := b.Subscribe(ctx5(t), ch)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 10 {
				if err := pub.Publish(ctx5(t), transport.Message{Channel: ch, Payload: fmt.Appendf(nil, "split %d", i)}); err != nil {
					t.Fatal(err)
				}
			}
			split := map[string]bool{}
			for len(split) < 10 {
				for _, s := range []transport.Subscription{sa, sb} {
					ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
					m, err := s.Next(ctx)
					cancel()
					if err == nil {
						if split[string(m.Payload)] {
							t.Fatalf("%q went to both consumers", m.Payload)
						}
						split[string(m.Payload)] = true
					}
				}
			}
		})
	}
}

// Dual mode: a pub/sub subscriber (CodeWorm's dashboard) receives the
// payload live; a stream reader gets payload and headers; patterns read
// pub/sub in dual mode and are refused in streams mode.
func TestDualMode(t *testing.T) {
	for name, url := range streamURLs(t) {
		t.Run(name, func(t *testing.T) {
			dual := open(t, withQuery(url, "mode=dual"))
			plain := open(t, url)
			ch := chanName("dual")
			t.Cleanup(func() { rawClient(t, url).Del(context.Background(), ch) })
			live, err := plain.Subscribe(ctx5(t), ch)
			if err != nil {
				t.Fatal(err)
			}
			defer live.Close()
			pat, err := dual.SubscribePattern(ctx5(t), ch+"*")
			if err != nil {
				t.Fatal(err)
			}
			defer pat.Close()
			hdr := map[string]string{"K": "v"}
			msgs := []transport.Message{{Channel: ch, Payload: []byte("one"), Header: hdr}, {Channel: ch, Payload: []byte("two"), Header: hdr}}
			if err := dual.Publish(ctx5(t), msgs[0]); err != nil {
				t.Fatal(err)
			}
			if err := dual.PublishBatch(ctx5(t), msgs[1:]); err != nil {
				t.Fatal(err)
			}
			if err := dual.PublishBatch(ctx5(t), msgs); err != nil {
				t.Fatal(err)
			}
			hist, err := dual.Subscribe(ctx5(t), ch)
			if err != nil {
				t.Fatal(err)
			}
			defer hist.Close()
			for i, want := range []string{"one", "two", "one", "two"} {
				if m := next(t, live); string(m.Payload) != want || m.Header != nil {
					t.Fatalf("pub/sub message %d: %q headers %v, want %q without headers", i, m.Payload, m.Header, want)
				}
				if m := next(t, pat); string(m.Payload) != want || m.Channel != ch {
					t.Fatalf("pattern message %d: %q on %q, want %q", i, m.Payload, m.Channel, want)
				}
				if m := next(t, hist); string(m.Payload) != want || m.Header["K"] != "v" {
					t.Fatalf("stream message %d: %q headers %v, want %q with K=v", i, m.Payload, m.Header, want)
				}
			}
			streams := open(t, withQuery(url, "mode=streams"))
			if _, err := streams.SubscribePattern(ctx5(t), ch+"*"); !errors.Is(err, errors.ErrUnsupported) {
				t.Fatalf("SubscribePattern in streams mode: %v, want errors.ErrUnsupported", err)
			}
			if _, err := plain.SubscribeFrom(ctx5(t), redis.StartAll, ch); !errors.Is(err, errors.ErrUnsupported) {
				t.Fatalf("SubscribeFrom in pub/sub mode: %v, want errors.ErrUnsupported", err)
			}
		})
	}
}

// PublishBatch reports each message's own result: one refused in the
// middle (its key holds a string) does not fail the others.
func TestStreamsBatchResults(t *testing.T) {
	for name, url := range streamURLs(t) {
		t.Run(name, func(t *testing.T) {
			tr := open(t, withQuery(url, "mode=streams"))
			c := rawClient(t, url)
			ch := chanName("batch")
			if err := c.Set(ctx5(t), ch+":str", "not a stream", time.Minute).Err(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Del(context.Background(), ch, ch+":str") })
			batch := []transport.Message{{Channel: ch, Payload: []byte("0")}, {Channel: ch + ":str", Payload: []byte("1")}, {Channel: ch, Payload: []byte("2")}}
			err := tr.PublishBatch(ctx5(t), batch)
			var be *transport.BatchError
			if !errors.As(err, &be) || be.Sent != 1 || len(be.Results) != 3 || be.Results[0] != nil || be.Results[1] == nil || be.Results[2] != nil {
				t.Fatalf("PublishBatch: %v (%+v)", err, be)
			}
			if errors.Is(err, transport.ErrUnavailable) || !strings.Contains(be.Results[1].Error(), "WRONGTYPE") {
				t.Fatalf("the refused message's error: %v", be.Results[1])
			}
			if n := c.XLen(ctx5(t), ch).Val(); n != 2 {
				t.Fatalf("XLEN %d, want the 2 messages either side of the refused one", n)
			}
		})
	}
}
