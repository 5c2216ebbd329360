package mqtt_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/mqtt"
	"github.com/eventpub/eventpub/transport"
)

// TestTLS checks mqtts:// with tls_ca and WithTLS reach the server, and
// that a certificate the client does not trust gives ErrAuth from Open.
func TestTLS(t *testing.T) {
	plain := brokerURL(t)
	u, _ := url.Parse(plain)
	f := brokertest.NewTLS(t)
	addr := f.Front(t, u.Host)
	sub := open(t, plain)

	for name, tr := range map[string]*mqtt.Transport{
		"tls_ca":  open(t, "mqtts://"+addr+"?tls_ca="+url.QueryEscape(f.CAFile)),
		"WithTLS": open(t, "mqtt://"+addr, mqtt.WithTLS(f.ClientConfig())),
	} {
		ch := unique("tls")
		s, err := sub.Subscribe(ctxT(t), ch)
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.Publish(ctxT(t), transport.Message{Channel: ch, Payload: []byte(name)}); err != nil {
			t.Fatalf("%s: Publish over TLS: %v", name, err)
		}
		expectMsg(t, s, ch, name)
		s.Close()
	}

	_, err := mqtt.Open(ctxT(t), "mqtts://user:hunter2@"+addr)
	if !errors.Is(err, transport.ErrAuth) || errors.Is(err, transport.ErrUnavailable) {
		t.Fatalf("Open with an untrusted server certificate: %v, want ErrAuth", err)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error shows the password: %v", err)
	}
}
