package amqp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/eventpub/eventpub/transport"
	amqp091 "github.com/rabbitmq/amqp091-go"
)

// TestBlockedFailsFast: while the broker blocks the connection
// (connection.blocked, sent on a memory or disk alarm), publishing fails
// at once with ErrUnavailable naming the reason, and works again once
// unblocked. The shared broker cannot be put under an alarm, so the
// notification is handed to the session as watch hands it amqp091-go's.
func TestBlockedFailsFast(t *testing.T) {
	url := os.Getenv("EVENTPUB_AMQP_URL")
	if url == "" {
		url = "amqp://guest:guest@127.0.0.1:5672/"
	}
	var cfg Config
	ep, err := parseURL(url, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := net.DialTimeout("tcp", ep.addr, time.Second); err != nil {
		t.Skipf("no RabbitMQ listens on %s: %v", ep.addr, err)
	} else {
		_ = c.Close()
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	ex := "eventpub-test-blocked-" + hex.EncodeToString(rnd[:])
	tr, err := Open(context.Background(), url, WithExchange(ex))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	defer func() {
		if c, err := amqp091.Dial(url); err == nil {
			if ch, err := c.Channel(); err == nil {
				_ = ch.ExchangeDelete(ex, false, false)
			}
			_ = c.Close()
		}
	}()
	s, err := tr.current()
	if err != nil {
		t.Fatal(err)
	}
	s.onBlocked(amqp091.Blocking{Active: true, Reason: "low on memory"}) // as watch does
	msg := transport.Message{Channel: "blocked", Payload: []byte("x")}
	start := time.Now()
	for i := range 100 {
		err := tr.Publish(context.Background(), msg)
		if !errors.Is(err, transport.ErrUnavailable) || !strings.Contains(err.Error(), "low on memory") {
			t.Fatalf("Publish %d while blocked: %v", i, err)
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("100 publishes while blocked took %v", d)
	}
	s.onBlocked(amqp091.Blocking{Active: false})
	if err := tr.Publish(context.Background(), msg); err != nil {
		t.Fatalf("Publish once unblocked: %v", err)
	}
}
