package tee_test

import (
	"context"
	"fmt"

	"github.com/eventpub/eventpub/memory"
	"github.com/eventpub/eventpub/tee"
	"github.com/eventpub/eventpub/transport"
)

// A service dual-writes to the old and the new broker, then drops the old one.
func Example() {
	ctx := context.Background()
	oldBroker, newBroker := memory.NewBroker(), memory.NewBroker()
	oldT, newT := oldBroker.Connect(), newBroker.Connect()

	t, err := tee.New(oldT, []transport.Transport{newT})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer t.Close() // closes newT; oldT is handed back by Remove below

	sub, _ := newBroker.Connect().Subscribe(ctx, "codeworm:events")
	defer sub.Close()

	_ = t.Publish(ctx, transport.Message{Channel: "codeworm:events", Payload: []byte("before")})
	gone, _ := t.Remove(oldT) // newT becomes the primary
	_ = oldT.Close()
	_ = t.Publish(ctx, transport.Message{Channel: "codeworm:events", Payload: []byte("after")})

	for range 2 {
		m, _ := sub.Next(ctx)
		fmt.Println(string(m.Payload))
	}
	fmt.Println("old broker took", gone.Published)
	for _, s := range t.Stats() {
		fmt.Println("primary:", s.Primary, "published:", s.Published, "failed:", s.Failed)
	}
	// Output:
	// before
	// after
	// old broker took 1
	// primary: true published: 2 failed: 0
}
