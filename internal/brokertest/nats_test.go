package brokertest

import (
	"strings"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
)

func TestNATSServerStopStartKeepsPortAndStore(t *testing.T) {
	s := StartNATS(t)
	url := s.URL()
	if !strings.HasPrefix(url, "nats://127.0.0.1:") {
		t.Fatalf("URL %q is not a loopback nats:// URL", url)
	}
	nc, err := natsgo.Connect(url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	js, err := nc.JetStream()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.AddStream(&natsgo.StreamConfig{Name: "KEPT", Subjects: []string{"kept"}}); err != nil {
		t.Fatalf("JetStream is not enabled: %v", err)
	}
	if _, err := js.Publish("kept", []byte("x")); err != nil {
		t.Fatal(err)
	}
	nc.Close()

	s.Stop()
	s.Stop() // idempotent
	if s.Running() {
		t.Fatal("Running after Stop")
	}
	if nc, err := natsgo.Connect(url, natsgo.Timeout(time.Second)); err == nil {
		nc.Close()
		t.Fatal("connected to a stopped server")
	}

	s.Start()
	if s.URL() != url {
		t.Fatalf("URL changed across restart: %q → %q", url, s.URL())
	}
	nc, err = natsgo.Connect(url)
	if err != nil {
		t.Fatalf("connect after Start: %v", err)
	}
	defer nc.Close()
	js, _ = nc.JetStream()
	info, err := js.StreamInfo("KEPT")
	if err != nil || info.State.Msgs != 1 {
		t.Fatalf("stream after restart: %v, %v; want it kept with 1 message", info, err)
	}
}

func TestNATSClusterRoutes(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts three servers")
	}
	c := StartNATSCluster(t, 3)
	if n := len(strings.Split(c.URLs(), ",")); n != 3 {
		t.Fatalf("URLs() has %d servers, want 3", n)
	}
	for i, s := range c.Servers {
		if got := s.Server().NumRoutes(); got < 2 {
			t.Fatalf("node %d has %d routes, want 2", i+1, got)
		}
	}
	// A message published on node 1 reaches a subscriber on node 3.
	sub, err := natsgo.Connect(c.Servers[2].URL())
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	s, err := sub.SubscribeSync("across")
	if err != nil {
		t.Fatal(err)
	}
	_ = sub.Flush()
	pub, err := natsgo.Connect(c.Servers[0].URL())
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_ = pub.Publish("across", []byte("hi"))
		if _, err := s.NextMsg(200 * time.Millisecond); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no message crossed the cluster within 5s")
		}
	}
}

func TestRealNATSURL(t *testing.T) {
	t.Setenv(NATSURLEnv, " nats://127.0.0.1:4222 ")
	if got := RealNATSURL(); got != "nats://127.0.0.1:4222" {
		t.Fatalf("RealNATSURL() = %q", got)
	}
	t.Setenv(NATSURLEnv, "")
	if got := RealNATSURL(); got != "" {
		t.Fatalf("RealNATSURL() = %q with the variable empty", got)
	}
}
