package mqtt_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/packets"
	"github.com/eventpub/eventpub/mqtt"
	"github.com/eventpub/eventpub/transport"
)

// fakeServer answers every CONNECT with the CONNACK connack builds, then
// reads (and ignores) what the client sends until the test ends. It stands
// in for a server configured to refuse credentials, which the shared
// Mosquitto is not ours to reconfigure for.
func fakeServer(t *testing.T, connack func(*packets.Connack)) string {
	return fakeServerReplying(t, connack, nil)
}

// fakeServerReplying is fakeServer that also answers each other packet
// with what reply returns (nothing when it returns nil).
func fakeServerReplying(t *testing.T, connack func(*packets.Connack), reply func(*packets.ControlPacket) *packets.ControlPacket) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
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
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				if p, err := packets.ReadPacket(c); err != nil || p.Type != packets.CONNECT {
					return
				}
				cp := packets.NewControlPacket(packets.CONNACK)
				connack(cp.Content.(*packets.Connack))
				if _, err := cp.WriteTo(c); err != nil {
					return
				}
				for {
					p, err := packets.ReadPacket(c)
					if err != nil {
						return
					}
					if p.Type == packets.PINGREQ {
						_, _ = packets.NewControlPacket(packets.PINGRESP).WriteTo(c)
					} else if reply != nil {
						if r := reply(p); r != nil {
							_, _ = r.WriteTo(c)
						}
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// TestAuthRefused checks a CONNACK refusing the credentials gives ErrAuth
// from Open, without the password in the error.
func TestAuthRefused(t *testing.T) {
	for _, code := range []byte{0x86, 0x87} {
		t.Run(fmt.Sprintf("0x%02X", code), func(t *testing.T) {
			addr := fakeServer(t, func(c *packets.Connack) { c.ReasonCode = code })
			tr, err := mqtt.Open(context.Background(), "mqtt://user:s3cr3t-pw@"+addr)
			if err == nil {
				tr.Close()
				t.Fatal("Open succeeded against a server that refuses the credentials")
			}
			if !errors.Is(err, transport.ErrAuth) || errors.Is(err, transport.ErrUnavailable) {
				t.Fatalf("Open: %v, want ErrAuth (and not ErrUnavailable)", err)
			}
			if strings.Contains(err.Error(), "s3cr3t") || !strings.HasPrefix(strings.TrimPrefix(err.Error(), "eventpub: not authorized: "), "eventpub/mqtt:") {
				t.Fatalf("error %q: want the eventpub/mqtt prefix and no password", err)
			}
		})
	}
}

// TestServerMaximumPacketSize checks the CONNACK's Maximum Packet Size
// becomes MaxPayload and bigger payloads are refused before sending.
func TestServerMaximumPacketSize(t *testing.T) {
	const max = 4096
	addr := fakeServer(t, func(c *packets.Connack) {
		m := uint32(max)
		c.Properties = &packets.Properties{MaximumPacketSize: &m}
	})
	tr := open(t, "mqtt://"+addr)
	caps := tr.Capabilities()
	if caps.MaxPayload <= 0 || caps.MaxPayload >= max || caps.MaxPayload < max-300 {
		t.Fatalf("MaxPayload %d, want a little under the server's %d", caps.MaxPayload, max)
	}
	err := tr.Publish(ctxT(t), transport.Message{Channel: "big", Payload: make([]byte, caps.MaxPayload+1)})
	if !errors.Is(err, transport.ErrPayloadTooLarge) {
		t.Fatalf("Publish of MaxPayload+1: %v, want ErrPayloadTooLarge", err)
	}
	hdr := map[string]string{"big": strings.Repeat("h", max)}
	err = tr.Publish(ctxT(t), transport.Message{Channel: "big", Payload: []byte("x"), Header: hdr})
	if !errors.Is(err, transport.ErrPayloadTooLarge) {
		t.Fatalf("Publish with a header over the packet size: %v, want ErrPayloadTooLarge", err)
	}
	if def := open(t, brokerURLOr(t, "")); def != nil && def.Capabilities().MaxPayload < 200<<20 {
		t.Fatalf("a server without Maximum Packet Size gives MaxPayload %d, want near 256 MiB", def.Capabilities().MaxPayload)
	}
}

// brokerURLOr is a URL for a server nobody listens on when none is given:
// Open still returns a transport, whose Capabilities are the defaults.
func brokerURLOr(t *testing.T, u string) string {
	if u != "" {
		return u
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "mqtt://" + addr
}

// TestDownAtOpen checks Open does not fail when nothing listens, calls
// fail fast with ErrUnavailable, and the transport connects once the
// server is there.
func TestDownAtOpen(t *testing.T) {
	real := brokerURL(t)
	url, proxy := proxied(t)
	proxy.Cut()
	start := time.Now()
	tr := open(t, url, mqtt.WithReconnectWait(20*time.Millisecond, 100*time.Millisecond))
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Open with the server down took %v", d)
	}
	for i := range 100 {
		start := time.Now()
		err := tr.Publish(ctxT(t), transport.Message{Channel: "down", Payload: []byte("x")})
		if !errors.Is(err, transport.ErrUnavailable) || time.Since(start) > 100*time.Millisecond {
			t.Fatalf("publish %d while down: %v after %v, want ErrUnavailable at once", i, err, time.Since(start))
		}
	}
	proxy.Pass()
	ch := unique("back")
	sub := open(t, real)
	s, err := sub.Subscribe(ctxT(t), ch)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := tr.Publish(ctxT(t), transport.Message{Channel: ch, Payload: []byte("up")})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still failing 10s after the server came back: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	expectMsg(t, s, ch, "up")
}

// TestTransportHidesPassword checks %v, %+v and %#v of a Transport and
// its errors while down show no password.
func TestTransportHidesPassword(t *testing.T) {
	tr := open(t, strings.Replace(brokerURLOr(t, ""), "mqtt://", "mqtt://user:hunter2@", 1))
	err := tr.Publish(ctxT(t), transport.Message{Channel: "x", Payload: []byte("x")})
	if !errors.Is(err, transport.ErrUnavailable) {
		t.Fatalf("Publish with nothing listening: %v", err)
	}
	for _, s := range []string{fmt.Sprintf("%v", tr), fmt.Sprintf("%+v", tr), fmt.Sprintf("%#v", tr), err.Error()} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("the password shows in %q", s)
		}
	}
}

// TestRefusals checks how PUBACK and SUBACK refusals are classified.
func TestRefusals(t *testing.T) {
	codes := map[string]byte{"auth": 0x87, "topic": 0x90, "quota": 0x97, "other": 0x83}
	addr := fakeServerReplying(t, func(*packets.Connack) {}, func(p *packets.ControlPacket) *packets.ControlPacket {
		switch c := p.Content.(type) {
		case *packets.Publish:
			r := packets.NewControlPacket(packets.PUBACK)
			r.Content.(*packets.Puback).PacketID = c.PacketID
			r.Content.(*packets.Puback).ReasonCode = codes[c.Topic]
			return r
		case *packets.Subscribe:
			r := packets.NewControlPacket(packets.SUBACK)
			r.Content.(*packets.Suback).PacketID = c.PacketID
			r.Content.(*packets.Suback).Reasons = []byte{0x87}
			return r
		}
		return nil
	})
	tr := open(t, "mqtt://"+addr)
	for topic, want := range map[string]error{"auth": transport.ErrAuth, "topic": transport.ErrInvalidChannel, "quota": transport.ErrUnavailable} {
		if err := tr.Publish(ctxT(t), transport.Message{Channel: topic, Payload: []byte("x")}); !errors.Is(err, want) {
			t.Errorf("PUBACK refusal on %q: %v, want %v", topic, err, want)
		}
	}
	err := tr.Publish(ctxT(t), transport.Message{Channel: "other", Payload: []byte("x")})
	if err == nil || errors.Is(err, transport.ErrUnavailable) || !strings.Contains(err.Error(), "0x83") {
		t.Errorf("PUBACK 0x83: %v, want a permanent error naming the code", err)
	}
	if sub, err := tr.Subscribe(ctxT(t), "denied"); !errors.Is(err, transport.ErrAuth) {
		if sub != nil {
			sub.Close()
		}
		t.Errorf("SUBACK 0x87: %v, want ErrAuth", err)
	}
}
