package redis_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/redis"
	"github.com/eventpub/eventpub/transport"
)

func TestTLS(t *testing.T) {
	certs := brokertest.NewTLS(t)
	srv := brokertest.StartRedisServerTLS(t, certs.CertFile, certs.KeyFile, "--tls-auth-clients", "no")
	url := "rediss://" + srv.TLSAddr() + "/0"

	t.Run("RoundTrip", func(t *testing.T) {
		tr := open(t, url, redis.WithTLSConfig(certs.ClientConfig()))
		ch := chanName("tls")
		sub, err := tr.Subscribe(ctx5(t), ch)
		if err != nil {
			t.Fatalf("Subscribe over TLS: %v", err)
		}
		defer sub.Close()
		if err := tr.Publish(ctx5(t), transport.Message{Channel: ch, Payload: []byte("secret sauce")}); err != nil {
			t.Fatalf("Publish over TLS: %v", err)
		}
		if m := next(t, sub); string(m.Payload) != "secret sauce" {
			t.Fatalf("got %q", m.Payload)
		}
	})

	t.Run("WrongCA", func(t *testing.T) {
		// A certificate that does not verify is a settings problem, not an
		// outage: Open fails with ErrAuth (as the NATS driver's does), so
		// an async publisher never retries it forever.
		other := brokertest.NewTLS(t) // some other CA
		tr, err := redis.Open(ctx5(t), url, redis.WithTLSConfig(other.ClientConfig()))
		if err == nil {
			_ = tr.Close()
			t.Fatal("Open with the wrong CA succeeded")
		}
		if !errors.Is(err, redis.ErrAuth) || !errors.Is(err, transport.ErrAuth) || errors.Is(err, transport.ErrUnavailable) {
			t.Fatalf("Open with the wrong CA: %v, want ErrAuth and not ErrUnavailable", err)
		}
		if !strings.HasPrefix(err.Error(), "eventpub/redis: ") || !strings.Contains(err.Error(), "certificate") ||
			!strings.Contains(err.Error(), srv.TLSAddr()) {
			t.Fatalf("error does not name the server and the certificate: %v", err)
		}
		t.Logf("wrong CA: %v", err)
	})

	t.Run("SystemRootsRejectPrivateCA", func(t *testing.T) {
		_, err := redis.Open(ctx5(t), url)
		if !errors.Is(err, transport.ErrAuth) || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("Open with system roots to a private CA: %v", err)
		}
	})

	t.Run("DownIsNoOpenError", func(t *testing.T) {
		// Nothing listens on the plain port's neighbour: Open succeeds.
		tr := open(t, "rediss://127.0.0.1:1/0", redis.WithTLSConfig(certs.ClientConfig()))
		err := tr.Ping(ctx5(t))
		if !errors.Is(err, transport.ErrUnavailable) {
			t.Fatalf("Ping of a TLS server that is down: %v, want ErrUnavailable", err)
		}
	})
}
