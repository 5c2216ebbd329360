package amqp_test

import (
	"context"
	"testing"

	"github.com/eventpub/eventpub/amqp"
	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/transport"
)

// TestQuietWhileDown: while RabbitMQ is down, the driver writes nothing to
// stderr.
func TestQuietWhileDown(t *testing.T) {
	brokertest.QuietWhileDown(t, func(ctx context.Context, addr string) (transport.Transport, error) {
		return amqp.Open(ctx, "amqp://guest:s3cret@"+addr+"/")
	})
}
