package redis_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/eventpub/eventpub/redis"
	"github.com/eventpub/eventpub/transport"
)

func TestStreamsURL(t *testing.T) {
	const pw = "s3cret-pw"
	good := []struct {
		url   string
		opts  []redis.Option
		persi bool
	}{
		{"redis://127.0.0.1:1/0?mode=streams&maxlen=100000", nil, true},
		{"redis://127.0.0.1:1/0?mode=dual&start=new&prefix=ep:&sharded=true", nil, true},
		{"redis://127.0.0.1:1/0?mode=streams&group=bridge&consumer=b1&start=1700000000000-0&dial_timeout=1s", nil, true},
		{"redis://127.0.0.1:1/0?mode=pubsub", nil, false},
		{"redis://127.0.0.1:1/0?mode=streams", []redis.Option{redis.WithConfig(redis.Config{})}, true}, // zero fields keep the URL's
		{"redis://127.0.0.1:1/0", []redis.Option{redis.WithStreams(redis.StreamsConfig{Group: "g"})}, true},
	}
	for _, c := range good {
		tr, err := redis.Open(context.Background(), c.url, c.opts...)
		if err != nil {
			t.Fatalf("Open(%q): %v", c.url, err)
		}
		if got := tr.Capabilities(); got.Persistent != c.persi || got.Headers != c.persi {
			t.Errorf("Open(%q): capabilities %+v", c.url, got)
		}
		_ = tr.Close()
	}
	bad := []struct{ url, want string }{
		{"redis://:" + pw + "@127.0.0.1:1/0?mode=stream5", `mode="stream5"`},
		{"redis://:" + pw + "@127.0.0.1:1/0?mode=streams&maxlen=lots", `maxlen="lots"`},
		{"redis://:" + pw + "@127.0.0.1:1/0?mode=streams&start=yesterday", `Streams.Start is "yesterday"`},
		{"redis://:" + pw + "@127.0.0.1:1/0?maxlen=10", "Mode is pubsub"},
		{"redis://:" + pw + "@127.0.0.1:1/0?mode=streams&consumer=c", "without a Group"},
	}
	for _, c := range bad {
		_, err := redis.Open(context.Background(), c.url)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), pw) {
			t.Errorf("Open(%q): %v, want an error naming %s and no password", c.url, err, c.want)
		}
	}
	if err := (redis.Config{Mode: redis.ModeDual, Streams: redis.StreamsConfig{MaxLen: -5, Start: "x"}}).Validate(); err == nil ||
		!strings.Contains(err.Error(), "MaxLen") || !strings.Contains(err.Error(), "Start") {
		t.Errorf("Validate joins every problem: %v", err)
	}
	if s := redis.ModeDual.String() + redis.ModeStreams.String() + redis.ModePubSub.String(); s != "dualstreamspubsub" {
		t.Errorf("Mode names %q", s)
	}
}

// Transport.Open reaches streams mode by URL, as the CLI does.
func TestStreamsThroughRegistry(t *testing.T) {
	tr, err := transport.Open(context.Background(), "redis://127.0.0.1:1/0?mode=streams")
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if !tr.Capabilities().Persistent {
		t.Fatal("a mode=streams URL through transport.Open is not persistent")
	}
	if err := tr.Publish(ctx5(t), transport.Message{Channel: "x", Payload: []byte("x")}); !errors.Is(err, transport.ErrUnavailable) {
		t.Fatalf("Publish with nothing listening: %v, want ErrUnavailable", err)
	}
}
