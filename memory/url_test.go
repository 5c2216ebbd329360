package memory_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/eventpub/eventpub/memory"
	"github.com/eventpub/eventpub/transport"
)

var urlSeq int

// open opens rawURL and closes the transport when the test ends.
func open(t *testing.T, rawURL string) *memory.Transport {
	t.Helper()
	tr, err := transport.Open(context.Background(), rawURL)
	if err != nil {
		t.Fatalf("Open(%q): %v", rawURL, err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr.(*memory.Transport)
}

func uniqueName(t *testing.T) string {
	urlSeq++
	return fmt.Sprintf("%s-%d-%d", strings.ToLower(t.Name()), urlSeq, time.Now().UnixNano())
}

func TestOpenNamedBrokerIsShared(t *testing.T) {
	name := uniqueName(t)
	a, b := open(t, "memory://"+name), open(t, "memory://"+name+"/")
	if a.Broker() != b.Broker() {
		t.Fatal("two memory:// URLs with the same name gave different brokers")
	}
	s := sub(t, b, "c")
	pub(t, a, "c", "shared")
	next(t, s, "shared")

	p1, p2 := open(t, "memory://"), open(t, "memory://")
	if p1.Broker() == p2.Broker() || p1.Broker() == a.Broker() {
		t.Fatal("memory:// without a name did not give a private broker")
	}
}

func TestOpenOptions(t *testing.T) {
	tr := open(t, "memory://?buffer=1&overflow=DROP&history=3&max_payload=10")
	caps := tr.Capabilities()
	if !caps.Persistent || caps.MaxPayload != 10 {
		t.Fatalf("Capabilities = %+v, want Persistent and MaxPayload 10", caps)
	}
	s := sub(t, tr, "c")
	pub(t, tr, "c", "1")
	pub(t, tr, "c", "2") // buffer=1, overflow=drop: dropped at once
	if s.Dropped() != 1 {
		t.Fatalf("Dropped = %d, want 1", s.Dropped())
	}

	name := uniqueName(t)
	open(t, "memory://"+name+"?buffer=8")
	open(t, "memory://"+name+"?buffer=8") // same options: fine
	open(t, "memory://"+name)             // none given: fine
	_, err := transport.Open(context.Background(), "memory://"+name+"?buffer=9")
	if err == nil || !strings.Contains(err.Error(), "buffer=8") || !strings.Contains(err.Error(), "buffer=9") {
		t.Fatalf("Open with options that conflict with the existing broker = %v, want an error naming both", err)
	}
}

func TestOpenBadURLs(t *testing.T) {
	cases := map[string]string{
		"memory://?buffer=abc":          `buffer="abc": want a whole number`,
		"memory://?buffer=0":            "buffer=0: want 1 or more",
		"memory://?history=-1":          "history=-1: want 0 or more",
		"memory://?max_payload=1.5":     "max_payload",
		"memory://?overflow=sometimes":  `overflow="sometimes": want block or drop`,
		"memory://?bufer=3":             `unknown option "bufer"; known options: buffer, overflow, history, max_payload`,
		"memory://?buffer=1&buffer=2":   `"buffer" is given 2 times`,
		"memory://x/y":                  `unexpected path "/y"`,
		"memory:opaque":                 "want scheme://",
		"memory://u:hunter2@x":          "user info",
		"memory://x?token=hunter2&b=1":  "unknown option",
		"memory://x?history=1&buffer=x": "buffer",
	}
	for raw, want := range cases {
		tr, err := transport.Open(context.Background(), raw)
		if err == nil {
			_ = tr.Close()
			t.Errorf("Open(%q) succeeded", raw)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Open(%q) = %v, want it to say %q", raw, err, want)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Open(%q) leaks the secret: %v", raw, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := transport.Open(ctx, "memory://"); !errors.Is(err, context.Canceled) {
		t.Errorf("Open with a cancelled context = %v, want context.Canceled", err)
	}
}
