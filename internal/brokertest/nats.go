package brokertest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	natsgo "github.com/nats-io/nats.go"
)

// NATSURLEnv names the environment variable that points the tests at a real
// NATS server with JetStream, such as nats://127.0.0.1:4222.
const NATSURLEnv = "EVENTPUB_NATS_URL"

// RealNATSURL returns the URL of the real NATS server named by
// EVENTPUB_NATS_URL, or "" when it is not set.
func RealNATSURL() string { return strings.TrimSpace(os.Getenv(NATSURLEnv)) }

// NATSOption adjusts the options of an embedded nats-server before it starts,
// e.g. to add TLS or authentication.
type NATSOption func(*server.Options)

// NATSServer is an in-process nats-server with JetStream on a loopback port.
// It is shut down when the test ends. Stop and Start take it down and bring
// it back on the same port with the same JetStream store.
type NATSServer struct {
	t      testing.TB
	mu     sync.Mutex
	opts   server.Options
	srv    *server.Server
	scheme string
}

// StartNATS starts an embedded nats-server with JetStream on a free loopback
// port, its store in a directory of the test's own, and shuts it down (waiting
// for every goroutine of it to end) in t.Cleanup.
func StartNATS(t testing.TB, opts ...NATSOption) *NATSServer {
	t.Helper()
	o := server.Options{
		Host:      "127.0.0.1",
		Port:      server.RANDOM_PORT,
		JetStream: true,
		StoreDir:  t.TempDir(),
		NoLog:     true,
		NoSigs:    true,
		// Keep the HTTP monitor, leaf and gateway listeners off.
		HTTPPort: 0,
	}
	for _, opt := range opts {
		opt(&o)
	}
	s := &NATSServer{t: t, opts: o, scheme: "nats"}
	if o.TLSConfig != nil {
		s.scheme = "tls"
	}
	s.Start()
	// Later starts reuse the port the first one got.
	s.mu.Lock()
	s.opts.Port = s.srv.Addr().(*net.TCPAddr).Port
	if s.opts.Cluster.Port == server.RANDOM_PORT && s.srv.ClusterAddr() != nil {
		s.opts.Cluster.Port = s.srv.ClusterAddr().Port
	}
	s.mu.Unlock()
	t.Cleanup(s.Stop)
	return s
}

// URL returns the client URL, e.g. nats://127.0.0.1:43121 (tls:// when the
// server requires TLS). It stays the same across Stop and Start.
func (s *NATSServer) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	port := s.opts.Port
	if s.srv != nil {
		port = s.srv.Addr().(*net.TCPAddr).Port
	}
	return s.scheme + "://" + net.JoinHostPort(s.opts.Host, strconv.Itoa(port))
}

// Server returns the running server, or nil while it is stopped.
func (s *NATSServer) Server() *server.Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.srv
}

// Running reports whether the server is up.
func (s *NATSServer) Running() bool { return s.Server() != nil }

// Stop shuts the server down and waits until it has. Stopping a stopped
// server does nothing.
func (s *NATSServer) Stop() {
	s.mu.Lock()
	srv := s.srv
	s.srv = nil
	s.mu.Unlock()
	if srv == nil {
		return
	}
	srv.Shutdown()
	srv.WaitForShutdown()
}

// Start brings a stopped server back on the same port with the same
// JetStream store. Starting a running server does nothing. It fails the test
// when the server does not accept connections within 10 s.
func (s *NATSServer) Start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return
	}
	o := s.opts // NewServer keeps and changes what it is given.
	srv, err := server.NewServer(&o)
	if err != nil {
		s.t.Fatalf("brokertest: nats-server options: %v", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		srv.Shutdown()
		srv.WaitForShutdown()
		s.t.Fatalf("brokertest: nats-server on port %d not ready within 10s", s.opts.Port)
	}
	s.srv = srv
}

// NATSCluster is a set of embedded nats-servers joined by routes into one
// cluster with clustered JetStream.
type NATSCluster struct {
	// Servers are the nodes, in start order.
	Servers []*NATSServer
}

// URLs returns every node's client URL joined by commas, the form nats.go
// and the nats driver accept for several servers.
func (c *NATSCluster) URLs() string {
	urls := make([]string, len(c.Servers))
	for i, s := range c.Servers {
		urls[i] = s.URL()
	}
	return strings.Join(urls, ",")
}

// StartNATSCluster starts n embedded servers (n ≥ 1) on loopback, each routed to
// the others, with clustered JetStream, and waits until every route is up
// and JetStream has a meta leader. Each server is shut down in t.Cleanup.
func StartNATSCluster(t testing.TB, n int, opts ...NATSOption) *NATSCluster {
	t.Helper()
	if n < 1 {
		t.Fatalf("brokertest: cluster of %d nodes", n)
	}
	ports := make([]int, n)
	for i := range ports {
		ports[i] = freePort(t)
	}
	routes := make([]*url.URL, n)
	for i, p := range ports {
		routes[i] = &url.URL{Scheme: "nats-route", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(p))}
	}
	c := &NATSCluster{}
	for i := range n {
		node := func(o *server.Options) {
			o.ServerName = fmt.Sprintf("node-%d", i+1)
			o.Cluster.Name = "eventpub-test"
			o.Cluster.Host = "127.0.0.1"
			o.Cluster.Port = ports[i]
			o.Routes = routes
		}
		c.Servers = append(c.Servers, StartNATS(t, append([]NATSOption{node}, opts...)...))
	}
	deadline := time.Now().Add(20 * time.Second)
	for _, s := range c.Servers {
		for s.Server().NumRoutes() < n-1 || (n > 1 && !s.Server().JetStreamIsClustered()) {
			if time.Now().After(deadline) {
				t.Fatalf("brokertest: cluster of %d did not form within 20s", n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	for !c.hasMetaLeader() {
		if time.Now().After(deadline) {
			t.Fatalf("brokertest: cluster of %d elected no JetStream leader within 20s", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return c
}

func (c *NATSCluster) hasMetaLeader() bool {
	for _, s := range c.Servers {
		if srv := s.Server(); srv != nil && srv.JetStreamIsLeader() {
			return true
		}
	}
	return false
}

// NATSStream returns a fresh JetStream stream name for a test on the server
// at url and deletes that stream when the test ends, so runs on a shared
// server leave nothing behind.
func NATSStream(t testing.TB, url string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := "EVENTPUB_TEST_" + strings.ToUpper(hex.EncodeToString(b[:]))
	t.Cleanup(func() {
		nc, err := natsgo.Connect(url, natsgo.Timeout(2*time.Second))
		if err != nil {
			return // the server is gone: nothing to clean up
		}
		defer nc.Close()
		_, _ = nc.Request("$JS.API.STREAM.DELETE."+name, nil, 2*time.Second)
	})
	return name
}
