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
		other := brokertest.NewTLS(t) // some other CA
		tr := open(t, url, redis.WithTLSConfig(other.ClientConfig()))
		err := tr.Publish(ctx5(t), transport.Message{Channel: "c", Payload: []byte("x")})
		if !errors.Is(err, transport.ErrUnavailable) {
			t.Fatalf("Publish with the wrong CA: %v, want ErrUnavailable", err)
		}
		if !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("error does not say the certificate is the problem: %v", err)
		}
		t.Logf("wrong CA: %v", err)
	})

	t.Run("SystemRootsRejectPrivateCA", func(t *testing.T) {
		tr := open(t, url)
		err := tr.Ping(ctx5(t))
		if err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("Ping with system roots to a private CA: %v", err)
		}
	})
}
