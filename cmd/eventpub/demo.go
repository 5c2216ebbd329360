package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/eventpub/eventpub"
	"github.com/eventpub/eventpub/transport"
)

func init() {
	commands["demo"] = command{"publish a CodeWorm run to an embedded broker while tailing it", runDemo}
}

// runDemo publishes one realistic CodeWorm documentation cycle and prints
// every message a subscriber receives, channel by channel.
func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", "", stdout)
	url := fs.String("url", "memory://demo", "broker URL (the default needs no broker installed)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("demo takes no arguments, got %q (the broker is given with --url)", fs.Arg(0))
	}
	sub, err := transport.Open(ctx, *url)
	if err != nil {
		return err
	}
	defer sub.Close()
	pub, err := eventpub.Open(ctx, *url)
	if err != nil {
		return err
	}
	defer pub.Close(context.Background())
	logs, events, stats := pub.Channels()
	s, err := sub.Subscribe(ctx, logs, events, stats)
	if err != nil {
		return err
	}
	defer s.Close()

	fmt.Fprintf(stdout, "demo: publishing a CodeWorm cycle to %s and tailing %s, %s, %s\n\n",
		transport.Redact(*url), logs, events, stats)
	sent, err := publishCycle(ctx, pub)
	if err != nil {
		return err
	}
	counts := map[string]int{}
	recvCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	for i := 0; i < sent; i++ {
		m, err := s.Next(recvCtx)
		if err != nil {
			return fmt.Errorf("received %d of %d messages: %w", i, sent, err)
		}
		counts[m.Channel]++
		fmt.Fprintf(stdout, "%-16s %s\n", m.Channel, m.Payload)
	}
	fmt.Fprintf(stdout, "\ndemo: received %d messages: %d on %s, %d on %s, %d on %s\n",
		sent, counts[logs], logs, counts[events], events, counts[stats], stats)
	return nil
}

// publishCycle publishes one documentation cycle as CodeWorm's daemon does
// and returns how many messages it sent.
func publishCycle(ctx context.Context, pub *eventpub.Publisher) (int, error) {
	log := func(level, event string, kv ...any) error {
		f := map[string]any{"event": event, "level": level, "component": "daemon",
			"timestamp": time.Now().UTC().Format("2006-01-02T15:04:05.000000Z")}
		for i := 0; i+1 < len(kv); i += 2 {
			f[kv[i].(string)] = kv[i+1]
		}
		return pub.PublishLog(ctx, f)
	}
	target := "codeworm/core/events.py:EventPublisher"
	steps := []error{
		pub.PublishEvent(ctx, "cycle_starting", map[string]any{"cycle_num": 12}),
		log("info", "cycle starting", "cycle_num", 12),
		pub.PublishEvent(ctx, "analyzing", map[string]any{"repo": "CodeWorm", "files": 48}),
		log("info", "analyzing repository", "repo", "CodeWorm"),
		pub.PublishEvent(ctx, "generating", map[string]any{"target": target, "doc_type": "class", "language": "python"}),
		log("debug", "prompt built", "tokens", 1834),
		pub.PublishEvent(ctx, "documentation_committed", map[string]any{
			"commit": "1c8540d", "commit_message": "docs: EventPublisher", "doc_type": "class",
			"language": "python", "repo": "CodeWorm", "target": target, "time_ms": 2310.5, "tokens": 1834}),
		log("info", "cycle complete", "duration_s", 2.4),
		pub.PublishStats(ctx, map[string]any{"total_cycles": 12, "successful_cycles": 11, "failed_cycles": 1,
			"skipped_cycles": 0, "success_rate": 91.7, "total_documented": 11, "consecutive_failures": 0,
			"by_repo": map[string]any{"CodeWorm": 7, "other": 4}, "last_7_days": []any{1, 2, 0, 3, 1, 2, 2}}),
		pub.PublishEvent(ctx, "next_cycle", map[string]any{"time": time.Now().Add(30 * time.Minute).UTC().Format(time.RFC3339)}),
	}
	return len(steps), errors.Join(steps...)
}
