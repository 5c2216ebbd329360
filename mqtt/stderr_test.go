package mqtt_test

import (
	"context"
	"testing"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/mqtt"
	"github.com/eventpub/eventpub/transport"
)

// TestQuietWhileDown: while the MQTT server is down, the driver writes
// nothing to stderr.
func TestQuietWhileDown(t *testing.T) {
	brokertest.QuietWhileDown(t, func(ctx context.Context, addr string) (transport.Transport, error) {
		return mqtt.Open(ctx, "mqtt://u:s3cret@"+addr)
	})
}
