package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/eventpub/eventpub/transport"
)

func init() {
	commands["tail"] = command{"print each message on channels as it arrives", runTail}
	details["tail"] = `With no channels, tails the three CodeWorm channels under --namespace.
Each message is printed as "HH:MM:SS.mmm channel" followed by its payload,
indented when it is JSON. With --json, each message is one JSON line:
  {"channel":"…","time":"<receive time, RFC 3339>","payload":<JSON payload, or a string>}
("header" is added when the message has one; a payload that is not UTF-8
is given as "payload_base64" instead). "tail: subscribed to …" is printed
on stderr once the subscription is live.

When the link to the broker drops, tail says so on stderr ("tail: link to
URL lost: …") and, once the broker answers again, subscribes anew and says
"tail: resubscribed after 2.1s; messages published meanwhile were not
received" (for a broker that keeps messages, such as NATS JetStream, the
driver's subscription resumes and the line says the link is back).
Ctrl-C ends tail with exit code 130 after it has unsubscribed.

A memory:// URL is refused: the memory broker lives inside one process, so
nothing another eventpub command publishes can reach it.`
}

// runTail subscribes to channels (or patterns) and prints what arrives.
func runTail(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("tail", "URL [channel...]", stdout)
	asJSON := fs.Bool("json", false, "print one JSON object per line (for jq)")
	count := fs.Int("count", 0, "exit after `N` messages (0: until interrupted)")
	timeout := fs.Duration("timeout", 0, "exit after this long (0: no limit); with --count, an error when fewer than N arrived")
	pattern := fs.Bool("pattern", false, "read the channel arguments as patterns, e.g. 'codeworm:*' (Redis globs, NATS wildcards)")
	namespace := fs.String("namespace", "codeworm", "prefix of the default channels")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) == 0:
		return usagef("tail needs a broker URL")
	case *count < 0:
		return usagef("--count must be 0 or more, got %d", *count)
	case *timeout < 0:
		return usagef("--timeout must be 0 or more, got %s", *timeout)
	}
	url, names := pos[0], pos[1:]
	if err := inProcessOnly(url); err != nil {
		return err
	}
	if len(names) == 0 {
		names = defaultChannels(*namespace)
	}
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *timeout)
		defer cancel()
	}
	t, err := openBroker(ctx, url, 5*time.Second)
	if err != nil {
		return err
	}
	defer t.Close()
	shown := transport.Redact(url)
	subscribe := func() (transport.Subscription, error) {
		if *pattern {
			ps, ok := t.(transport.PatternSubscriber)
			if !ok {
				return nil, fmt.Errorf("the broker at %s cannot subscribe to patterns", shown)
			}
			return ps.SubscribePattern(ctx, names...)
		}
		return t.Subscribe(ctx, names...)
	}
	sub, err := subscribe()
	if err != nil {
		if ctx.Err() != nil {
			return tailEnded(ctx, 0, *count, *timeout)
		}
		return fmt.Errorf("subscribe on %s: %w", shown, err)
	}
	defer func() { _ = sub.Close() }()
	what := "channels"
	if *pattern {
		what = "patterns"
	}
	fmt.Fprintf(stderr, "tail: subscribed to %s %s on %s\n", what, strings.Join(names, ", "), shown)

	link := linkWatch{t: t, url: shown, stderr: stderr, resubscribe: !t.Capabilities().Persistent}
	w := bufio.NewWriter(stdout)
	for n := 0; *count == 0 || n < *count; {
		// Wait a second at most, then check the link: a subscription on a
		// broken link is silent, not failed.
		nctx, cancel := context.WithTimeout(ctx, linkCheckEvery)
		m, err := sub.Next(nctx)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return tailEnded(ctx, n, *count, *timeout)
			}
			if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, transport.ErrUnavailable) {
				return fmt.Errorf("receiving: %w", err)
			}
			if next := link.check(ctx, sub, err, subscribe); next != nil {
				sub = next
			}
			continue
		}
		n++
		if *asJSON {
			err = writeJSONLine(w, m, time.Now())
		} else {
			err = writeHuman(w, m, time.Now())
		}
		if err == nil {
			err = w.Flush() // each message as it arrives, also through a pipe
		}
		if err != nil {
			return fmt.Errorf("writing output: %w", err)
		}
	}
	return nil
}

// tailEnded is tail's result when ctx ended after n messages: an
// interrupt (exit 130), or --timeout, which is an error only when
// --count messages did not all arrive.
func tailEnded(ctx context.Context, n, count int, timeout time.Duration) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		if count > 0 {
			return fmt.Errorf("timed out after %s with %d of %d messages", timeout, n, count)
		}
		return nil
	}
	noun := "messages"
	if n == 1 {
		noun = "message"
	}
	return fmt.Errorf("%w after %d %s; unsubscribed", errInterrupted, n, noun)
}

// linkCheckEvery is how long tail waits for a message before it checks
// the link to the broker.
const linkCheckEvery = time.Second

// linkWatch tells the user when tail's link to the broker is lost and when
// it is back, so that nobody is silently missing messages.
type linkWatch struct {
	t           transport.Transport
	url         string
	stderr      io.Writer
	resubscribe bool      // subscribe anew once back (the broker keeps nothing)
	lostAt      time.Time // zero while the link is up
}

// check pings the broker after a quiet spell, or after Next failed at
// once with recvErr, and reports a change of state. Once the link is back
// it returns a new subscription made with subscribe (after closing sub)
// when the broker keeps nothing or sub itself failed; otherwise it returns
// nil and sub stays in use.
func (l *linkWatch) check(ctx context.Context, sub transport.Subscription, recvErr error,
	subscribe func() (transport.Subscription, error)) transport.Subscription {
	subFailed := errors.Is(recvErr, transport.ErrUnavailable)
	wait := func() {
		select {
		case <-ctx.Done():
		case <-time.After(linkCheckEvery):
		}
	}
	pctx, cancel := context.WithTimeout(ctx, linkCheckEvery)
	err := l.t.Ping(pctx)
	cancel()
	if ctx.Err() != nil {
		return nil
	}
	if err != nil {
		if l.lostAt.IsZero() {
			l.lostAt = time.Now()
			fmt.Fprintf(l.stderr, "tail: link to %s lost: %s\n", l.url, oneLine(err))
		}
		if subFailed {
			wait() // Next fails at once: do not spin
		}
		return nil
	}
	if l.lostAt.IsZero() {
		if !subFailed {
			return nil // a quiet spell, not a lost link
		}
		l.lostAt = time.Now()
		fmt.Fprintf(l.stderr, "tail: subscription on %s lost: %s\n", l.url, oneLine(recvErr))
	}
	away := time.Since(l.lostAt).Round(100 * time.Millisecond)
	if !l.resubscribe && !subFailed {
		l.lostAt = time.Time{}
		fmt.Fprintf(l.stderr, "tail: link to %s back after %s; the subscription resumes where it was\n", l.url, away)
		return nil
	}
	_ = sub.Close()
	next, err := subscribe()
	if err != nil {
		// The broker answered but the subscription did not take: the
		// next check tries again.
		fmt.Fprintf(l.stderr, "tail: link to %s back, but subscribing failed: %s\n", l.url, oneLine(err))
		wait()
		return closedSub{}
	}
	l.lostAt = time.Time{}
	if l.resubscribe {
		fmt.Fprintf(l.stderr, "tail: resubscribed after %s; messages published meanwhile were not received\n", away)
	} else {
		fmt.Fprintf(l.stderr, "tail: resubscribed after %s\n", away)
	}
	return next
}

// closedSub stands in for a subscription tail has closed and could not
// make anew: Next reports the link unavailable, so tail checks it again.
type closedSub struct{}

func (closedSub) Next(context.Context) (transport.Message, error) {
	return transport.Message{}, transport.ErrUnavailable
}
func (closedSub) Close() error { return nil }

// tailLine is one message in --json output.
type tailLine struct {
	Channel       string            `json:"channel"`
	Time          string            `json:"time"`
	Header        map[string]string `json:"header,omitempty"`
	Payload       any               `json:"payload,omitempty"`
	PayloadBase64 string            `json:"payload_base64,omitempty"`
}

// writeJSONLine writes m as one JSON line: the payload as a JSON value when
// it is valid JSON, else as a string (base64 when it is not UTF-8).
func writeJSONLine(w io.Writer, m transport.Message, at time.Time) error {
	line := tailLine{Channel: m.Channel, Time: at.Format(time.RFC3339Nano), Header: m.Header}
	switch {
	case json.Valid(m.Payload):
		line.Payload = json.RawMessage(m.Payload)
	case utf8.Valid(m.Payload):
		line.Payload = string(m.Payload)
	default:
		line.PayloadBase64 = base64.StdEncoding.EncodeToString(m.Payload)
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(line) // Encode ends the line
}

// writeHuman writes "HH:MM:SS.mmm channel [k=v …]" and then the payload,
// indented by two spaces a level when it is JSON.
func writeHuman(w io.Writer, m transport.Message, at time.Time) error {
	var b bytes.Buffer
	b.WriteString(at.Format("15:04:05.000"))
	b.WriteByte(' ')
	b.WriteString(m.Channel)
	keys := make([]string, 0, len(m.Header))
	for k := range m.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%s", k, m.Header[k])
	}
	b.WriteByte('\n')
	switch {
	case json.Valid(m.Payload):
		if err := json.Indent(&b, bytes.TrimSpace(m.Payload), "", "  "); err != nil {
			return err
		}
	case utf8.Valid(m.Payload):
		b.Write(m.Payload)
	default:
		fmt.Fprintf(&b, "%q", m.Payload)
	}
	b.WriteByte('\n')
	_, err := w.Write(b.Bytes())
	return err
}
