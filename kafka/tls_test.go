package kafka_test

import (
	"crypto/tls"
	"errors"
	"strings"
	"testing"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/internal/kafkatest"
	"github.com/eventpub/eventpub/kafka"
	"github.com/eventpub/eventpub/transport"
	"github.com/twmb/franz-go/pkg/kfake"
)

// TestTLS runs a message through a kfake cluster that speaks only TLS,
// trusting its CA from the URL (tls_ca) and with WithTLS; a client that
// trusts another CA fails with ErrAuth.
func TestTLS(t *testing.T) {
	files := brokertest.NewTLS(t)
	k := kafkatest.Start(t, kafkatest.Options{Brokers: 2, Kfake: []kfake.Opt{
		kfake.TLS(&tls.Config{Certificates: []tls.Certificate{files.Server}, MinVersion: tls.VersionTLS12}),
	}})
	roundTrip := func(tr *kafka.Transport) {
		t.Helper()
		ch := "tls:" + unique()
		sub, err := tr.Subscribe(ctxT(t), ch)
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
		if err := tr.Publish(ctxT(t), transport.Message{Channel: ch, Payload: []byte("over TLS")}); err != nil {
			t.Fatal(err)
		}
		if m, err := sub.Next(ctxT(t)); err != nil || string(m.Payload) != "over TLS" {
			t.Fatalf("Next = %q, %v", m.Payload, err)
		}
	}
	roundTrip(open(t, k.URL()+"/?tls_ca="+files.CAFile))
	roundTrip(open(t, k.URL(), kafka.WithTLS(files.ClientConfig())))

	other := brokertest.NewTLS(t)
	_, err := kafka.Open(ctxT(t), k.URL(), kafka.WithTLS(other.ClientConfig()))
	if !errors.Is(err, kafka.ErrAuth) || !errors.Is(err, transport.ErrAuth) || errors.Is(err, transport.ErrUnavailable) {
		t.Fatalf("Open trusting another CA: %v, want ErrAuth", err)
	}
	if !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("the error does not say what failed: %v", err)
	}
}
