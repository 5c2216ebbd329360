package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
	"github.com/eventpub/eventpub"
	"github.com/eventpub/eventpub/memory"
	"github.com/eventpub/eventpub/transport"
	gojson "github.com/goccy/go-json"
)

// discard takes every message and drops it, so a row measures the
// Publisher's own work (envelope, timestamp, encoding).
type discard struct{}

func (discard) Publish(context.Context, transport.Message) error { return nil }
func (discard) Subscribe(context.Context, ...string) (transport.Subscription, error) {
	return nil, transport.ErrClosed
}
func (discard) Ping(context.Context) error           { return nil }
func (discard) Capabilities() transport.Capabilities { return transport.Capabilities{} }
func (discard) Close() error                         { return nil }

// perOp runs f n times and returns ns/op with allocs/op as the extra.
func perOp(n int, f func() error) (sample, error) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	for range n {
		if err := f(); err != nil {
			return sample{}, err
		}
	}
	el := time.Since(start)
	runtime.ReadMemStats(&after)
	allocs := float64(after.Mallocs-before.Mallocs) / float64(n)
	return sample{value: float64(el.Nanoseconds()) / float64(n), extra: fmt.Sprintf("%.0f allocs", allocs)}, nil
}

// encoder is a JSON encoder writing into a reused buffer.
type encoder interface{ Encode(any) error }

func localSpecs() []spec {
	return []spec{{
		what:  "memory: PublishEvent + receive, 1 goroutine",
		short: "memory vs Watermill GoChannel",
		note:  "Watermill side sends the 180 B payload already encoded",
		unit:  msgPerSec,
		cpu:   true,
		setup: func(e *env) ([]contender, func(), error) {
			ctx := context.Background()
			br := memory.NewBroker()
			sub, err := br.Connect().Subscribe(ctx, "codeworm:events")
			if err != nil {
				return nil, nil, err
			}
			pub := eventpub.New(br.Connect())
			gc := gochannel.NewGoChannel(gochannel.Config{}, watermill.NopLogger{})
			msgs, err := gc.Subscribe(ctx, "events")
			if err != nil {
				return nil, nil, err
			}
			data := committed()
			n := e.n(100000)
			return []contender{
				{"eventpub", func() (sample, error) {
					start := time.Now()
					for range n {
						if err := pub.PublishEvent(ctx, "documentation_committed", data); err != nil {
							return sample{}, err
						}
						if _, err := sub.Next(ctx); err != nil {
							return sample{}, err
						}
					}
					return sample{value: float64(n) / time.Since(start).Seconds(), msgs: float64(n)}, nil
				}},
				{"Watermill GoChannel", func() (sample, error) {
					start := time.Now()
					for range n {
						if err := gc.Publish("events", message.NewMessage(watermill.NewUUID(), e.payload)); err != nil {
							return sample{}, err
						}
						m := <-msgs
						m.Ack()
					}
					return sample{value: float64(n) / time.Since(start).Seconds(), msgs: float64(n)}, nil
				}},
			}, func() { sub.Close(); pub.Close(ctx); gc.Close() }, nil
		},
	}, {
		what:  "encode the event envelope",
		short: "encode",
		note:  "PublishEvent into a transport that drops it, vs Encode of the same envelope map into a reused buffer",
		unit:  nsPerOp,
		setup: func(e *env) ([]contender, func(), error) {
			ctx := context.Background()
			data := committed()
			env := map[string]any{
				"type":      "documentation_committed",
				"timestamp": time.Now().Format("2006-01-02T15:04:05.000000"),
				"data":      data,
			}
			pub := eventpub.New(discard{})
			n := e.n(200000)
			var buf bytes.Buffer
			std := json.NewEncoder(&buf)
			std.SetEscapeHTML(false)
			goccy := gojson.NewEncoder(&buf)
			goccy.SetEscapeHTML(false)
			enc := func(en encoder) func() (sample, error) {
				return func() (sample, error) {
					return perOp(n, func() error { buf.Reset(); return en.Encode(env) })
				}
			}
			sides := []contender{
				{"eventpub", func() (sample, error) {
					return perOp(n, func() error { return pub.PublishEvent(ctx, "documentation_committed", data) })
				}},
				{"encoding/json", enc(std)},
				{"goccy/go-json", enc(goccy)},
			}
			if s := sonicEncoder(&buf); s != nil {
				sides = append(sides, contender{"sonic", enc(s)})
			}
			return sides, func() { pub.Close(ctx) }, nil
		},
	}, queueMemorySpec()}
}

func specs() []spec {
	var all []spec
	r, n := redisSpecs(), natsSpecs()
	// The rows first: Redis sync 64 and async (and async with the
	// whole burst queued), NATS core (Open,
	// New), JetStream async; then the local rows, the async ÷ sync rows and
	// the single-caller sync rows.
	all = append(all, r[0], r[2], r[4], n[0], n[1], n[2])
	all = append(all, localSpecs()...)
	all = append(all, r[3], n[4], r[1], n[3])
	return all
}
