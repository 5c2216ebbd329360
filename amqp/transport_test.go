package amqp_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/eventpub/eventpub/amqp"
	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/internal/faultproxy"
	"github.com/eventpub/eventpub/transport"
	amqp091 "github.com/rabbitmq/amqp091-go"
)

func publish(t *testing.T, tr transport.Transport, ch, payload string) {
	t.Helper()
	if err := tr.Publish(ctxT(t), transport.Message{Channel: ch, Payload: []byte(payload)}); err != nil {
		t.Fatalf("Publish on %q: %v", ch, err)
	}
}

func subscribe(t *testing.T, tr transport.Transport, chans ...string) transport.Subscription {
	t.Helper()
	sub, err := tr.Subscribe(ctxT(t), chans...)
	if err != nil {
		t.Fatalf("Subscribe(%q): %v", chans, err)
	}
	t.Cleanup(func() { _ = sub.Close() })
	return sub
}

// expect receives one message and checks it.
func expect(t *testing.T, sub transport.Subscription, ch, payload string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err := sub.Next(ctx)
	if err != nil {
		t.Fatalf("Next, waiting for %q on %q: %v", payload, ch, err)
	}
	if m.Channel != ch || string(m.Payload) != payload {
		t.Fatalf("received %q on %q, want %q on %q", m.Payload, m.Channel, payload, ch)
	}
}

// expectNothing checks no message arrives within a short wait.
func expectNothing(t *testing.T, sub transport.Subscription) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if m, err := sub.Next(ctx); err == nil {
		t.Fatalf("unexpected message %q on %q", m.Payload, m.Channel)
	}
}

// TestMandatory: with Mandatory, a message no queue receives is reported
// as ErrUnroutable (alone and inside a batch, with per-message results);
// one that has a queue goes through.
func TestMandatory(t *testing.T) {
	url := brokerURL(t)
	ex := exchange(t, url)
	tr := open(t, url, amqp.WithExchange(ex), amqp.WithMandatory(true))
	base := "mandatory." + unique()
	sub := subscribe(t, tr, base+".bound")

	err := tr.Publish(ctxT(t), transport.Message{Channel: base + ".nobody", Payload: []byte("lost?")})
	if !errors.Is(err, amqp.ErrUnroutable) || errors.Is(err, transport.ErrUnavailable) {
		t.Fatalf("Publish with no queue bound: %v, want ErrUnroutable", err)
	}
	publish(t, tr, base+".bound", "routed")
	expect(t, sub, base+".bound", "routed")

	batch := []transport.Message{
		{Channel: base + ".bound", Payload: []byte("b0")},
		{Channel: base + ".nobody", Payload: []byte("b1")},
		{Channel: base + ".bound", Payload: []byte("b2")},
	}
	err = tr.PublishBatch(ctxT(t), batch)
	var be *transport.BatchError
	if !errors.As(err, &be) || be.Sent != 1 || len(be.Results) != 3 ||
		be.Results[0] != nil || !errors.Is(be.Results[1], amqp.ErrUnroutable) || be.Results[2] != nil {
		t.Fatalf("PublishBatch with one unroutable message: %#v", err)
	}
	expect(t, sub, base+".bound", "b0")
	expect(t, sub, base+".bound", "b2")

	// Without Mandatory the broker drops it silently.
	plain := open(t, url, amqp.WithExchange(ex))
	if err := plain.Publish(ctxT(t), transport.Message{Channel: base + ".nobody", Payload: []byte("x")}); err != nil {
		t.Fatalf("Publish without mandatory: %v", err)
	}
}

// TestWrongPasswordIsAuth: refused credentials fail Open with ErrAuth (not
// ErrUnavailable) and the password shows nowhere.
func TestWrongPasswordIsAuth(t *testing.T) {
	url := brokerURL(t)
	const secret = "not-the-password-42"
	bad := strings.Replace(withHost(t, url, hostOf(t, url)), "guest:guest@", "guest:"+secret+"@", 1)
	if !strings.Contains(bad, secret) {
		t.Skip("EVENTPUB_AMQP_URL does not use guest:guest; cannot build a wrong password from it")
	}
	tr, err := amqp.Open(ctxT(t), bad)
	if tr != nil {
		_ = tr.Close()
	}
	if !errors.Is(err, amqp.ErrAuth) || !errors.Is(err, transport.ErrAuth) || errors.Is(err, transport.ErrUnavailable) {
		t.Fatalf("Open with a wrong password: %v, want ErrAuth and not ErrUnavailable", err)
	}
	for _, s := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%#v", err), fmt.Sprintf("%+v", err)} {
		if strings.Contains(s, secret) {
			t.Fatalf("the error shows the password: %s", s)
		}
	}
}

// TestAccessRefusedIsPermission: an exchange the broker refuses to declare
// ("amq." is reserved: ACCESS_REFUSED) fails Open with ErrPermission,
// which matches transport.ErrAuth.
func TestAccessRefusedIsPermission(t *testing.T) {
	url := brokerURL(t)
	tr, err := amqp.Open(ctxT(t), url, amqp.WithExchange("amq.eventpub-test-"+unique()))
	if tr != nil {
		_ = tr.Close()
	}
	if !errors.Is(err, amqp.ErrPermission) || !errors.Is(err, transport.ErrAuth) || errors.Is(err, transport.ErrUnavailable) {
		t.Fatalf("Open with a reserved exchange name: %v, want ErrPermission", err)
	}
}

// TestExchangeOfAnotherType: an existing exchange of another type is a
// configuration error, not an outage.
func TestExchangeOfAnotherType(t *testing.T) {
	url := brokerURL(t)
	ex := exchange(t, url)
	c, err := amqp091.Dial(url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.ExchangeDeclare(ex, "fanout", false, true, false, false, nil); err != nil {
		t.Fatal(err)
	}
	tr, err := amqp.Open(ctxT(t), url, amqp.WithExchange(ex))
	if tr != nil {
		_ = tr.Close()
	}
	if err == nil || errors.Is(err, transport.ErrUnavailable) || !strings.Contains(err.Error(), "PRECONDITION_FAILED") ||
		!strings.HasPrefix(err.Error(), "eventpub/amqp: ") {
		t.Fatalf("Open on a fanout exchange: %v, want a PRECONDITION_FAILED configuration error", err)
	}
}

// TestPatterns: topic wildcards as whole words; '*' inside a word is
// literal, for patterns and for channels.
func TestPatterns(t *testing.T) {
	url := brokerURL(t)
	tr := open(t, url, amqp.WithExchange(exchange(t, url)))
	p := "pat" + unique()
	one, err := tr.SubscribePattern(ctxT(t), p+".*")
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	all, err := tr.SubscribePattern(ctxT(t), p+".#")
	if err != nil {
		t.Fatal(err)
	}
	defer all.Close()
	literal := subscribe(t, tr, p+".a*b")

	publish(t, tr, p+".x.y", "deep")
	publish(t, tr, p+".aZb", "not literal")
	publish(t, tr, p+".a*b", "literal")
	expect(t, all, p+".x.y", "deep")
	expect(t, all, p+".aZb", "not literal")
	expect(t, all, p+".a*b", "literal")
	expect(t, one, p+".aZb", "not literal")
	expect(t, one, p+".a*b", "literal")
	expect(t, literal, p+".a*b", "literal")
	expectNothing(t, literal)

	if _, err := tr.SubscribePattern(ctxT(t), "codeworm:*"); !errors.Is(err, transport.ErrInvalidChannel) {
		t.Fatalf("SubscribePattern(codeworm:*): %v, want ErrInvalidChannel", err)
	}
}

// TestDurableQueueKeepsMessagesWhileAway: with a durable queue, what is
// published on a subscribed channel while the subscriber is gone waits
// for it, and is read once.
func TestDurableQueueKeepsMessagesWhileAway(t *testing.T) {
	url := brokerURL(t)
	ex, q := exchange(t, url), queue(t, url)
	ch := "inbox." + unique()
	first := open(t, url, amqp.WithExchange(ex), amqp.WithQueue(q))
	if !first.Capabilities().Persistent {
		t.Fatal("queue mode is not Persistent")
	}
	sub := subscribe(t, first, ch)
	pub := open(t, url, amqp.WithExchange(ex))
	publish(t, pub, ch, "while here")
	expect(t, sub, ch, "while here")
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		publish(t, pub, ch, fmt.Sprintf("while away %d", i))
	}
	again := open(t, url, amqp.WithExchange(ex), amqp.WithQueue(q))
	sub = subscribe(t, again, ch)
	for i := range 3 {
		expect(t, sub, ch, fmt.Sprintf("while away %d", i))
	}
	expectNothing(t, sub)

	if open(t, url, amqp.WithExchange(ex)).Capabilities().Persistent {
		t.Fatal("exclusive-queue mode claims Persistent")
	}
}

// TestOpenWhileDown: Open succeeds while nothing answers, calls fail fast
// with ErrUnavailable, and the transport connects once the broker is back.
func TestOpenWhileDown(t *testing.T) {
	url := brokerURL(t)
	proxy := faultproxy.Start(t, hostOf(t, url))
	proxy.Cut()
	tr := open(t, withHost(t, url, proxy.Addr()), amqp.WithExchange(exchange(t, url)), amqp.WithBackoff(10*time.Millisecond, 100*time.Millisecond))
	start := time.Now()
	for i := range 100 {
		err := tr.Publish(ctxT(t), transport.Message{Channel: "down", Payload: []byte("x")})
		if !errors.Is(err, transport.ErrUnavailable) {
			t.Fatalf("Publish %d while down: %v", i, err)
		}
	}
	if _, err := tr.Subscribe(ctxT(t), "down"); !errors.Is(err, transport.ErrUnavailable) {
		t.Fatalf("Subscribe while down: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("100 publishes while down took %v; they must fail fast", d)
	}
	proxy.Pass()
	brokertest.WaitFor(t, 10*time.Second, "the transport to connect", func() bool { return tr.Ping(ctxT(t)) == nil })
	ch := "up." + unique()
	sub := subscribe(t, tr, ch)
	publish(t, tr, ch, "back")
	expect(t, sub, ch, "back")
}

// TestTLS: amqps with tls_ca (and WithTLS) reaches the broker; a server
// certificate the client does not trust is ErrAuth.
func TestTLS(t *testing.T) {
	url := brokerURL(t)
	certs := brokertest.NewTLS(t)
	front := certs.Front(t, hostOf(t, url))
	secure := strings.Replace(withHost(t, url, front), "amqp://", "amqps://", 1)
	ex := exchange(t, url)

	tr := open(t, secure+"?tls_ca="+certs.CAFile, amqp.WithExchange(ex))
	ch := "tls." + unique()
	sub := subscribe(t, tr, ch)
	publish(t, tr, ch, "over TLS")
	expect(t, sub, ch, "over TLS")

	viaOption := open(t, secure, amqp.WithExchange(ex), amqp.WithTLS(certs.ClientConfig()))
	publish(t, viaOption, ch, "WithTLS")
	expect(t, sub, ch, "WithTLS")

	untrusted, err := amqp.Open(ctxT(t), secure, amqp.WithExchange(ex))
	if untrusted != nil {
		_ = untrusted.Close()
	}
	if !errors.Is(err, amqp.ErrAuth) || errors.Is(err, transport.ErrUnavailable) {
		t.Fatalf("amqps with an untrusted server certificate: %v, want ErrAuth", err)
	}
}

// TestRegistered: transport.Open knows amqp:// and amqps://.
func TestRegistered(t *testing.T) {
	url := brokerURL(t)
	tr, err := transport.Open(ctxT(t), url+"?exchange="+exchange(t, url))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if _, ok := tr.(*amqp.Transport); !ok {
		t.Fatalf("transport.Open(amqp://…) gave %T", tr)
	}
	if err := tr.Ping(ctxT(t)); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// TestExchangeDeletedUnderUs: when someone deletes the exchange, the
// publish the broker refuses for it fails with ErrUnavailable (the queue
// retries it) and the next publish declares the exchange again.
func TestExchangeDeletedUnderUs(t *testing.T) {
	url := brokerURL(t)
	ex := exchange(t, url)
	tr := open(t, url, amqp.WithExchange(ex))
	ch := "deleted." + unique()
	publish(t, tr, ch, "before")
	cleanup(url, []string{ex}, nil)
	msg := transport.Message{Channel: ch, Payload: []byte("refused")}
	if err := tr.Publish(ctxT(t), msg); !errors.Is(err, transport.ErrUnavailable) || !strings.Contains(err.Error(), "NOT_FOUND") {
		t.Fatalf("Publish to a deleted exchange: %v, want ErrUnavailable naming NOT_FOUND", err)
	}
	sub := subscribe(t, tr, ch) // its queue binds to the exchange declared again
	publish(t, tr, ch, "after")
	expect(t, sub, ch, "after")
}
