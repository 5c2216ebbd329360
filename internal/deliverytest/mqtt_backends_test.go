package deliverytest

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/internal/faultproxy"
	"github.com/eventpub/eventpub/mqtt"
	"github.com/eventpub/eventpub/transport"
)

// mqttBackends returns the MQTT server to test, at QoS 1 (the driver's
// default): EVENTPUB_MQTT_URL, or Mosquitto on 127.0.0.1:1883 when it
// answers. MQTT has no in-process server, so without one there is no
// MQTT backend (logged). The server is shared, so it is reached through
// a fault proxy whose Cut and Pass are its stop and start: the restart
// test takes every link down at once and lets the driver reconnect.
func mqttBackends(t testing.TB) []backend {
	raw, skip, err := brokertest.ListeningURL(brokertest.MQTTURLEnv, brokertest.MQTTDefaultURL)
	if err != nil {
		t.Fatal(err)
	}
	if skip != "" {
		t.Logf("MQTT is left out of the delivery tests: %s", skip)
		return nil
	}
	u, _ := url.Parse(raw)
	proxy := faultproxy.Start(t, u.Host)
	return []backend{{
		name: "mqtt", addr: proxy.Addr(), stop: proxy.Cut, start: proxy.Pass,
		dial: func(t testing.TB, addr string) transport.Transport {
			d := *u
			d.Host = addr
			tr, err := mqtt.Open(context.Background(), d.String(), mqtt.WithConnectTimeout(time.Second))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = tr.Close() })
			return tr
		},
	}}
}
