package bridge_test

import (
	"context"
	"fmt"

	"github.com/eventpub/eventpub/bridge"
	"github.com/eventpub/eventpub/memory"
	"github.com/eventpub/eventpub/transport"
)

// Relay every codeworm channel from one broker to another.
func Example() {
	ctx := context.Background()
	from, to := memory.New(), memory.New()
	defer from.Close()
	defer to.Close()

	sub, _ := to.Subscribe(ctx, "codeworm:events")
	defer sub.Close()

	b, err := bridge.New(from, to, bridge.WithPatterns())
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := b.Start(ctx, "codeworm:*"); err != nil {
		fmt.Println(err)
		return
	}
	_ = from.Publish(ctx, transport.Message{
		Channel: "codeworm:events",
		Payload: []byte(`{"type":"deploy","data":{}}`),
		Header:  map[string]string{"Eventpub-Msg-Id": "42"},
	})
	m, _ := sub.Next(ctx)
	fmt.Println(m.Channel, string(m.Payload), m.Header["Eventpub-Msg-Id"])

	_ = b.Stop(ctx)
	st := b.Stats()
	fmt.Printf("received %d, relayed %d, dropped %d\n", st.Received, st.Relayed, st.Dropped)
	// Output:
	// codeworm:events {"type":"deploy","data":{}} 42
	// received 1, relayed 1, dropped 0
}
