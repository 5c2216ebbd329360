package brokertest

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/eventpub/eventpub/transport"
	"github.com/rabbitmq/amqp091-go"
)

// Environment variables and default addresses of the brokers that have no
// in-process form: tests use them when something listens there.
const (
	AMQPURLEnv     = "EVENTPUB_AMQP_URL"
	AMQPDefaultURL = "amqp://guest:guest@127.0.0.1:5672/"
	MQTTURLEnv     = "EVENTPUB_MQTT_URL"
	MQTTDefaultURL = "mqtt://127.0.0.1:1883"
)

// ListeningURL returns the server a test of a broker with no in-process
// form runs against: the URL in the environment variable env, else def,
// provided something accepts a TCP connection at its host. When nothing
// does, it returns "" and why, for the test to skip with; an env URL that
// is set but does not parse or does not answer is an error, since the
// caller asked for that server.
func ListeningURL(env, def string) (raw, skip string, err error) {
	raw = strings.TrimSpace(os.Getenv(env))
	set := raw != ""
	if !set {
		raw = def
	}
	u, perr := url.Parse(raw)
	if perr != nil || u.Host == "" {
		return "", "", fmt.Errorf("%s %s does not parse as a URL with a host", env, transport.Redact(raw))
	}
	c, derr := net.DialTimeout("tcp", u.Host, time.Second)
	if derr != nil {
		if set {
			return "", "", fmt.Errorf("%s is set but %s does not answer: %v", env, u.Host, derr)
		}
		return "", fmt.Sprintf("nothing listens on %s (set %s to test against a server): %v", u.Host, env, derr), nil
	}
	_ = c.Close()
	return raw, "", nil
}

// RequireListening is ListeningURL for a test: it fails the test on an
// error and skips it, saying why, when nothing listens.
func RequireListening(t testing.TB, env, def string) string {
	t.Helper()
	raw, skip, err := ListeningURL(env, def)
	if err != nil {
		t.Fatal(err)
	}
	if skip != "" {
		t.Skip(skip)
	}
	return raw
}

// AMQPExchange returns the RabbitMQ URL raw with ?exchange= set to a fresh
// name, and deletes that exchange when the test ends, so tests on a shared
// server neither meet nor leave exchanges behind.
func AMQPExchange(t testing.TB, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("bad URL %s", transport.Redact(raw))
	}
	ex := "eventpub-test-" + Unique()
	t.Cleanup(func() { DeleteAMQPExchange(raw, ex) })
	q := u.Query()
	q.Set("exchange", ex)
	u.RawQuery = q.Encode()
	return u.String()
}

// DeleteAMQPExchange deletes the exchange name on the RabbitMQ at raw, if
// it can reach it within 2 s.
func DeleteAMQPExchange(raw, name string) {
	c, err := amqp091.DialConfig(raw, amqp091.Config{Dial: amqp091.DefaultDial(2 * time.Second)})
	if err != nil {
		return
	}
	defer c.Close()
	if ch, err := c.Channel(); err == nil {
		_ = ch.ExchangeDelete(name, false, false)
		_ = ch.Close()
	}
}
