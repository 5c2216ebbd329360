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
on stderr once the subscription is live.`
}

// runTail subscribes to channels (or patterns) and prints what arrives.
func runTail(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("tail", "URL [channel...]", stderr)
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
	var sub transport.Subscription
	if *pattern {
		ps, ok := t.(transport.PatternSubscriber)
		if !ok {
			return fmt.Errorf("the broker at %s cannot subscribe to patterns", transport.Redact(url))
		}
		sub, err = ps.SubscribePattern(ctx, names...)
	} else {
		sub, err = t.Subscribe(ctx, names...)
	}
	if err != nil {
		return fmt.Errorf("subscribe on %s: %w", transport.Redact(url), err)
	}
	defer sub.Close()
	what := "channels"
	if *pattern {
		what = "patterns"
	}
	fmt.Fprintf(stderr, "tail: subscribed to %s %s on %s\n", what, strings.Join(names, ", "), transport.Redact(url))

	w := bufio.NewWriter(stdout)
	for n := 0; *count == 0 || n < *count; n++ {
		m, err := sub.Next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				if *count > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded) {
					return fmt.Errorf("timed out after %s with %d of %d messages", *timeout, n, *count)
				}
				return nil // interrupted, or --timeout without --count
			}
			return fmt.Errorf("receiving: %w", err)
		}
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
