package mqtt_test

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/mqtt"
	"github.com/eventpub/eventpub/transport"
)

// tlsFront starts a TLS listener with f's server certificate that relays
// each connection in plain TCP to target, and returns its address.
func tlsFront(t *testing.T, f *brokertest.TLSFiles, target string) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{f.Server}, MinVersion: tls.VersionTLS12})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				_ = c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, up)
			mu.Unlock()
			wg.Go(func() { _, _ = io.Copy(up, c); _ = up.Close() })
			wg.Go(func() { _, _ = io.Copy(c, up); _ = c.Close() })
		}
	})
	return ln.Addr().String()
}

// TestTLS checks mqtts:// with tls_ca and WithTLS reach the server, and
// that a certificate the client does not trust gives ErrAuth from Open.
func TestTLS(t *testing.T) {
	plain := brokerURL(t)
	u, _ := url.Parse(plain)
	f := brokertest.NewTLS(t)
	addr := tlsFront(t, f, u.Host)
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
