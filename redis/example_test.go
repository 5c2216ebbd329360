package redis_test

import (
	"context"
	"fmt"

	"github.com/alicebob/miniredis/v2"
	"github.com/eventpub/eventpub/redis"
	"github.com/eventpub/eventpub/transport"
)

// A CodeWorm dashboard subscribes to codeworm:*; the driver publishes raw
// payload bytes, so the dashboard sees exactly what was sent.
func Example() {
	srv := miniredis.NewMiniRedis() // stands in for a real Redis here
	if err := srv.Start(); err != nil {
		panic(err)
	}
	defer srv.Close()

	ctx := context.Background()
	tr, err := redis.Open(ctx, "redis://"+srv.Addr()+"/0")
	if err != nil {
		panic(err)
	}
	defer tr.Close()

	dashboard, err := tr.SubscribePattern(ctx, "codeworm:*")
	if err != nil {
		panic(err)
	}
	defer dashboard.Close()

	payload := []byte(`{"type":"commit","timestamp":"2025-01-02T03:04:05","data":{}}`)
	if err := tr.Publish(ctx, transport.Message{Channel: "codeworm:events", Payload: payload}); err != nil {
		panic(err)
	}
	m, err := dashboard.Next(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s %s\n", m.Channel, m.Payload)
	// Output: codeworm:events {"type":"commit","timestamp":"2025-01-02T03:04:05","data":{}}
}

// Passwords never show in String or in errors.
func ExampleTransport_String() {
	tr, err := redis.Open(context.Background(), "redis://app:hunter2@localhost:6379/0")
	if err != nil {
		panic(err)
	}
	defer tr.Close()
	fmt.Println(tr)
	// Output: redis://app:xxxxx@localhost:6379/0
}
