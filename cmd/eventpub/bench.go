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
stderr: a bar on a terminal, else a line at most every second.`
}

// runBench measures publishing to one broker.
func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench", "URL", stderr)
	n := fs.Int("n", 10000, "how many messages to publish")
	size := fs.Int("size", 180, "payload size in bytes (at least 32)")
	conc := fs.Int("concurrency", 1, "how many goroutines publish at once")
	async := fs.Bool("async", false, "publish through the async queue (latency not measured)")
	channel := fs.String("channel", "eventpub:bench", "channel to publish to")
	timeout := fs.Duration("timeout", 5*time.Second, "time limit for reaching the broker and for each publish")
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
	t, err := openBroker(ctx, url, *timeout)
	if err != nil {
		return err
	}
	var opts []eventpub.Option
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
				lat[i] = time.Since(t0)
				pcancel()
				if err != nil {
					errOnce.Do(func() { firstErr = fmt.Errorf("message %d: %w", i+1, err); cancel() })
					return
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	var closeErr error
	if firstErr == nil {
		closeErr = pub.Close(ctx) // async: drain the queue
	}
	elapsed := time.Since(start)
	prog.stop()
	if firstErr != nil {
		return fmt.Errorf("publishing to %s on %s: %w (%d of %d sent)", *channel, transport.Redact(url), firstErr, done.Load(), *n)
	}
	if closeErr != nil {
		return fmt.Errorf("draining the queue: %w", closeErr)
	}
	m := pub.Metrics()
	if m.Failed > 0 || m.Dropped > 0 {
		return fmt.Errorf("%d messages failed and %d were dropped of %d", m.Failed, m.Dropped, *n)
	}
	secs := elapsed.Seconds()
	fmt.Fprintf(stdout, "messages  %d\n", *n)
	fmt.Fprintf(stdout, "elapsed   %s\n", elapsed.Round(time.Microsecond))
	fmt.Fprintf(stdout, "msgs/s    %.0f\n", float64(*n)/secs)
	fmt.Fprintf(stdout, "MB/s      %.2f\n", float64(*n)*float64(*size)/secs/1e6)
	if *async {
		fmt.Fprintln(stdout, "latency   not measured with --async (publish returns before sending)")
		return nil
	}
	slices.Sort(lat)
	fmt.Fprintf(stdout, "latency   p50 %s  p90 %s  p99 %s  max %s\n",
		fmtDur(percentile(lat, 50)), fmtDur(percentile(lat, 90)), fmtDur(percentile(lat, 99)), fmtDur(lat[len(lat)-1]))
	return nil
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
