package eventpub_test

import (
	"context"
	"fmt"
	"time"

	"github.com/eventpub/eventpub"
	"github.com/eventpub/eventpub/memory"
)

// A service publishes an event; a unit test reads it back with a Recorder.
func Example() {
	ctx := context.Background()
	mem := memory.New()
	rec := memory.NewRecorder(mem)
	defer rec.Close()

	pub := eventpub.New(mem, eventpub.WithClock(func() time.Time {
		return time.Date(2026, 2, 19, 13, 29, 0, 0, time.Local)
	}))
	defer pub.Close(ctx)

	_ = pub.PublishEvent(ctx, "documentation_committed", map[string]any{"repo": "CodeWorm", "tokens": 1834})

	for _, m := range rec.Messages("codeworm:events") {
		fmt.Printf("%s %s\n", m.Channel, m.Payload)
	}
	// Output:
	// codeworm:events {"type":"documentation_committed","timestamp":"2026-02-19T13:29:00","data":{"repo":"CodeWorm","tokens":1834}}
}

// Stats carry the publisher's timestamp first, then the fields sorted.
func ExamplePublisher_PublishStats() {
	ctx := context.Background()
	mem := memory.New()
	rec := memory.NewRecorder(mem)
	defer rec.Close()
	pub := eventpub.New(mem, eventpub.WithClock(func() time.Time {
		return time.Date(2026, 2, 19, 13, 29, 0, 500000000, time.Local)
	}))
	defer pub.Close(ctx)

	_ = pub.PublishStats(ctx, map[string]any{"total_cycles": 12, "success_rate": 91.7})

	fmt.Printf("%s\n", rec.Messages("codeworm:stats")[0].Payload)
	// Output:
	// {"timestamp":"2026-02-19T13:29:00.500000","success_rate":91.7,"total_cycles":12}
}

// In async mode a publish only queues; Close delivers what is queued.
func ExampleWithAsync() {
	ctx := context.Background()
	mem := memory.New()
	rec := memory.NewRecorder(mem)
	defer rec.Close()
	pub := eventpub.New(mem, eventpub.WithAsync(10000, eventpub.DropOldest))

	for i := 0; i < 3; i++ {
		_ = pub.PublishLog(ctx, map[string]any{"event": "tick", "n": i})
	}
	_ = pub.Close(ctx)

	m := pub.Metrics()
	fmt.Println(len(rec.Messages("codeworm:logs")), m.Accepted, m.Published, m.Queued)
	// Output:
	// 3 3 3 0
}
