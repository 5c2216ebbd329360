package dashboard

import (
	"testing"
	"time"

	"github.com/eventpub/eventpub/memory"
)

// Ready is closed once the relay subscribes, not before Start; a message
// published then is relayed.
func TestReady(t *testing.T) {
	b := memory.NewBroker()
	tr := b.Connect()
	defer tr.Close()
	r, err := New(tr)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	select {
	case <-r.Ready():
		t.Fatal("Ready is closed before Start")
	case <-time.After(50 * time.Millisecond):
	}
	if err := r.Start(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.Ready():
	case <-time.After(10 * time.Second):
		t.Fatal("Ready was not closed within 10s of Start")
	}
	publish(t, tr, "codeworm:logs", `{"event":"first"}`)
	waitFor(t, "the message to be relayed", func() bool { return r.Stats().Relayed == 1 })
}
