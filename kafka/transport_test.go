package kafka_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventpub/eventpub/internal/kafkatest"
	"github.com/eventpub/eventpub/kafka"
	"github.com/eventpub/eventpub/transport"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestAuth(t *testing.T) {
	k := kafkatest.Start(t, kafkatest.Options{Kfake: []kfake.Opt{
		kfake.EnableSASL(), kfake.Superuser("SCRAM-SHA-512", "alice", "s3cret-pass"),
	}})
	addr := strings.Join(k.Addrs(), ",")

	good := open(t, "kafka://alice:s3cret-pass@"+addr+"/?sasl=scram-sha-512")
	ch := "auth:" + unique()
	sub, err := good.Subscribe(ctxT(t), ch)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	if err := good.Publish(ctxT(t), transport.Message{Channel: ch, Payload: []byte("hi")}); err != nil {
		t.Fatalf("Publish with good credentials: %v", err)
	}
	if m, err := sub.Next(ctxT(t)); err != nil || string(m.Payload) != "hi" {
		t.Fatalf("Next = %q, %v", m.Payload, err)
	}

	// kfake closes the connection on refused credentials, which looks
	// like an outage; a real Kafka answers SASL_AUTHENTICATION_FAILED
	// first. Make kfake answer as Kafka does.
	k.Kfake().ControlKey(int16(kmsg.SASLAuthenticate), func(req kmsg.Request) (kmsg.Response, error, bool) {
		k.Kfake().KeepControl()
		resp := req.(*kmsg.SASLAuthenticateRequest).ResponseKind().(*kmsg.SASLAuthenticateResponse)
		resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
		msg := "Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-512"
		resp.ErrorMessage = &msg
		return resp, nil, true
	})
	raw := "kafka://alice:wrong-hunter2@" + addr + "/?sasl=scram-sha-512"
	tr, err := kafka.Open(ctxT(t), raw)
	if err == nil {
		tr.Close()
		t.Fatalf("Open(%s) with refused credentials succeeded", transport.Redact(raw))
	}
	if !errors.Is(err, kafka.ErrAuth) || !errors.Is(err, transport.ErrAuth) || errors.Is(err, transport.ErrUnavailable) {
		t.Fatalf("Open with refused credentials: %v, want ErrAuth and not ErrUnavailable", err)
	}
	if strings.Contains(err.Error(), "hunter2") || strings.Contains(fmt.Sprintf("%#v", err), "hunter2") {
		t.Fatalf("the error shows the password: %v", err)
	}
	t.Logf("refused credentials: %v", err)
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(f, good); strings.Contains(s, "s3cret-pass") || !strings.Contains(s, "kafka(") {
			t.Errorf("Sprintf(%q, transport) = %s", f, s)
		}
	}
}

func TestRequireTopics(t *testing.T) {
	k := kafkatest.Start(t, kafkatest.Options{})
	ch := "required:" + unique()
	strict := open(t, k.URL()+"/?create=false")
	err := strict.Publish(ctxT(t), transport.Message{Channel: ch, Payload: []byte("x")})
	if !errors.Is(err, transport.ErrInvalidChannel) || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("Publish to a missing topic with create=false: %v", err)
	}
	if _, err := strict.Subscribe(ctxT(t), ch); !errors.Is(err, transport.ErrInvalidChannel) {
		t.Fatalf("Subscribe to a missing topic with create=false: %v", err)
	}
	topic, _ := kafka.TopicFor(kafka.Escape, ch)
	if err := k.Kfake().CreateTopic(topic, 3, nil); err != nil {
		t.Fatal(err)
	}
	// franz-go caches metadata for a moment (MetadataMinAge).
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := strict.Publish(ctxT(t), transport.Message{Channel: ch, Payload: []byte("x")})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Publish once the topic exists: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The default creates the topic with the configured partitions.
	auto := open(t, k.URL()+"/?partitions=4")
	ch2 := "created:" + unique()
	if err := auto.Publish(ctxT(t), transport.Message{Channel: ch2, Payload: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	topic2, _ := kafka.TopicFor(kafka.Escape, ch2)
	if n := len(k.Kfake().PartitionInfos(topic2)); n != 4 {
		t.Fatalf("created topic %q has %d partitions, want 4", topic2, n)
	}
}

// TestKeyedByChannel: on a topic with several partitions one channel's
// messages keep their order (records are keyed by the channel name).
func TestKeyedByChannel(t *testing.T) {
	k := kafkatest.Start(t, kafkatest.Options{Brokers: 3})
	tr := open(t, k.URL()+"/?partitions=6")
	ch := "keyed:" + unique()
	sub, err := tr.Subscribe(ctxT(t), ch)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	const n = 300
	msgs := make([]transport.Message, n)
	for i := range msgs {
		msgs[i] = transport.Message{Channel: ch, Payload: fmt.Appendf(nil, "%d", i)}
	}
	if err := tr.PublishBatch(ctxT(t), msgs); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		m, err := sub.Next(ctxT(t))
		if err != nil || string(m.Payload) != fmt.Sprint(i) {
			t.Fatalf("message %d: %q, %v", i, m.Payload, err)
		}
	}
}

func TestGroupResumes(t *testing.T) {
	k := kafkatest.Start(t, kafkatest.Options{})
	ch, group := "group:"+unique(), "g-"+unique()
	pub := open(t, k.URL())
	send := func(from, to int) {
		for i := from; i < to; i++ {
			if err := pub.Publish(ctxT(t), transport.Message{Channel: ch, Payload: fmt.Appendf(nil, "%d", i)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	read := func(sub transport.Subscription, from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			m, err := sub.Next(ctxT(t))
			if err != nil || string(m.Payload) != fmt.Sprint(i) {
				t.Fatalf("message %d: %q, %v", i, m.Payload, err)
			}
		}
	}
	send(0, 10)
	first, err := open(t, k.URL()+"/?from=start&group="+group).Subscribe(ctxT(t), ch)
	if err != nil {
		t.Fatal(err)
	}
	read(first, 0, 6) // hand out six; the other four stay unread
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	send(10, 15)
	second, err := open(t, k.URL()+"/?from=start&group="+group).Subscribe(ctxT(t), ch)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	read(second, 6, 15) // resumes after the last one handed out
}

// TestOpenWhileDown: Open succeeds with no broker up, calls fail fast
// with ErrUnavailable, and the transport works once the cluster is up.
func TestOpenWhileDown(t *testing.T) {
	k := kafkatest.Start(t, kafkatest.Options{})
	k.Cut()
	start := time.Now()
	tr := open(t, k.URL())
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("Open while down took %v", took)
	}
	ch := "down:" + unique()
	for range 3 {
		start := time.Now()
		err := tr.Publish(context.Background(), transport.Message{Channel: ch, Payload: []byte("x")})
		if !errors.Is(err, transport.ErrUnavailable) || time.Since(start) > 50*time.Millisecond {
			t.Fatalf("Publish while down: %v after %v", err, time.Since(start))
		}
	}
	var be *transport.BatchError
	if err := tr.PublishBatch(ctxT(t), []transport.Message{{Channel: ch}, {Channel: ch}}); !errors.As(err, &be) || !errors.Is(err, transport.ErrUnavailable) || be.Sent != 0 {
		t.Fatalf("PublishBatch while down: %v", err)
	}
	if _, err := tr.Subscribe(ctxT(t), ch); !errors.Is(err, transport.ErrUnavailable) {
		t.Fatalf("Subscribe while down: %v", err)
	}
	k.Pass()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := tr.Publish(ctxT(t), transport.Message{Channel: ch, Payload: []byte("x")})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Publish still fails 10s after the cluster came up: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBatchResults: a refused message in the middle of a batch fails alone;
// the others are sent and Results says which is which.
func TestBatchResults(t *testing.T) {
	k := kafkatest.Start(t, kafkatest.Options{})
	tr := open(t, k.URL())
	ch := "batch:" + unique()
	sub, err := tr.Subscribe(ctxT(t), ch)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	big := make([]byte, tr.Capabilities().MaxPayload+1)
	msgs := []transport.Message{
		{Channel: ch, Payload: []byte("0")},
		{Channel: "", Payload: []byte("bad channel")},
		{Channel: ch, Payload: big},
		{Channel: ch, Payload: []byte("3"), Header: map[string]string{"k": "v"}},
	}
	err = tr.PublishBatch(ctxT(t), msgs)
	var be *transport.BatchError
	if !errors.As(err, &be) || be.Sent != 1 || len(be.Results) != 4 {
		t.Fatalf("PublishBatch = %#v", err)
	}
	if be.Results[0] != nil || !errors.Is(be.Results[1], transport.ErrInvalidChannel) ||
		!errors.Is(be.Results[2], transport.ErrPayloadTooLarge) || be.Results[3] != nil {
		t.Fatalf("Results = %v", be.Results)
	}
	for _, want := range []string{"0", "3"} {
		m, err := sub.Next(ctxT(t))
		if err != nil || string(m.Payload) != want {
			t.Fatalf("Next = %q, %v; want %q", m.Payload, err, want)
		}
		if want == "3" && m.Header["k"] != "v" {
			t.Fatalf("headers = %v", m.Header)
		}
	}
}

// TestDialerCarriesEveryConnection: with WithDialer every connection goes
// through the caller's dial function, here pinned to one proxy.
func TestDialerCarriesEveryConnection(t *testing.T) {
	k := kafkatest.Start(t, kafkatest.Options{})
	var dials atomic.Int32
	pinned := func(ctx context.Context, network, _ string) (net.Conn, error) {
		dials.Add(1)
		var d net.Dialer
		return d.DialContext(ctx, network, k.Addrs()[0])
	}
	tr := open(t, "kafka://does-not-resolve.invalid:9092", kafka.WithDialer(pinned))
	if err := tr.Publish(ctxT(t), transport.Message{Channel: "dial:" + unique(), Payload: []byte("x")}); err != nil {
		t.Fatalf("Publish through the dialer: %v", err)
	}
	if dials.Load() == 0 {
		t.Fatal("the dialer was never called")
	}
}
