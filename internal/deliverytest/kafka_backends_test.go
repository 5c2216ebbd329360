package deliverytest

import (
	"context"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/eventpub/eventpub/internal/kafkatest"
	"github.com/eventpub/eventpub/kafka"
	"github.com/eventpub/eventpub/transport"
)

// kafkaBackends returns the Kafka brokers to test: a one-broker kfake
// cluster always, restarted from its data directory by stop and start, and
// a real Kafka when EVENTPUB_KAFKA_URL is set (it must be a one-broker
// cluster: see kafkaBackend).
func kafkaBackends(t testing.TB) []backend {
	k := kafkatest.Start(t, kafkatest.Options{Restartable: true})
	out := []backend{kafkaBackend("kafka-kfake", k.Addrs()[0], k.Stop, k.Start)}
	if u := os.Getenv("EVENTPUB_KAFKA_URL"); u != "" {
		// kafka://host:port[,host:port…][/?…]: the first broker.
		hosts := strings.TrimPrefix(u, "kafka://")
		if i := strings.IndexAny(hosts, "/?"); i >= 0 {
			hosts = hosts[:i]
		}
		if i := strings.LastIndexByte(hosts, '@'); i >= 0 {
			hosts = hosts[i+1:]
		}
		out = append(out, kafkaBackend("kafka", strings.Split(hosts, ",")[0], nil, nil))
	}
	return out
}

// kafkaBackend dials every connection to addr, whatever broker address
// the cluster advertises: so a fault proxy at addr carries all of the
// client's traffic. That holds for a one-broker cluster only.
func kafkaBackend(name, addr string, stop, start func()) backend {
	return backend{
		name: name, addr: addr, stop: stop, start: start,
		dial: func(t testing.TB, addr string) transport.Transport {
			pinned := func(ctx context.Context, network, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, network, addr)
			}
			tr, err := kafka.Open(context.Background(), "kafka://"+addr,
				kafka.WithDialer(pinned), kafka.WithConnectTimeout(time.Second))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = tr.Close() })
			return tr
		},
	}
}
