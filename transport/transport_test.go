package transport_test

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/eventpub/eventpub/memory"
	"github.com/eventpub/eventpub/transport"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var schemes atomic.Int32

// newScheme returns a scheme no run of the tests has registered yet, so
// they pass with -count above 1 (the registry lives for the process).
func newScheme(prefix string) string {
	return prefix + strconv.Itoa(int(schemes.Add(1)))
}

func TestOpenUnknownSchemeNamesRegistered(t *testing.T) {
	scheme := newScheme("testscheme")
	transport.Register(scheme, func(ctx context.Context, raw string) (transport.Transport, error) {
		return nil, errors.New("opened")
	})
	_, err := transport.Open(context.Background(), "bogus://user:hunter2@host:1")
	if err == nil {
		t.Fatal("Open of an unknown scheme succeeded")
	}
	if !strings.Contains(err.Error(), `"bogus"`) || !strings.Contains(err.Error(), scheme) {
		t.Fatalf("error does not name the scheme and the registered ones: %v", err)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error leaks the password: %v", err)
	}
	if _, err := transport.Open(context.Background(), scheme+"://x"); err == nil || err.Error() != "opened" {
		t.Fatalf("registered opener not called: %v", err)
	}
}

func TestOpenBadURLHidesSecret(t *testing.T) {
	for _, raw := range []string{"bogus://u:hunter2@host:port:x/0", "no-scheme-hunter2", "://hunter2", "1x://hunter2"} {
		_, err := transport.Open(context.Background(), raw)
		if err == nil {
			t.Fatalf("Open(%q) succeeded", raw)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Fatalf("Open(%q) error leaks the secret: %v", raw, err)
		}
	}
}

func TestRegisterTwicePanics(t *testing.T) {
	scheme := newScheme("twice")
	transport.Register(scheme, func(context.Context, string) (transport.Transport, error) { return nil, nil })
	defer func() {
		if recover() == nil {
			t.Fatal("second Register did not panic")
		}
	}()
	transport.Register(scheme, func(context.Context, string) (transport.Transport, error) { return nil, nil })
}

func TestRedact(t *testing.T) {
	cases := map[string]string{
		"redis://user:hunter2@localhost:6379/0": "redis://user:xxxxx@localhost:6379/0",
		"nats://hunter2@localhost:4222":         "nats://xxxxx@localhost:4222",
		"redis://localhost:6379/0":              "redis://localhost:6379/0",
		"nats://h:4222?token=hunter2&name=x":    "nats://h:4222?name=x&token=xxxxx",
		"rediss://:hunter2@localhost:6380":      "rediss://:xxxxx@localhost:6380",
	}
	for in, want := range cases {
		if got := transport.Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestErrorsClassify(t *testing.T) {
	err := transport.Unavailable(io.EOF)
	if !errors.Is(err, transport.ErrUnavailable) || !errors.Is(err, io.EOF) {
		t.Fatalf("Unavailable(io.EOF) = %v does not match both", err)
	}
	be := &transport.BatchError{Sent: 3, Err: err}
	if !errors.Is(be, transport.ErrUnavailable) {
		t.Fatal("BatchError hides its cause")
	}
	inv := transport.Invalid(transport.ErrInvalidChannel, "channel %q is empty", "")
	if !errors.Is(inv, transport.ErrInvalidChannel) || !strings.Contains(inv.Error(), `channel "" is empty`) {
		t.Fatalf("Invalid = %v", inv)
	}
}

func TestOpenPassesTheURLAsWritten(t *testing.T) {
	var got string
	scheme := newScheme("rawscheme")
	transport.Register(scheme, func(_ context.Context, raw string) (transport.Transport, error) {
		got = raw
		return nil, errors.New("opened")
	})
	list := strings.ToUpper(scheme[:1]) + scheme[1:] + "://a:4222," + scheme + "://b:4222"
	if _, err := transport.Open(context.Background(), list); err == nil || got != list {
		t.Fatalf("opener got %q (err %v), want the URL as written", got, err)
	}
}

// oneByOne hides a transport's PublishBatch.
type oneByOne struct{ transport.Transport }

func TestBatchErrorWithoutErr(t *testing.T) {
	if got := (&transport.BatchError{Sent: 3}).Error(); !strings.Contains(got, "3") {
		t.Fatalf("BatchError without Err: %q", got)
	}
}

func TestPublishAll(t *testing.T) {
	ctx := context.Background()
	mem := memory.New()
	defer mem.Close()
	rec := memory.NewRecorder(mem)
	defer rec.Close()
	msgs := []transport.Message{{Channel: "a", Payload: []byte("1")}, {Channel: "", Payload: []byte("2")}, {Channel: "a", Payload: []byte("3")}}

	// One by one: the first message goes, the second fails.
	sent, err := transport.PublishAll(ctx, oneByOne{mem}, msgs)
	if sent != 1 || !errors.Is(err, transport.ErrInvalidChannel) {
		t.Fatalf("one by one: sent %d, err %v", sent, err)
	}
	// As a batch: the memory driver sends the valid ones around the
	// refused one; BatchError.Sent counts the leading one.
	sent, err = transport.PublishAll(ctx, mem, msgs)
	if sent != 1 || !errors.Is(err, transport.ErrInvalidChannel) {
		t.Fatalf("batch: sent %d, err %v", sent, err)
	}
	msgs[1].Channel = "a"
	if sent, err = transport.PublishAll(ctx, mem, msgs); sent != 3 || err != nil {
		t.Fatalf("valid batch: sent %d, err %v", sent, err)
	}
	if n := len(rec.Messages("a")); n != 6 {
		t.Fatalf("recorded %d messages, want 6", n)
	}
}

func TestUnknownOutcomeIsUnavailable(t *testing.T) {
	cause := errors.New("no ack")
	err := transport.UnknownOutcome(cause)
	if !errors.Is(err, transport.ErrUnknownOutcome) || !errors.Is(err, transport.ErrUnavailable) || !errors.Is(err, cause) {
		t.Fatalf("UnknownOutcome(cause) = %v: want ErrUnknownOutcome, ErrUnavailable and the cause", err)
	}
	if errors.Is(transport.Unavailable(cause), transport.ErrUnknownOutcome) {
		t.Fatal("a plain ErrUnavailable says the message was not sent: it must not match ErrUnknownOutcome")
	}
	if got := err.Error(); got != "eventpub: broker unavailable: the outcome is unknown, the message may have been sent: no ack" {
		t.Fatalf("text %q", got)
	}
}
