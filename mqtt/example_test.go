package mqtt_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/eventpub/eventpub/mqtt"
	"github.com/eventpub/eventpub/transport"
)

// Opening the driver, subscribing with a pattern and publishing with a
// header. (It needs an MQTT server on 127.0.0.1:1883, so it is compiled
// but not run.)
func Example() {
	ctx := context.Background()
	tr, err := mqtt.Open(ctx, "mqtt://127.0.0.1:1883?qos=1")
	if err != nil {
		panic(err)
	}
	defer tr.Close()

	// '/' separates levels: "+" is one level, "#" the rest.
	sub, err := tr.SubscribePattern(ctx, "codeworm/+/events")
	if err != nil {
		panic(err)
	}
	defer sub.Close()
	err = tr.Publish(ctx, transport.Message{
		Channel: "codeworm/build/events",
		Payload: []byte(`{"type":"job_done"}`),
		Header:  map[string]string{"source": "ci"}, // an MQTT 5 user property
	})
	if err != nil {
		panic(err) // a nil error means the server sent its PUBACK
	}
	m, err := sub.Next(ctx)
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Channel, string(m.Payload), m.Header["source"])
}

// Opening never fails because the server is down; publishing then fails
// at once with transport.ErrUnavailable while the driver reconnects in the
// background.
func Example_serverDown() {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now

	tr, err := mqtt.Open(context.Background(), "mqtt://user:secret@"+addr)
	if err != nil {
		panic(err)
	}
	defer tr.Close()
	start := time.Now()
	err = tr.Publish(context.Background(), transport.Message{Channel: "codeworm:logs", Payload: []byte("x")})
	fmt.Println(errors.Is(err, transport.ErrUnavailable), time.Since(start) < time.Second)
	// Output: true true
}

// Channel names are MQTT topics as written; wildcards are refused in a
// publish topic.
func Example_channelRules() {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	tr, err := mqtt.Open(context.Background(), "mqtt://"+addr)
	if err != nil {
		panic(err)
	}
	defer tr.Close()
	for _, ch := range []string{"codeworm:logs", "codeworm/+", "codeworm/#", "$SYS/x"} {
		err := tr.Publish(context.Background(), transport.Message{Channel: ch})
		fmt.Printf("%-14s invalid channel: %v\n", ch, errors.Is(err, transport.ErrInvalidChannel))
	}
	// Output:
	// codeworm:logs  invalid channel: false
	// codeworm/+     invalid channel: true
	// codeworm/#     invalid channel: true
	// $SYS/x         invalid channel: true
}

// Config.Validate reports every problem at once.
func ExampleConfig_Validate() {
	c := mqtt.Config{Server: "mqtt://127.0.0.1:1883", QoS: mqtt.QoS(5), KeepSession: true, Password: "pw"}
	fmt.Println(c.Validate())
	// Output:
	// eventpub/mqtt: QoS level 4 is not 0, 1 or 2
	// eventpub/mqtt: KeepSession needs a ClientID: a persistent session is found again by its client id
	// eventpub/mqtt: a Password needs a Username
}
