package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/eventpub/eventpub"
	"github.com/eventpub/eventpub/bridge"
	"github.com/eventpub/eventpub/transport"
)

func init() {
	commands["bridge"] = command{"relay messages from one broker to another", runBridge}
	details["bridge"] = `Subscribes to the channels (the three CodeWorm channels under --namespace
when none are given) on FROM_URL and republishes every message unchanged on
TO_URL, through a bounded queue, so a slow or absent target never stalls the
source; while the target is unavailable the bridge retries in order. Every
--status-every it prints on stderr:
  bridge: received N relayed N dropped N failed N queued N
On interrupt (Ctrl-C) it stops reading, sends what is queued for up to
--drain, prints the final counts and exits (what it could not send by then
counts as failed); a second interrupt ends it at once.
With --metrics-addr it serves Prometheus metrics at /metrics (see the
README's Observability section): eventpub_messages_published_total and
the other counters, by target system and channel.
Exit code 1 when messages were lost at the end or the source went away.`
}

// overflowPolicies maps the --overflow values to the Publisher's policies.
var overflowPolicies = map[string]eventpub.OverflowPolicy{
	"drop-newest": eventpub.DropNewest,
	"drop-oldest": eventpub.DropOldest,
	"block":       eventpub.Block,
}

// runBridge relays from one transport to another until interrupted.
func runBridge(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bridge", "FROM_URL TO_URL [channel...]", stdout)
	every := fs.Duration("status-every", 5*time.Second, "how often to print the counts on stderr (0: only at the end)")
	drain := fs.Duration("drain", 5*time.Second, "how long to keep sending what is queued after an interrupt")
	pattern := fs.Bool("pattern", false, "read the channel arguments as patterns of the source broker, e.g. 'codeworm:*'")
	namespace := fs.String("namespace", "codeworm", "prefix of the default channels")
	capacity := fs.Int("capacity", bridge.DefaultCapacity, "how many messages the queue holds")
	overflow := fs.String("overflow", "drop-newest", "what to do when the queue is full: drop-newest, drop-oldest or block (stop reading the source)")
	metricsAddr := metricsFlag(fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	policy, ok := overflowPolicies[*overflow]
	switch {
	case len(pos) < 2:
		return usagef("bridge needs a source URL and a target URL")
	case *every < 0:
		return usagef("--status-every must be 0 or more, got %s", *every)
	case *drain < 0:
		return usagef("--drain must be 0 or more, got %s", *drain)
	case *capacity < 1:
		return usagef("--capacity must be 1 or more, got %d", *capacity)
	case !ok:
		return usagef("--overflow %q: want drop-newest, drop-oldest or block", *overflow)
	}
	fromURL, toURL, names := pos[0], pos[1], pos[2:]
	if len(names) == 0 {
		names = defaultChannels(*namespace)
	}
	out := &lockedWriter{w: stderr}
	metrics, err := startMetrics(*metricsAddr)
	if err != nil {
		return err
	}
	defer metrics.close()

	from, err := openBroker(ctx, fromURL, 5*time.Second)
	if err != nil {
		return fmt.Errorf("source: %w", err)
	}
	defer from.Close()
	to, err := transport.Open(ctx, toURL)
	if err != nil {
		return fmt.Errorf("target: %w", err)
	}
	defer to.Close()
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	if err := to.Ping(pctx); err != nil && ctx.Err() == nil {
		out.printf("bridge: target %s is not reachable yet (%s); queueing until it is\n", transport.Redact(toURL), oneLine(err))
	}
	cancel()

	opts := []bridge.Option{
		bridge.WithCapacity(*capacity), bridge.WithOverflow(policy),
		bridge.WithErrorHandler(newErrorReporter(out).report),
	}
	if *pattern {
		opts = append(opts, bridge.WithPatterns())
	}
	if obs := metrics.observer(); obs != nil {
		opts = append(opts, bridge.WithObserver(obs))
	}
	b, err := bridge.New(from, to, opts...)
	if err != nil {
		return err
	}
	if err := b.Start(ctx, names...); err != nil {
		return err
	}
	what := "channels"
	if *pattern {
		what = "patterns"
	}
	out.printf("bridge: subscribed to %s %s on %s, relaying to %s\n", what, strings.Join(names, ", "),
		transport.Redact(fromURL), transport.Redact(toURL))
	if metrics != nil {
		out.printf("bridge: metrics at %s\n", metrics.url())
	}

	var tick <-chan time.Time
	if *every > 0 {
		t := time.NewTicker(*every)
		defer t.Stop()
		tick = t.C
	}
loop:
	for {
		select {
		case <-tick:
			out.printf("%s\n", statusLine(b.Stats()))
		case <-ctx.Done():
			break loop
		case <-b.Done():
			break loop
		}
	}
	if ctx.Err() != nil {
		out.printf("bridge: stopping, sending what is queued for up to %s\n", *drain)
	}
	dctx, dcancel := context.WithTimeout(context.Background(), *drain)
	defer dcancel()
	stopErr := b.Stop(dctx)
	out.printf("%s\n", statusLine(b.Stats()))
	return errors.Join(b.Err(), stopErr)
}

// statusLine formats the bridge's counters as one line.
func statusLine(s bridge.Stats) string {
	return fmt.Sprintf("bridge: received %d relayed %d dropped %d failed %d queued %d",
		s.Received, s.Relayed, s.Dropped, s.Failed, s.Queued)
}

// lockedWriter serialises lines written from several goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format, args...)
}

// errorReporter prints the bridge's errors, at most one a second, with a
// count of those it held back.
type errorReporter struct {
	out    *lockedWriter
	mu     sync.Mutex
	last   time.Time
	held   int
	period time.Duration
}

func newErrorReporter(out *lockedWriter) *errorReporter {
	return &errorReporter{out: out, period: time.Second}
}

func (r *errorReporter) report(err error) {
	r.mu.Lock()
	now := time.Now()
	if now.Sub(r.last) < r.period {
		r.held++
		r.mu.Unlock()
		return
	}
	held := r.held
	r.last, r.held = now, 0
	r.mu.Unlock()
	more := ""
	if held > 0 {
		more = fmt.Sprintf(" (%d more errors since the last one shown)", held)
	}
	r.out.printf("bridge: %s%s\n", strings.TrimPrefix(oneLine(err), "bridge: "), more)
}
