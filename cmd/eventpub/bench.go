package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventpub/eventpub"
	"github.com/eventpub/eventpub/transport"
)

func init() {
	commands["bench"] = command{"publish N messages and print throughput and latency", runBench}
	details["bench"] = `Publishes --n messages of --size bytes (a JSON object) to --channel through
an eventpub Publisher, from --concurrency goroutines, then prints messages,
elapsed time, messages/s, MB/s (payload bytes) and, in the default
synchronous mode, the latency of one publish at p50, p90, p99 and max. With
--async, publishes go through the Publisher's queue (overflow: block) and the
time includes draining it; latency is not measured then. Progress goes to
stderr: a bar on a terminal, else a line at most every second.

Interrupted (Ctrl-C), bench prints the figures of what was actually sent
(in --async mode: what the broker confirmed before the queue was dropped),
says on stderr that it was interrupted, and exits with code 130.

With --metrics-addr it serves Prometheus metrics at /metrics while it runs
(see the README's Observability section).`
}

// runBench measures publishing to one broker.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", "URL", stdout)
	n := fs.Int("n", 10000, "how many messages to publish")
	size := fs.Int("size", 180, "payload size in bytes (at least 32)")
	conc := fs.Int("concurrency", 1, "how many goroutines publish at once")
	async := fs.Bool("async", false, "publish through the async queue (latency not measured)")
	channel := fs.String("channel", "eventpub:bench", "channel to publish to")
	timeout := fs.Duration("timeout", 5*time.Second, "time limit for reaching the broker and for each publish")
	metricsAddr := metricsFlag(fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) == 0:
		return usagef("bench needs a broker URL")
	case len(pos) > 1:
		return usagef("bench takes one URL, got extra argument %q", pos[1])
	case *n < 1:
		return usagef("--n must be 1 or more, got %d", *n)
	case *size < 32:
		return usagef("--size must be at least 32 bytes, got %d", *size)
	case *conc < 1:
		return usagef("--concurrency must be 1 or more, got %d", *conc)
	case *timeout <= 0:
		return usagef("--timeout must be more than 0, got %s", *timeout)
	}
	url := pos[0]
	metrics, err := startMetrics(*metricsAddr)
	if err != nil {
		return err
	}
	defer metrics.close()
	t, err := openBroker(ctx, url, *timeout)
	if err != nil {
		return err
	}
	var opts []eventpub.Option
	if obs := metrics.observer(); obs != nil {
		opts = append(opts, eventpub.WithObserver(obs))
		fmt.Fprintf(stderr, "bench: metrics at %s while it runs\n", metrics.url())
	}
	if *async {
		opts = append(opts, eventpub.WithAsync(max(1024, 4**conc), eventpub.Block))
	}
	pub := eventpub.New(t, opts...)
	defer pub.Close(context.WithoutCancel(ctx))

	mode := "sync"
	if *async {
		mode = "async"
	}
	fmt.Fprintf(stdout, "bench: %d messages of %d bytes to %s on %s, concurrency %d, %s\n",
		*n, *size, *channel, transport.Redact(url), *conc, mode)

	var done atomic.Int64
	prog := startProgress(stderr, isTerminal(stderr), int64(*n), &done)
	lat := make([]time.Duration, *n) // one slot per message: no lock needed
	sent := make([]bool, *n)         // which slots hold a measured publish
	var next atomic.Int64
	var firstErr error
	var errOnce sync.Once
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < *conc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			payload := benchPayload(*size)
			for {
				i := next.Add(1) - 1
				if i >= int64(*n) || runCtx.Err() != nil {
					return
				}
				stampSeq(payload, i)
				pctx, pcancel := context.WithTimeout(runCtx, *timeout)
				t0 := time.Now()
				err := pub.Publish(pctx, *channel, payload)
				d := time.Since(t0)
				pcancel()
				if err != nil {
					if ctx.Err() == nil { // not the interrupt
						errOnce.Do(func() { firstErr = fmt.Errorf("message %d: %w", i+1, err); cancel() })
					}
					return
				}
				lat[i], sent[i] = d, true
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	var closeErr error
	if firstErr == nil && ctx.Err() == nil {
		closeErr = pub.Close(ctx) // async: drain the queue
	}
	interrupted := ctx.Err() != nil
	if interrupted {
		// Keep what the broker has confirmed; drop the rest of the queue.
		_ = pub.Close(ctx)
	}
	elapsed := time.Since(start)
	prog.stop()
	if firstErr != nil {
		return fmt.Errorf("publishing to %s on %s: %w (%d of %d sent)", *channel, transport.Redact(url), firstErr, done.Load(), *n)
	}
	if closeErr != nil && !interrupted {
		return fmt.Errorf("draining the queue: %w", closeErr)
	}
	m := pub.Metrics()
	count := int(done.Load())
	if *async {
		count = int(m.Published) // accepted is not sent: count what the broker took
	}
	if !interrupted && (m.Failed > 0 || m.Dropped > 0) {
		return fmt.Errorf("%d messages failed and %d were dropped of %d", m.Failed, m.Dropped, *n)
	}
	measured := lat[:0]
	for i, ok := range sent {
		if ok {
			measured = append(measured, lat[i])
		}
	}
	report(stdout, count, *n, *size, elapsed, measured, *async, interrupted)
	if interrupted {
		return fmt.Errorf("%w after %d of %d messages were sent (the figures above are for those)", errInterrupted, count, *n)
	}
	return nil
}

// report prints the figures for count messages of size bytes sent in
// elapsed, out of total asked for, with the latencies measured (none in
// async mode).
func report(w io.Writer, count, total, size int, elapsed time.Duration, measured []time.Duration, async, interrupted bool) {
	secs := max(elapsed.Seconds(), 1e-9)
	if interrupted {
		fmt.Fprintf(w, "messages  %d (interrupted: %d of %d sent)\n", count, count, total)
	} else {
		fmt.Fprintf(w, "messages  %d\n", count)
	}
	fmt.Fprintf(w, "elapsed   %s\n", elapsed.Round(time.Microsecond))
	fmt.Fprintf(w, "msgs/s    %.0f\n", float64(count)/secs)
	fmt.Fprintf(w, "MB/s      %.2f\n", float64(count)*float64(size)/secs/1e6)
	switch {
	case async:
		fmt.Fprintln(w, "latency   not measured with --async (publish returns before sending)")
	case len(measured) == 0:
		fmt.Fprintln(w, "latency   none measured (no message was sent)")
	default:
		slices.Sort(measured)
		of := ""
		if interrupted {
			of = fmt.Sprintf("  (of the %d publishes sent)", len(measured))
		}
		fmt.Fprintf(w, "latency   p50 %s  p90 %s  p99 %s  max %s%s\n",
			fmtDur(percentile(measured, 50)), fmtDur(percentile(measured, 90)), fmtDur(percentile(measured, 99)),
			fmtDur(measured[len(measured)-1]), of)
	}
}

// benchPayload returns a JSON object of exactly size bytes (size >= 32):
// {"seq":"0000000000","pad":"xxx…"}.
func benchPayload(size int) []byte {
	b := []byte(`{"seq":"0000000000","pad":"`)
	for len(b) < size-2 {
		b = append(b, 'x')
	}
	return append(b, '"', '}')
}

// stampSeq writes i, zero-padded, into the payload's seq field.
func stampSeq(p []byte, i int64) {
	s := strconv.FormatInt(i%1e10, 10)
	digits := p[8:18]
	for j := range digits {
		digits[j] = '0'
	}
	copy(digits[len(digits)-len(s):], s)
}

// percentile returns the p-th percentile of sorted durations
// (nearest rank).
func percentile(sorted []time.Duration, p int) time.Duration {
	rank := (p*len(sorted) + 99) / 100
	return sorted[max(rank, 1)-1]
}

// fmtDur prints a duration with three significant digits.
func fmtDur(d time.Duration) string {
	switch {
	case d < time.Microsecond:
		return d.String()
	case d < time.Millisecond:
		return fmt.Sprintf("%.3gµs", float64(d)/float64(time.Microsecond))
	case d < time.Second:
		return fmt.Sprintf("%.3gms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.3gs", d.Seconds())
}

// isTerminal reports whether w is a character device such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progress reports how many of total messages are done until stopped.
type progress struct {
	quit chan struct{}
	wg   sync.WaitGroup
}

// startProgress draws a bar on a terminal every 100 ms, or prints a plain
// line at most every second elsewhere.
func startProgress(w io.Writer, tty bool, total int64, done *atomic.Int64) *progress {
	p := &progress{quit: make(chan struct{})}
	every := time.Second
	if tty {
		every = 100 * time.Millisecond
	}
	start := time.Now()
	draw := func(final bool) {
		d := done.Load()
		rate := float64(d) / max(time.Since(start).Seconds(), 1e-9)
		if !tty {
			if !final {
				fmt.Fprintf(w, "bench: %d/%d messages (%d%%), %.0f msgs/s\n", d, total, d*100/total, rate)
			}
			return
		}
		const width = 30
		fill := int(d * width / total)
		bar := strings.Repeat("=", fill) + strings.Repeat(" ", width-fill)
		if fill < width {
			bar = bar[:fill] + ">" + bar[fill+1:]
		}
		end := ""
		if final {
			end = "\n"
		}
		fmt.Fprintf(w, "\r[%s] %3d%% %d/%d %.0f msgs/s\x1b[K%s", bar, d*100/total, d, total, rate, end)
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				draw(false)
			case <-p.quit:
				draw(true)
				return
			}
		}
	}()
	return p
}

// stop ends the progress display and waits for it.
func (p *progress) stop() {
	close(p.quit)
	p.wg.Wait()
}
