package redis_test

import (
	"context"
	"testing"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/redis"
	"github.com/eventpub/eventpub/transport"
)

// TestQuietWhileDown: while Redis is down, the driver writes nothing to
// stderr. go-redis's pool logs a failed dial through its global logger;
// the driver keeps that out of the user's output without changing the
// global logger.
func TestQuietWhileDown(t *testing.T) {
	brokertest.QuietWhileDown(t, func(ctx context.Context, addr string) (transport.Transport, error) {
		return redis.Open(ctx, "redis://:s3cret@"+addr+"/0")
	})
}
