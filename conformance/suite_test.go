package conformance_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/eventpub/eventpub/conformance"
	"github.com/eventpub/eventpub/memory"
	"github.com/eventpub/eventpub/transport"
)

// mutantEnv names the broken driver a child process runs the suite against.
const mutantEnv = "EVENTPUB_CONFORMANCE_MUTANT"

// mutants are drivers that break one rule each, and the check that must
// catch it.
var mutants = []struct{ name, check, breaks string }{
	{"ignores-publish-ctx", "Errors/PublishCanceledContext", "publishes although the context is cancelled"},
	{"close-twice-fails", "Lifecycle/CloseIdempotent", "returns an error from a second Close"},
	{"wrong-channel", "MultiChannel", "tags every message with the first channel subscribed"},
	{"lies-about-max", "Errors/PayloadTooLarge", "reports a payload limit it does not enforce"},
	{"reverses-batch", "PublishBatch", "sends a batch in reverse order"},
	{"keeps-down", "Outage", "stays unavailable after the broker is back"},
}

// TestSuiteCatchesBrokenDrivers runs the suite in a child process against
// each mutant and checks the suite fails it in the expected check.
func TestSuiteCatchesBrokenDrivers(t *testing.T) {
	if os.Getenv(mutantEnv) != "" {
		t.Skip("this process is a mutant child")
	}
	for _, m := range mutants {
		t.Run(m.name, func(t *testing.T) {
			parts := []string{"^TestMutantChild$", "^" + m.name + "$"}
			for _, p := range strings.Split(m.check, "/") {
				parts = append(parts, "^"+p+"$")
			}
			cmd := exec.Command(os.Args[0], "-test.run", strings.Join(parts, "/"), "-test.count=1", "-test.v")
			cmd.Env = append(os.Environ(), mutantEnv+"="+m.name)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the suite passed a driver that %s:\n%s", m.breaks, out)
			}
			want := "--- FAIL: TestMutantChild/" + m.name + "/" + m.check
			if !strings.Contains(string(out), want) {
				t.Fatalf("the driver that %s did not fail in %s:\n%s", m.breaks, m.check, out)
			}
		})
	}
}

// TestMutantChild is the child side of TestSuiteCatchesBrokenDrivers.
func TestMutantChild(t *testing.T) {
	kind := os.Getenv(mutantEnv)
	if kind == "" {
		t.Skip("runs only as a child of TestSuiteCatchesBrokenDrivers")
	}
	b := memory.NewBroker()
	var stuck atomic.Bool
	conformance.Run(t, conformance.Harness{
		Name: kind,
		New: func(testing.TB) transport.Transport {
			return &mutant{Transport: b.Connect(), kind: kind, stuck: &stuck}
		},
		Stop: func(testing.TB) { b.SetDown(true); stuck.Store(kind == "keeps-down") },
		Start: func(testing.TB) {
			b.SetDown(false)
		},
	})
}

// mutant wraps a memory transport and breaks the rule its kind names.
type mutant struct {
	*memory.Transport
	kind   string
	closes atomic.Int32
	stuck  *atomic.Bool
}

func (m *mutant) Publish(ctx context.Context, msg transport.Message) error {
	switch {
	case m.kind == "ignores-publish-ctx":
		ctx = context.Background()
	case m.kind == "keeps-down" && m.stuck.Load():
		return transport.Unavailable(errors.New("still down"))
	}
	return m.Transport.Publish(ctx, msg)
}

func (m *mutant) PublishBatch(ctx context.Context, msgs []transport.Message) error {
	if m.kind == "reverses-batch" {
		msgs = slices.Clone(msgs)
		slices.Reverse(msgs)
	}
	return m.Transport.PublishBatch(ctx, msgs)
}

func (m *mutant) Subscribe(ctx context.Context, channels ...string) (transport.Subscription, error) {
	sub, err := m.Transport.Subscribe(ctx, channels...)
	if err != nil || m.kind != "wrong-channel" {
		return sub, err
	}
	return &retag{Subscription: sub, channel: channels[0]}, nil
}

func (m *mutant) Capabilities() transport.Capabilities {
	c := m.Transport.Capabilities()
	if m.kind == "lies-about-max" {
		c.MaxPayload = 100 // the broker still takes 1 MiB
	}
	return c
}

func (m *mutant) Close() error {
	err := m.Transport.Close()
	if m.kind == "close-twice-fails" && m.closes.Add(1) > 1 {
		return errors.New("already closed")
	}
	return err
}

// retag labels every message with one channel.
type retag struct {
	transport.Subscription
	channel string
}

func (r *retag) Next(ctx context.Context) (transport.Message, error) {
	msg, err := r.Subscription.Next(ctx)
	msg.Channel = r.channel
	return msg, err
}
