package eventpub_test

import (
	"context"
	"testing"
	"time"

	"github.com/eventpub/eventpub"
	"github.com/eventpub/eventpub/internal/vectors"
	"github.com/eventpub/eventpub/memory"
)

// TestCodeWormVectors publishes every recorded CodeWorm input through the
// Publisher and compares channel and bytes with what CodeWorm sent.
func TestCodeWormVectors(t *testing.T) {
	vs, err := vectors.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 64 {
		t.Fatalf("loaded %d vectors, want 64", len(vs))
	}
	ctx := context.Background()
	for _, v := range vs {
		t.Run(v.Name, func(t *testing.T) {
			now, err := v.Clock()
			if err != nil {
				t.Fatal(err)
			}
			input, err := v.Decode()
			if err != nil {
				t.Fatal(err)
			}
			mem := memory.New()
			rec := memory.NewRecorder(mem)
			defer rec.Close()
			pub := eventpub.New(mem, eventpub.WithClock(func() time.Time { return now }))
			defer pub.Close(ctx)
			switch v.Method {
			case "log":
				err = pub.PublishLog(ctx, input)
			case "event":
				err = pub.PublishEvent(ctx, v.EventType, input)
			case "stats":
				err = pub.PublishStats(ctx, input)
			default:
				t.Fatalf("unknown method %q", v.Method)
			}
			if err != nil {
				t.Fatal(err)
			}
			got := rec.Messages("")
			if len(got) != 1 {
				t.Fatalf("recorded %d messages, want 1", len(got))
			}
			if got[0].Channel != v.Channel {
				t.Errorf("channel %q, want %q", got[0].Channel, v.Channel)
			}
			if string(got[0].Payload) != v.Payload {
				t.Errorf("payload\n got %q\nwant %q", got[0].Payload, v.Payload)
			}
		})
	}
}
