package deliverytest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"testing"
	"time"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/redis"
	"github.com/eventpub/eventpub/transport"
)

// backend is a broker the delivery tests run against.
type backend struct {
	name string
	// addr is the broker's host:port, the target of a fault proxy.
	addr string
	// dial returns a transport to the broker at addr (the broker itself or
	// a proxy in front of it); it is closed when the test ends.
	dial func(t testing.TB, addr string) transport.Transport
	// stop and start restart the broker; nil for a shared real server.
	stop, start func()
	// nats: a NATS backend; jetstream: in JetStream mode (else core).
	nats, jetstream bool
}

// backends returns every broker to test: embedded ones always, real
// servers when EVENTPUB_REDIS_URL / EVENTPUB_NATS_URL are set, and RabbitMQ
// when one listens (see amqpBackends).
func backends(t testing.TB) []backend {
	var out []backend
	mr := brokertest.StartMiniredis(t)
	out = append(out, redisBackend("miniredis", mr.Addr(), mr.Stop, mr.Start))
	if u := brokertest.RealRedisURL(); u != "" {
		out = append(out, redisBackend("redis", hostOf(t, u), nil, nil))
	}
	out = append(out, natsBackends(t)...)
	out = append(out, amqpBackends(t)...)
	out = append(out, kafkaBackends(t)...)
	out = append(out, redisStreamsBackends(t)...)
	return out
}

func redisBackend(name, addr string, stop, start func()) backend {
	return backend{
		name: name, addr: addr, stop: stop, start: start,
		dial: func(t testing.TB, addr string) transport.Transport {
			tr, err := redis.Open(context.Background(), "redis://"+addr+"/0", redis.WithDialTimeout(time.Second))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = tr.Close() })
			return tr
		},
	}
}

func hostOf(t testing.TB, raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("bad broker URL %s", transport.Redact(raw))
	}
	return u.Host
}

// unique returns a fresh name so runs on a shared server do not meet.
func unique(prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}
