package amqp_test

import (
	"context"
	"fmt"
	"time"

	"github.com/eventpub/eventpub/amqp"
	"github.com/eventpub/eventpub/transport"
)

// A service publishes to RabbitMQ and a dashboard follows every channel.
// (Not run here: it needs a RabbitMQ on localhost.)
func Example() {
	ctx := context.Background()
	tr, err := amqp.Open(ctx, "amqp://guest:guest@localhost:5672/?exchange=eventpub&mandatory=true")
	if err != nil {
		panic(err)
	}
	defer tr.Close()

	dashboard, err := tr.SubscribePattern(ctx, "#")
	if err != nil {
		panic(err)
	}
	defer dashboard.Close()

	err = tr.Publish(ctx, transport.Message{Channel: "codeworm:events", Payload: []byte(`{"type":"commit"}`)})
	if err != nil {
		panic(err) // amqp.ErrUnroutable had no queue been bound
	}
	m, err := dashboard.Next(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s %s\n", m.Channel, m.Payload)
}

// Open does not fail while the broker is down, and the password never
// shows when a Transport is printed.
func ExampleTransport_String() {
	tr, err := amqp.Open(context.Background(), "amqp://app:hunter2@127.0.0.1:1/prod",
		amqp.WithConnectTimeout(200*time.Millisecond))
	if err != nil {
		panic(err)
	}
	defer tr.Close()
	fmt.Println(tr)
	fmt.Printf("%#v\n", tr)
	// Output:
	// amqp://app:xxxxx@127.0.0.1:1/prod
	// amqp.Transport("amqp://app:xxxxx@127.0.0.1:1/prod")
}

// Validate names every setting that cannot work.
func ExampleConfig_Validate() {
	err := amqp.Config{MaxPayload: -1, QueueBindings: []string{"a:*"}}.Validate()
	fmt.Println(err)
	// Output:
	// eventpub/amqp: QueueBindings are set without a Queue to bind
	// eventpub/amqp: QueueBindings entry "a:*": pattern "a:*" has the word "a:*": AMQP wildcards are whole words between dots ("codeworm.*", "#"), '*' or '#' inside a word match literally
	// eventpub/amqp: MaxPayload is -1; it must be between 1 and 512 MiB (536870912 bytes, RabbitMQ's largest max_message_size)
}
