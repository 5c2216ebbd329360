package eventpubotel_test

import (
	"context"
	"testing"
	"time"

	"github.com/eventpub/eventpub"
	"github.com/eventpub/eventpub/eventpubotel"
	"github.com/eventpub/eventpub/memory"
)

// TestOutage: while the broker is down the async queue's retries count
// with error.type unavailable and link.up is 0; once it is back the
// message is published and link.up is 1.
func TestOutage(t *testing.T) {
	s := newSDK(t)
	br := memory.NewBroker()
	br.SetDown(true)
	pub := eventpub.New(br.Connect(), eventpub.WithAsync(10, eventpub.DropNewest), eventpub.WithObserver(s.obs))
	ctx := context.Background()
	if err := pub.Publish(ctx, "ch", []byte("m")); err != nil {
		t.Fatal(err)
	}
	retried := attrs("memory", "ch", "send", "unavailable")
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := s.collect(t)
		if got[eventpubotel.MetricRetried][retried] > 0 && got[eventpubotel.MetricLinkUp]["messaging.system=memory"] == 0 &&
			len(got[eventpubotel.MetricLinkUp]) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no retry with the link down within 10s: %v", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
	br.SetDown(false)
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pub.Close(cctx); err != nil {
		t.Fatal(err)
	}
	got := s.collect(t)
	if got[eventpubotel.MetricPublished][attrs("memory", "ch", "send", "")] != 1 ||
		got[eventpubotel.MetricLinkUp]["messaging.system=memory"] != 1 || len(got[eventpubotel.MetricFailed]) != 0 {
		t.Fatalf("after the outage: published %v, link.up %v, failed %v; want 1 published, the link up, none failed",
			got[eventpubotel.MetricPublished], got[eventpubotel.MetricLinkUp], got[eventpubotel.MetricFailed])
	}
}
