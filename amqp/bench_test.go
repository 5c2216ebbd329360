package amqp_test

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/transport"
	amqp091 "github.com/rabbitmq/amqp091-go"
)

// The Compare benchmarks put this driver beside amqp091-go with publisher
// confirms written by hand, on the same RabbitMQ, exchange and 180-byte
// payload. Each "interleaved" run alternates the two sides in blocks and
// reports the speedup (their time over ours):
//
//	go test -run '^$' -bench Compare -benchmem ./amqp/

var benchPayload = func() []byte {
	b := make([]byte, 180)
	for i := range b {
		b[i] = 'a' + byte(i%26)
	}
	return b
}()

// byHand is amqp091-go used directly: confirm-mode channels on one
// connection, each publish waiting for its own confirm.
type byHand struct {
	conn *amqp091.Connection
	ex   string
}

func newByHand(b *testing.B, url, ex string) *byHand {
	c, err := amqp091.Dial(url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	return &byHand{conn: c, ex: ex}
}

// channel opens a confirm-mode channel.
func (h *byHand) channel(b *testing.B) *amqp091.Channel {
	ch, err := h.conn.Channel()
	if err != nil {
		b.Fatal(err)
	}
	if err := ch.Confirm(false); err != nil {
		b.Fatal(err)
	}
	return ch
}

// publish sends one message on ch and waits for its confirm.
func (h *byHand) publish(ctx context.Context, ch *amqp091.Channel, key string) error {
	dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, h.ex, key, false, false,
		amqp091.Publishing{Body: benchPayload, DeliveryMode: amqp091.Persistent})
	if err != nil {
		return err
	}
	if _, err := dc.WaitContext(ctx); err != nil {
		return err
	}
	return nil
}

// on64 returns a func that runs n calls of op spread over 64 goroutines;
// op gets the goroutine's index.
func on64(op func(g int) error) func(n int) {
	return func(n int) {
		var left atomic.Int64
		left.Store(int64(n))
		var wg sync.WaitGroup
		for g := range 64 {
			wg.Go(func() {
				for left.Add(-1) >= 0 {
					if err := op(g); err != nil {
						panic(err)
					}
				}
			})
		}
		wg.Wait()
	}
}

func benchSetup(b *testing.B) (url, ex, key string) {
	url = brokerURL(b)
	return url, exchange(b, url), "bench." + unique()
}

func BenchmarkCompareSequential(b *testing.B) {
	url, ex, key := benchSetup(b)
	ctx := context.Background()
	msg := transport.Message{Channel: key, Payload: benchPayload}
	tr, h := open(b, url, withExchange(ex)), newByHand(b, url, ex)
	ch := h.channel(b)
	b.Run("eventpub", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := tr.Publish(ctx, msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("amqp091", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := h.publish(ctx, ch, key); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("interleaved", func(b *testing.B) {
		brokertest.Interleave(b, 100, "amqp091", func(n int) {
			for range n {
				if err := tr.Publish(ctx, msg); err != nil {
					b.Fatal(err)
				}
			}
		}, func(n int) {
			for range n {
				if err := h.publish(ctx, ch, key); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// BenchmarkCompareParallel64 has 64 goroutines publish at once. By hand,
// three ways: a channel per goroutine (amqp091-go's advice for concurrent
// publishers); one channel shared by all with deferred confirms (what
// this driver does, and the fastest by hand); and one channel where each
// publish and its confirm wait take a lock, as the sequential
// publish-then-wait idiom becomes when shared.
func BenchmarkCompareParallel64(b *testing.B) {
	url, ex, key := benchSetup(b)
	ctx := context.Background()
	msg := transport.Message{Channel: key, Payload: benchPayload}
	tr, h := open(b, url, withExchange(ex)), newByHand(b, url, ex)
	chans := make([]*amqp091.Channel, 64)
	for i := range chans {
		chans[i] = h.channel(b)
	}
	shared := h.channel(b)
	ours := on64(func(int) error { return tr.Publish(ctx, msg) })
	perChan := on64(func(g int) error { return h.publish(ctx, chans[g], key) })
	sharedChan := on64(func(int) error { return h.publish(ctx, shared, key) })
	locked, lockedChan := sync.Mutex{}, h.channel(b)
	lockedPub := on64(func(int) error {
		locked.Lock()
		defer locked.Unlock()
		return h.publish(ctx, lockedChan, key)
	})
	b.Run("eventpub", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism((64 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if err := tr.Publish(ctx, msg); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("interleaved-channel-per-goroutine", func(b *testing.B) {
		brokertest.Interleave(b, 1280, "amqp091", ours, perChan)
	})
	b.Run("interleaved-shared-channel", func(b *testing.B) {
		brokertest.Interleave(b, 1280, "amqp091", ours, sharedChan)
	})
	b.Run("interleaved-locked-channel", func(b *testing.B) {
		brokertest.Interleave(b, 640, "amqp091", ours, lockedPub)
	})
}

func BenchmarkCompareBatch64(b *testing.B) {
	url, ex, key := benchSetup(b)
	ctx := context.Background()
	tr, h := open(b, url, withExchange(ex)), newByHand(b, url, ex)
	ch := h.channel(b)
	msgs := make([]transport.Message, 64)
	for i := range msgs {
		msgs[i] = transport.Message{Channel: key, Payload: benchPayload}
	}
	dcs := make([]*amqp091.DeferredConfirmation, 64)
	theirs := func() error {
		for i := range dcs {
			dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, ex, key, false, false,
				amqp091.Publishing{Body: benchPayload, DeliveryMode: amqp091.Persistent})
			if err != nil {
				return err
			}
			dcs[i] = dc
		}
		for _, dc := range dcs {
			if _, err := dc.WaitContext(ctx); err != nil {
				return err
			}
		}
		return nil
	}
	b.Run("interleaved", func(b *testing.B) {
		brokertest.Interleave(b, 5, "amqp091", func(n int) {
			for range n {
				if err := tr.PublishBatch(ctx, msgs); err != nil {
					b.Fatal(err)
				}
			}
		}, func(n int) {
			for range n {
				if err := theirs(); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}
