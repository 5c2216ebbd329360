package brokertest

import (
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// RedisCluster is a Redis Cluster of masters only, each a RedisServer on
// loopback ports, stopped when the test ends.
type RedisCluster struct {
	Nodes []*RedisServer
}

// StartRedisCluster starts masters redis-server processes with cluster mode
// on, joins them with redis-cli --cluster create (slots spread evenly, no
// replicas) and waits until every node reports cluster_state:ok. It skips
// the test when redis-server or redis-cli is missing.
func StartRedisCluster(t testing.TB, masters int) *RedisCluster {
	t.Helper()
	if _, err := exec.LookPath("redis-cli"); err != nil || RedisServerBinary() == "" {
		t.Skip("redis-server and redis-cli are needed for a cluster (apt-get install redis-server redis-tools)")
	}
	if masters < 3 {
		t.Fatalf("brokertest: a Redis Cluster needs at least 3 masters, asked for %d", masters)
	}
	c := &RedisCluster{}
	for range masters {
		n := StartRedisServer(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf",
			"--cluster-node-timeout", "5000", "--cluster-port", strconv.Itoa(freePort(t)))
		c.Nodes = append(c.Nodes, n)
	}
	args := []string{"--cluster", "create"}
	args = append(args, c.Addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := redisCLI(args...); err != nil {
		t.Fatalf("brokertest: cluster create: %v\n%s", err, out)
	}
	deadline := time.Now().Add(20 * time.Second)
	for _, n := range c.Nodes {
		for {
			info, err := n.Do("cluster", "info")
			if err == nil && infoField(info, "cluster_state") == "ok" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("brokertest: cluster not ok after 20s on %s: %v %s", n.Addr(), err, info)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return c
}

// Addrs returns host:port of every master.
func (c *RedisCluster) Addrs() []string {
	out := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = n.Addr()
	}
	return out
}
