package memory_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/eventpub/eventpub/memory"
	"github.com/eventpub/eventpub/transport"
)

func TestRecorderMessagesAndEnvelopes(t *testing.T) {
	b := memory.NewBroker(memory.WithOverflow(memory.Drop), memory.WithBuffer(1))
	a, c := b.Connect(), b.Connect()
	t.Cleanup(func() { _ = a.Close(); _ = c.Close() })
	rec := memory.NewRecorder(a)
	t.Cleanup(rec.Close)

	pub(t, a, "codeworm:events", `{"type":"x","n":12345678901234567890}`)
	pub(t, c, "codeworm:logs", `{"msg":"hi"}`) // another transport on the same broker
	pub(t, a, "codeworm:events", `{"type":"y","n":1.5}`)

	if got := rec.Messages(""); len(got) != 3 || got[1].Channel != "codeworm:logs" {
		t.Fatalf("Messages(\"\") = %v, want 3 in publish order", got)
	}
	evs := rec.Messages("codeworm:events")
	if len(evs) != 2 || string(evs[1].Payload) != `{"type":"y","n":1.5}` {
		t.Fatalf("Messages(codeworm:events) = %v", evs)
	}
	evs[0].Payload[0] = 'X' // the caller owns what it gets
	env, err := rec.Envelopes("codeworm:events")
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := env[0]["n"].(json.Number); !ok || n.String() != "12345678901234567890" || env[1]["type"] != "y" {
		t.Fatalf("Envelopes = %v, want numbers as json.Number", env)
	}
	if b.Dropped() != 0 {
		t.Fatalf("a recorder counted as a slow subscriber: Dropped = %d", b.Dropped())
	}

	pub(t, a, "codeworm:events", `not json`)
	if _, err := rec.Envelopes("codeworm:events"); err == nil || !strings.Contains(err.Error(), "message 2 ") {
		t.Fatalf("Envelopes with a bad payload = %v, want an error naming message 2", err)
	}
	rec.Reset()
	if got := rec.Messages(""); len(got) != 0 {
		t.Fatalf("after Reset: %d messages", len(got))
	}
	for _, bad := range []string{`null`, `{"a":1} {"b":2}`, `[1]`} {
		rec.Reset()
		pub(t, a, "x", bad)
		if _, err := rec.Envelopes("x"); err == nil {
			t.Errorf("Envelopes accepted %q as a JSON object", bad)
		}
	}
}

func TestRecorderWait(t *testing.T) {
	tr := memory.New()
	t.Cleanup(func() { _ = tr.Close() })
	rec := memory.NewRecorder(tr)
	t.Cleanup(rec.Close)

	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, p := range []string{"1", "2", "3"} {
			_ = tr.Publish(context.Background(), transport.Message{Channel: "c", Payload: []byte(p)})
			time.Sleep(time.Millisecond)
		}
	}()
	got, err := rec.Wait("c", 3, 5*time.Second)
	<-done
	if err != nil || len(got) != 3 || string(got[2].Payload) != "3" {
		t.Fatalf("Wait(c, 3) = %v, %v", got, err)
	}

	got, err = rec.Wait("c", 5, 30*time.Millisecond)
	if err == nil || len(got) != 3 || !strings.Contains(err.Error(), `3 of 5 messages arrived on channel "c"`) {
		t.Fatalf("Wait(c, 5) timing out = %d messages, %v; want the 3 and an error saying 3 of 5", len(got), err)
	}
	if _, err := rec.Wait("", 1, 0); err != nil {
		t.Fatalf("Wait for one message already there: %v", err)
	}
}

func TestRecorderCloseStopsRecordingAndWakesWait(t *testing.T) {
	tr := memory.New()
	t.Cleanup(func() { _ = tr.Close() })
	rec := memory.NewRecorder(tr)
	errc := make(chan error, 1)
	go func() {
		_, err := rec.Wait("c", 1, time.Minute)
		errc <- err
	}()
	time.Sleep(10 * time.Millisecond) // let Wait start waiting; the result does not depend on it
	rec.Close()
	rec.Close()
	if err := <-errc; err == nil || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("Wait ended by Close = %v, want an error saying the recorder closed", err)
	}
	pub(t, tr, "c", "after")
	if n := len(rec.Messages("")); n != 0 {
		t.Fatalf("a closed recorder recorded %d messages", n)
	}
}
