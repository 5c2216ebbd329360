package brokertest

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"
)

// ping sends PING over a raw connection and reports whether +PONG came back.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("*1\r\n$4\r\nPING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "+PONG" {
		return &net.AddrError{Err: "unexpected reply " + line, Addr: addr}
	}
	return nil
}

func TestMiniredisStopStartSamePort(t *testing.T) {
	m := StartMiniredis(t)
	addr := m.Addr()
	if err := ping(addr); err != nil {
		t.Fatalf("fresh miniredis: %v", err)
	}
	if !strings.HasPrefix(m.URL(), "redis://"+addr) {
		t.Fatalf("URL %q does not name %s", m.URL(), addr)
	}
	m.Stop()
	if err := ping(addr); err == nil {
		t.Fatal("stopped miniredis still answers")
	}
	m.Start()
	if m.Addr() != addr {
		t.Fatalf("restarted on %s, want %s", m.Addr(), addr)
	}
	if err := ping(addr); err != nil {
		t.Fatalf("restarted miniredis: %v", err)
	}
}

func TestRedisServerStopStartSamePort(t *testing.T) {
	s := StartRedisServer(t)
	if err := ping(s.Addr()); err != nil {
		t.Fatalf("fresh redis-server: %v", err)
	}
	if out, err := s.Do("config", "get", "save"); err != nil || !strings.Contains(out, "save") {
		t.Fatalf("redis-cli config get: %v %q", err, out)
	}
	s.Stop()
	if err := ping(s.Addr()); err == nil {
		t.Fatal("killed redis-server still answers")
	}
	s.Start()
	if err := ping(s.Addr()); err != nil {
		t.Fatalf("restarted redis-server: %v", err)
	}
}

func TestRedisClusterIsOK(t *testing.T) {
	if testing.Short() {
		t.Skip("starting a 3-node cluster takes a few seconds; skipped with -short")
	}
	c := StartRedisCluster(t, 3)
	if len(c.Addrs()) != 3 {
		t.Fatalf("got %d nodes", len(c.Addrs()))
	}
	out, err := c.Nodes[0].Do("cluster", "info")
	if err != nil {
		t.Fatal(err)
	}
	if infoField(out, "cluster_known_nodes") != "3" || infoField(out, "cluster_slots_assigned") != "16384" {
		t.Fatalf("cluster info:\n%s", out)
	}
}

func TestRealRedisURLFromEnv(t *testing.T) {
	t.Setenv(RedisURLEnv, " redis://127.0.0.1:1/0 ")
	if got := RealRedisURL(); got != "redis://127.0.0.1:1/0" {
		t.Fatalf("RealRedisURL = %q", got)
	}
	t.Setenv(RedisURLEnv, "")
	if got := RealRedisURL(); got != "" {
		t.Fatalf("RealRedisURL = %q with the variable empty", got)
	}
}
