package observe_test

import (
	"context"
	"fmt"

	"github.com/eventpub/eventpub"
	"github.com/eventpub/eventpub/memory"
	"github.com/eventpub/eventpub/observe"
)

// perSystem is an observer that counts published messages per system and
// channel; embedding Nop leaves the other reports ignored.
type perSystem struct {
	observe.Nop
	seen map[string]int
}

func (p *perSystem) Published(o observe.Outcome) { p.seen[o.System+" "+o.Channel] += o.Count }

func Example() {
	counters := new(observe.Counters)
	mine := &perSystem{seen: map[string]int{}}
	pub := eventpub.New(memory.New(), eventpub.WithObserver(counters, mine))
	ctx := context.Background()
	_ = pub.PublishEvent(ctx, "started", nil)
	_ = pub.PublishLog(ctx, map[string]any{"msg": "hello"})
	_ = pub.Close(ctx)

	fmt.Printf("%+v\n", counters.Snapshot())
	fmt.Println(mine.seen["memory codeworm:events"], mine.seen["memory codeworm:logs"])
	// Output:
	// {Accepted:2 Published:2 Dropped:0 Failed:0 Queued:0}
	// 1 1
}
