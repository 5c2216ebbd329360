package bridge_test

import (
	"context"
	"testing"
	"time"

	"github.com/eventpub/eventpub"
	"github.com/eventpub/eventpub/bridge"
	"github.com/eventpub/eventpub/memory"
	"github.com/eventpub/eventpub/transport"
)

// BenchmarkRelay measures the relay's cost per message between two memory
// brokers: b.N messages are published on the source and the benchmark ends
// once the target has them all.
func BenchmarkRelay(b *testing.B) {
	from := memory.NewBroker(memory.WithBuffer(1 << 16)).Connect()
	to := memory.New()
	defer from.Close()
	defer to.Close()
	rec := memory.NewRecorder(to)
	defer rec.Close()
	br, err := bridge.New(from, to, bridge.WithOverflow(eventpub.Block))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := br.Start(ctx, "bench"); err != nil {
		b.Fatal(err)
	}
	msg := transport.Message{Channel: "bench", Payload: make([]byte, 128)}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := from.Publish(ctx, msg); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := rec.Wait("bench", b.N, time.Minute); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	if err := br.Stop(ctx); err != nil {
		b.Fatal(err)
	}
	if st := br.Stats(); st.Relayed != uint64(b.N) {
		b.Fatalf("relayed %d of %d", st.Relayed, b.N)
	}
}
