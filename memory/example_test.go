package memory_test

import (
	"context"
	"fmt"
	"time"

	"github.com/eventpub/eventpub/memory"
	"github.com/eventpub/eventpub/transport"
)

// A unit test publishes through a memory transport and asserts on what was
// sent with a Recorder.
func Example() {
	ctx := context.Background()
	tr := memory.New()
	defer tr.Close()
	rec := memory.NewRecorder(tr)
	defer rec.Close()

	sub, _ := tr.Subscribe(ctx, "codeworm:events")
	_ = tr.Publish(ctx, transport.Message{Channel: "codeworm:events", Payload: []byte(`{"type":"job_done","data":{"id":7}}`)})

	m, _ := sub.Next(ctx)
	fmt.Printf("subscriber got %s on %s\n", m.Payload, m.Channel)

	msgs, err := rec.Wait("codeworm:events", 1, time.Second)
	fmt.Println(len(msgs), err)
	envs, _ := rec.Envelopes("codeworm:events")
	fmt.Println(envs[0]["type"], envs[0]["data"])
	// Output:
	// subscriber got {"type":"job_done","data":{"id":7}} on codeworm:events
	// 1 <nil>
	// job_done map[id:7]
}
