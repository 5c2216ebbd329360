package main

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/eventpub/eventpub"
	epnats "github.com/eventpub/eventpub/nats"
	"github.com/eventpub/eventpub/transport"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// openJetStream opens the driver on a stream of its own (file storage, as
// the driver's default) and returns it with a cleanup that deletes the
// stream from the shared server.
func openJetStream(e *env, stream string, subjects ...string) (*epnats.Transport, func(), error) {
	ctx, cancel := ctxFor(10 * time.Second)
	defer cancel()
	tr, err := epnats.Open(ctx, e.natsURL, epnats.WithJetStream(epnats.JetStreamConfig{
		Stream: stream, Subjects: subjects, MaxBytes: 1 << 30,
		MaxAge: time.Hour, // gone within the hour should a run be cut short
	}))
	if err != nil {
		return nil, nil, err
	}
	return tr, func() {
		tr.Close()
		deleteStream(e, stream)
	}, nil
}

func deleteStream(e *env, stream string) {
	nc, err := natsgo.Connect(e.natsURL)
	if err != nil {
		return
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return
	}
	ctx, cancel := ctxFor(10 * time.Second)
	defer cancel()
	_ = js.DeleteStream(ctx, stream)
}

func natsSpecs() []spec {
	return []spec{{
		what:  "NATS core Publish, 180 B, 1 goroutine",
		short: "NATS core",
		note:  "n publishes then Flush; eventpub on a connection from Open, which leaves the subject check to the driver",
		unit:  msgPerSec,
		needs: "nats",
		cpu:   true,
		setup: func(e *env) ([]contender, func(), error) {
			ctx, cancel := ctxFor(10 * time.Second)
			defer cancel()
			tr, err := epnats.Open(ctx, e.natsURL)
			if err != nil {
				return nil, nil, err
			}
			return corePublishSides(e, tr, tr.Conn())
		},
	}, {
		what:  "NATS core Publish on the caller's connection (New), 180 B, 1 goroutine",
		short: "NATS core, New",
		note:  "n publishes then Flush; nats.go checks the subject again after the driver",
		unit:  msgPerSec,
		needs: "nats",
		cpu:   true,
		setup: func(e *env) ([]contender, func(), error) {
			nc, err := natsgo.Connect(e.natsURL)
			if err != nil {
				return nil, nil, err
			}
			tr, err := epnats.New(nc)
			if err != nil {
				nc.Close()
				return nil, nil, err
			}
			sides, cleanup, err := corePublishSides(e, tr, nc)
			if err != nil {
				nc.Close()
				return nil, nil, err
			}
			return sides, func() { cleanup(); nc.Close() }, nil
		},
	}, {
		what:  "JetStream WithAsync, 1 goroutine, until all acked",
		short: "JetStream async vs PublishAsync",
		unit:  msgPerSec,
		needs: "nats",
		cpu:   true,
		setup: func(e *env) ([]contender, func(), error) {
			stream, subj := e.name("BENCHJS"), e.name("bench.js.")
			tr, cleanup, err := openJetStream(e, stream, subj)
			if err != nil {
				return nil, nil, err
			}
			nc, err := natsgo.Connect(e.natsURL)
			if err != nil {
				cleanup()
				return nil, nil, err
			}
			var asyncErrs atomic.Int64
			js, err := jetstream.New(nc, jetstream.WithPublishAsyncErrHandler(func(jetstream.JetStream, *natsgo.Msg, error) {
				asyncErrs.Add(1)
			}))
			if err != nil {
				cleanup()
				return nil, nil, err
			}
			n := e.n(50000)
			ctx := context.Background()
			stall := jetstream.WithStallWait(30 * time.Second)
			return []contender{
					{"eventpub", func() (sample, error) {
						return asyncDrain(tr, n, asyncCapacity, func(p *eventpub.Publisher) error { return p.Publish(ctx, subj, e.payload) })
					}},
					{"jetstream PublishAsync + PublishAsyncComplete", func() (sample, error) {
						asyncErrs.Store(0)
						start := time.Now()
						for range n {
							if _, err := js.PublishAsync(subj, e.payload, stall); err != nil {
								return sample{}, err
							}
						}
						select {
						case <-js.PublishAsyncComplete():
						case <-time.After(2 * time.Minute):
							return sample{}, errors.New("PublishAsyncComplete did not complete in 2 minutes")
						}
						el := time.Since(start)
						if k := asyncErrs.Load(); k > 0 {
							return sample{}, fmt.Errorf("%d of %d async publishes failed", k, n)
						}
						return sample{value: float64(n) / el.Seconds(), msgs: float64(n)}, nil
					}},
				}, func() {
					nc.Close()
					cleanup()
				}, nil
		},
	}, {
		what:  "JetStream sync Publish (waits for the ack), 1 goroutine",
		short: "JetStream sync, 1 goroutine",
		unit:  msgPerSec,
		needs: "nats",
		setup: func(e *env) ([]contender, func(), error) {
			stream, subj := e.name("BENCHJSSYNC"), e.name("bench.jssync.")
			tr, cleanup, err := openJetStream(e, stream, subj)
			if err != nil {
				return nil, nil, err
			}
			nc, err := natsgo.Connect(e.natsURL)
			if err != nil {
				cleanup()
				return nil, nil, err
			}
			js, err := jetstream.New(nc)
			if err != nil {
				cleanup()
				return nil, nil, err
			}
			msg := transport.Message{Channel: subj, Payload: e.payload}
			d := e.d(500 * time.Millisecond)
			return []contender{
				{"eventpub", func() (sample, error) {
					return syncFor(d, func(ctx context.Context) error { return tr.Publish(ctx, msg) })
				}},
				{"jetstream Publish", func() (sample, error) {
					return syncFor(d, func(ctx context.Context) error {
						_, err := js.Publish(ctx, subj, e.payload)
						return err
					})
				}},
			}, func() { nc.Close(); cleanup() }, nil
		},
	}, {
		what:  "JetStream: async PublishEvent vs sync, 1 goroutine",
		short: "JetStream: async ÷ sync PublishEvent",
		note:  "both sides eventpub; async until all acked",
		unit:  msgPerSec,
		needs: "nats",
		setup: func(e *env) ([]contender, func(), error) {
			stream := e.name("BENCHJSEV")
			tr, cleanup, err := openJetStream(e, stream, e.name("bench")+":events")
			if err != nil {
				return nil, nil, err
			}
			sides, _, err := asyncVsSync(e, tr, e.n(30000))
			return sides, cleanup, err
		},
	}}
}

// corePublishSides times n core publishes then a flush: eventpub's tr
// (whose connection is nc) beside nats.go Publish on a connection of its
// own, with its default subject check and without it. The cleanup closes
// tr and the peers' connections.
func corePublishSides(e *env, tr *epnats.Transport, nc *natsgo.Conn) ([]contender, func(), error) {
	plain, err := natsgo.Connect(e.natsURL)
	if err != nil {
		tr.Close()
		return nil, nil, err
	}
	unchecked, err := natsgo.Connect(e.natsURL, natsgo.SkipSubjectValidation())
	if err != nil {
		tr.Close()
		plain.Close()
		return nil, nil, err
	}
	subj := e.name("bench.core.")
	msg := transport.Message{Channel: subj, Payload: e.payload}
	n := e.n(1000000)
	ctx := context.Background()
	timed := func(c *natsgo.Conn, publish func() error) func() (sample, error) {
		return func() (sample, error) {
			start := time.Now()
			for range n {
				if err := publish(); err != nil {
					return sample{}, err
				}
			}
			if err := c.FlushTimeout(30 * time.Second); err != nil {
				return sample{}, err
			}
			return sample{value: float64(n) / time.Since(start).Seconds(), msgs: float64(n)}, nil
		}
	}
	return []contender{
		{"eventpub", timed(nc, func() error { return tr.Publish(ctx, msg) })},
		{"nats.go Publish", timed(plain, func() error { return plain.Publish(subj, e.payload) })},
		{"nats.go, SkipSubjectValidation", timed(unchecked, func() error { return unchecked.Publish(subj, e.payload) })},
	}, func() { tr.Close(); plain.Close(); unchecked.Close() }, nil
}
