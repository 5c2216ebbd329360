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
		tr := open(t, url, redis.WithTLS(certs.ClientConfig()))
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
		tr, err := redis.Open(ctx5(t), url, redis.WithTLS(other.ClientConfig()))
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
		tr := open(t, "rediss://127.0.0.1:1/0", redis.WithTLS(certs.ClientConfig()))
		err := tr.Ping(ctx5(t))
		if !errors.Is(err, transport.ErrUnavailable) {
			t.Fatalf("Ping of a TLS server that is down: %v, want ErrUnavailable", err)
		}
	})
}

// TestTLSFilesInURL: tls_ca (and tls_cert with tls_key) in the URL reach
// a server whose certificate a private CA signed, with no code options,
// as eventpub.Open and the CLI need.
func TestTLSFilesInURL(t *testing.T) {
	certs := brokertest.NewTLS(t)
	srv := brokertest.StartRedisServerTLS(t, certs.CertFile, certs.KeyFile, "--tls-auth-clients", "no")
	for _, url := range []string{
		"rediss://" + srv.TLSAddr() + "/0?tls_ca=" + certs.CAFile,
		"redis://" + srv.TLSAddr() + "/0?tls_ca=" + certs.CAFile, // the files turn TLS on
		"rediss://" + srv.TLSAddr() + "/0?tls_ca=" + certs.CAFile + "&tls_cert=" + certs.CertFile + "&tls_key=" + certs.KeyFile,
	} {
		tr := open(t, url)
		if err := tr.Ping(ctx5(t)); err != nil {
			t.Errorf("Ping over %s: %v", url, err)
		}
		if err := tr.Publish(ctx5(t), transport.Message{Channel: chanName("tlsurl"), Payload: []byte("x")}); err != nil {
			t.Errorf("Publish over %s: %v", url, err)
		}
	}
}

func TestTLSFilesInURLErrors(t *testing.T) {
	certs := brokertest.NewTLS(t)
	for url, want := range map[string]string{
		"rediss://:hunter2@127.0.0.1:1/0?tls_ca=" + certs.CAFile + ".missing": "eventpub/redis: tls_ca: ",
		"rediss://:hunter2@127.0.0.1:1/0?tls_cert=" + certs.CertFile:          "eventpub/redis: tls_cert and tls_key go together",
		"rediss://:hunter2@127.0.0.1:1/0?tls_ca=" + certs.KeyFile:             "holds no PEM certificate",
	} {
		tr, err := redis.Open(ctx5(t), url)
		if err == nil {
			_ = tr.Close()
			t.Errorf("Open(%q) succeeded", url)
			continue
		}
		if !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Open(%q) = %v, want an error holding %q and no password", url, err, want)
		}
	}
}
