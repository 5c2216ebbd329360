package redis_test

import (
	"context"
	"fmt"

	"github.com/alicebob/miniredis/v2"
	"github.com/eventpub/eventpub/redis"
	"github.com/eventpub/eventpub/transport"
)

// In streams mode every message is kept in a stream per channel, headers
// included, so a subscriber that comes later replays the history.
func ExampleWithStreams() {
	srv := miniredis.NewMiniRedis() // stands in for a real Redis here
	if err := srv.Start(); err != nil {
		panic(err)
	}
	defer srv.Close()

	ctx := context.Background()
	// The same as redis.Open(ctx, url, redis.WithStreams(redis.StreamsConfig{MaxLen: 100000})).
	tr, err := redis.Open(ctx, "redis://"+srv.Addr()+"/0?mode=streams&maxlen=100000")
	if err != nil {
		panic(err)
	}
	defer tr.Close()

	for _, p := range []string{"first", "second"} {
		msg := transport.Message{Channel: "codeworm:events", Payload: []byte(p), Header: map[string]string{"Source": "docs"}}
		if err := tr.Publish(ctx, msg); err != nil {
			panic(err)
		}
	}
	late, err := tr.Subscribe(ctx, "codeworm:events") // after the publishes
	if err != nil {
		panic(err)
	}
	defer late.Close()
	for range 2 {
		m, err := late.Next(ctx)
		if err != nil {
			panic(err)
		}
		fmt.Println(m.Channel, string(m.Payload), m.Header["Source"])
	}
	entries, _ := srv.Stream("codeworm:events")
	fmt.Println(entries[0].Values)
	// Output:
	// codeworm:events first docs
	// codeworm:events second docs
	// [payload first h:Source docs]
}
