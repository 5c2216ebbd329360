package dashboard_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/eventpub/eventpub/dashboard"
	"github.com/eventpub/eventpub/memory"
	"github.com/eventpub/eventpub/transport"
)

// A relay over the memory driver, served with net/http: a WebSocket client
// receives each message as CodeWorm's relay writes it.
func Example() {
	broker := memory.NewBroker()
	relay, err := dashboard.New(broker.Connect(), dashboard.WithNamespace("svc"))
	if err != nil {
		panic(err)
	}
	_ = relay.Start()
	srv := httptest.NewServer(relay)
	defer srv.Close()
	defer relay.Close()

	// A message published before the relay has subscribed would not reach
	// it: wait for that, but not forever.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	select {
	case <-relay.Ready():
	case <-ctx.Done():
		fmt.Println("the relay did not subscribe:", ctx.Err())
		return
	}
	pub := broker.Connect()
	defer pub.Close()
	_ = pub.Publish(ctx, transport.Message{Channel: "svc:logs", Payload: []byte(`{"event":"started","took":1.50}`)})
	// Wait until the relay has the message and has checked the broker.
	for st := relay.Stats(); st.Relayed < 1 || !st.BrokerUp; st = relay.Stats() {
		if ctx.Err() != nil {
			fmt.Printf("the relay is not there yet: %+v\n", st)
			return
		}
		time.Sleep(time.Millisecond)
	}

	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/api/ws", nil)
	if err != nil {
		panic(err)
	}
	defer conn.CloseNow()
	read := func() {
		if _, frame, err := conn.Read(ctx); err != nil {
			fmt.Println("read:", err)
		} else {
			fmt.Println(string(frame))
		}
	}
	read() // the history
	read() // the broker's state
	_ = conn.Write(ctx, websocket.MessageText, []byte("ping"))
	read()
	// Output:
	// {"channel":"svc:history","data":[{"channel":"svc:logs","data":{"event":"started","took":1.5}}]}
	// {"type":"broker","state":"up"}
	// {"type":"pong"}
}
