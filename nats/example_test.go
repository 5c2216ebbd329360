package nats_test

import (
	"context"
	"fmt"
	"time"

	"github.com/eventpub/eventpub/transport"
	"github.com/nats-io/nats-server/v2/server"

	_ "github.com/eventpub/eventpub/nats" // registers nats:// and tls://
)

// Opening the driver through the transport registry, publishing an event
// and reading it back. The example runs its own in-process server.
func Example() {
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: server.RANDOM_PORT, NoLog: true, NoSigs: true})
	if err != nil {
		panic(err)
	}
	srv.Start()
	defer func() { srv.Shutdown(); srv.WaitForShutdown() }()
	srv.ReadyForConnections(5 * time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tr, err := transport.Open(ctx, srv.ClientURL())
	if err != nil {
		panic(err)
	}
	defer tr.Close()

	sub, err := tr.Subscribe(ctx, "codeworm:events")
	if err != nil {
		panic(err)
	}
	defer sub.Close()
	err = tr.Publish(ctx, transport.Message{Channel: "codeworm:events", Payload: []byte(`{"type":"hello"}`)})
	if err != nil {
		panic(err)
	}
	m, err := sub.Next(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Channel, string(m.Payload), tr.Capabilities().Persistent)
	// Output: codeworm:events {"type":"hello"} false
}
