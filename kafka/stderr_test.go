package kafka_test

import (
	"context"
	"testing"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/kafka"
	"github.com/eventpub/eventpub/transport"
)

// TestQuietWhileDown: while no Kafka broker answers, the driver writes
// nothing to stderr.
func TestQuietWhileDown(t *testing.T) {
	brokertest.QuietWhileDown(t, func(ctx context.Context, addr string) (transport.Transport, error) {
		return kafka.Open(ctx, "kafka://u:s3cret@"+addr)
	})
}
