package redis_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/eventpub/eventpub/redis"
	"github.com/eventpub/eventpub/transport"
)

// chanName returns a channel name unique to this run, safe on a shared server.
func chanName(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + ":" + hex.EncodeToString(b)
}

// open opens a Transport on rawURL and closes it when the test ends.
func open(t testing.TB, rawURL string, opts ...redis.Option) *redis.Transport {
	t.Helper()
	tr, err := redis.Open(context.Background(), rawURL, opts...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}

// next reads one message within a few seconds.
func next(t testing.TB, sub transport.Subscription) transport.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err := sub.Next(ctx)
	if err != nil {
		t.Fatalf("Next: %v", err)
	}
	return m
}

func ctx5(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}
