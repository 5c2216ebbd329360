package brokertest

import "go.uber.org/goleak"

// LeakOptions are the goleak options for the TestMain of a package whose
// tests run embedded nats-servers. A server that has shut down (Shutdown
// and WaitForShutdown returned) can still leave a JetStream file store's
// state flusher and the clock ticker it registered running, seen once in
// a -count=6 run; they belong to the test's server, not to eventpub, so
// they are ignored. Every other goroutine still counts.
func LeakOptions() []goleak.Option {
	return []goleak.Option{
		goleak.IgnoreTopFunction("github.com/nats-io/nats-server/v2/server.(*fileStore).flushStreamStateLoop"),
		goleak.IgnoreTopFunction("github.com/nats-io/nats-server/v2/server/ats.Register.func1"),
	}
}
