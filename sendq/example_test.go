package sendq_test

import (
	"context"
	"fmt"

	"github.com/eventpub/eventpub/memory"
	"github.com/eventpub/eventpub/sendq"
	"github.com/eventpub/eventpub/transport"
)

func Example() {
	tr := memory.New()
	defer tr.Close()
	q, err := sendq.New(tr, sendq.Config{Capacity: 1000, Policy: sendq.DropOldest})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	for i := range 3 {
		_ = q.Push(ctx, transport.Message{Channel: "jobs", Payload: fmt.Appendf(nil, "job %d", i)})
	}
	lost := q.Close(ctx) // sends what is queued first
	fmt.Printf("lost %d, %+v\n", lost, q.Counters())
	// Output:
	// lost 0, {Accepted:3 Published:3 Dropped:0 Failed:0 Queued:0}
}
