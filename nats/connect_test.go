package nats_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/nats"
)

// TestOpenContextBoundsFirstAttemptOnly: Open's deadline does not become
// the timeout nats.go keeps for every reconnect.
func TestOpenContextBoundsFirstAttemptOnly(t *testing.T) {
	srv := brokertest.StartNATS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	tr, err := nats.Open(ctx, srv.URL(), nats.WithConfig(nats.Config{ConnectTimeout: 3 * time.Second}))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if got := tr.Conn().Opts.Timeout; got != 3*time.Second {
		t.Fatalf("the connection keeps a timeout of %v for reconnects, want ConnectTimeout 3s", got)
	}
}

// TestOpenContextBoundsHandshake: a server that accepts but never answers
// holds Open only until its context ends, not for ConnectTimeout.
func TestOpenContextBoundsHandshake(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() { // accept and say nothing
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	defer func() {
		ln.Close()
		wg.Wait()
		for _, c := range conns {
			c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	tr, err := nats.Open(ctx, "nats://"+ln.Addr().String(), nats.WithConfig(nats.Config{ConnectTimeout: 20 * time.Second}))
	if err == nil {
		_ = tr.Close()
		t.Fatal("Open on a silent server succeeded")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Open on a silent server: %v, want its context's DeadlineExceeded", err)
	}
	// ConnectTimeout is 20 s: returning well before it shows the context bound the handshake.
	if took := time.Since(start); took > 10*time.Second {
		t.Fatalf("Open on a silent server took %v", took)
	}
}
