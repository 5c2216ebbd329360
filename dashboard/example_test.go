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

	ctx := context.Background()
	pub := broker.Connect()
	_ = pub.Publish(ctx, transport.Message{Channel: "svc:logs", Payload: []byte(`{"event":"started","took":1.50}`)})
	// Wait until the relay has the message and has checked the broker.
	for st := relay.Stats(); st.Relayed < 1 || !st.BrokerUp; st = relay.Stats() {
		time.Sleep(time.Millisecond)
	}

	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/api/ws", nil)
	if err != nil {
		panic(err)
	}
	defer conn.CloseNow()
	_, history, _ := conn.Read(ctx)
	fmt.Println(string(history))
	_, state, _ := conn.Read(ctx)
	fmt.Println(string(state))
	_ = conn.Write(ctx, websocket.MessageText, []byte("ping"))
	_, pong, _ := conn.Read(ctx)
	fmt.Println(string(pong))
	// Output:
	// {"channel":"svc:history","data":[{"channel":"svc:logs","data":{"event":"started","took":1.5}}]}
	// {"type":"broker","state":"up"}
	// {"type":"pong"}
}
