package deliverytest

import "testing"

// natsBackends returns the NATS brokers to test (added with the NATS driver).
func natsBackends(t testing.TB) []backend { return nil }
