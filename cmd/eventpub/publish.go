package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/eventpub/eventpub"
	"github.com/eventpub/eventpub/transport"
)

func init() {
	commands["publish"] = command{"publish a CodeWorm event, log line, stats snapshot or raw message", runPublish}
	details["publish"] = `Kinds:
  event TYPE [JSON]   {"type":TYPE,"timestamp":…,"data":JSON} on <namespace>:events
  log [JSON]          the JSON object as given, on <namespace>:logs
  stats [JSON]        {"timestamp":…,…JSON} on <namespace>:stats
  raw CHANNEL [DATA]  DATA as given (empty when left out), on CHANNEL

JSON is one object; numbers with '.', 'e' or 'E' are floats, others
integers, so the bytes sent are those CodeWorm sends. With --stdin, each
line of standard input is one JSON object (one DATA for raw) and is
published in turn; blank lines are skipped and malformed JSON stops with an
error naming the line. The timestamp is local time without an offset, as
CodeWorm writes it (--utc for UTC with an offset).`
}

// runPublish publishes one message, or one per line of stdin.
func runPublish(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return publishFrom(ctx, args, os.Stdin, stdout, stderr)
}

// publishFrom is runPublish reading --stdin lines from in.
func publishFrom(ctx context.Context, args []string, in io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("publish", "URL event TYPE [JSON] | log [JSON] | stats [JSON] | raw CHANNEL [DATA]", stdout)
	fromStdin := fs.Bool("stdin", false, "publish one message per line of standard input")
	namespace := fs.String("namespace", "codeworm", "prefix of the CodeWorm channels")
	utc := fs.Bool("utc", false, "write timestamps in UTC with an offset instead of local time")
	timeout := fs.Duration("timeout", 5*time.Second, "time limit for reaching the broker and for each publish")
	quiet := fs.Bool("quiet", false, "print nothing on success")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if *timeout <= 0 {
		return usagef("--timeout must be more than 0, got %s", *timeout)
	}
	job, err := parsePublishArgs(pos, *fromStdin)
	if err != nil {
		return err
	}
	if err := inProcessOnly(job.url); err != nil {
		return err
	}
	opts := []eventpub.Option{eventpub.WithNamespace(*namespace)}
	if *utc {
		opts = append(opts, eventpub.WithUTC())
	}
	// Check the argument before touching the broker.
	var arg map[string]any
	if job.hasArg && job.kind != "raw" {
		if arg, err = decodeObject([]byte(job.arg)); err != nil {
			return fmt.Errorf("%s argument: %w", job.kind, err)
		}
	}
	t, err := openBroker(ctx, job.url, *timeout)
	if err != nil {
		return err
	}
	pub := eventpub.New(t, opts...)
	defer pub.Close(context.WithoutCancel(ctx))
	channel := job.channelOf(pub)

	send := func(fields map[string]any, data []byte) error {
		pctx, cancel := context.WithTimeout(ctx, *timeout)
		defer cancel()
		switch job.kind {
		case "event":
			return pub.PublishEvent(pctx, job.eventType, fields)
		case "log":
			return pub.PublishLog(pctx, fields)
		case "stats":
			return pub.PublishStats(pctx, fields)
		}
		return pub.Publish(pctx, job.channel, data)
	}
	sent := 0
	if !*fromStdin {
		if err := send(arg, []byte(job.arg)); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("%w before the message was sent", errInterrupted)
			}
			return fmt.Errorf("publish to %s on %s: %w", channel, transport.Redact(job.url), err)
		}
		sent = 1
	} else {
		lines, stop := readLines(in)
		defer stop()
		for {
			var l inputLine
			select {
			case l = <-lines:
			case <-ctx.Done():
				return fmt.Errorf("%w (%d published)", errInterrupted, sent)
			}
			if l.err != nil {
				return fmt.Errorf("reading stdin line %d: %w (%d published before it)", l.no, l.err, sent)
			}
			if l.eof {
				break
			}
			var fields map[string]any
			if job.kind != "raw" {
				if fields, err = decodeObject(l.data); err != nil {
					return fmt.Errorf("stdin line %d: %w (%d published before it)", l.no, err, sent)
				}
			}
			if err := send(fields, l.data); err != nil {
				if ctx.Err() != nil {
					return fmt.Errorf("%w (%d published)", errInterrupted, sent)
				}
				return fmt.Errorf("stdin line %d: publish to %s on %s: %w (%d published before it)",
					l.no, channel, transport.Redact(job.url), err, sent)
			}
			sent++
		}
	}
	if err := pub.Close(ctx); err != nil {
		return fmt.Errorf("closing the connection to %s: %w", transport.Redact(job.url), err)
	}
	if !*quiet {
		noun := "messages"
		if sent == 1 {
			noun = "message"
		}
		fmt.Fprintf(stderr, "publish: sent %d %s to %s on %s\n", sent, noun, channel, transport.Redact(job.url))
	}
	return nil
}

// publishJob is a parsed publish command line.
type publishJob struct {
	url       string
	kind      string // event, log, stats or raw
	eventType string // for event
	channel   string // for raw
	arg       string // the JSON or DATA argument
	hasArg    bool
}

// channelOf names the channel the job publishes to.
func (j publishJob) channelOf(p *eventpub.Publisher) string {
	logs, events, stats := p.Channels()
	switch j.kind {
	case "event":
		return events
	case "log":
		return logs
	case "stats":
		return stats
	}
	return j.channel
}

// parsePublishArgs checks the positional arguments of publish.
func parsePublishArgs(pos []string, fromStdin bool) (publishJob, error) {
	if len(pos) == 0 {
		return publishJob{}, usagef("publish needs a broker URL and a kind (event, log, stats or raw)")
	}
	if len(pos) == 1 {
		return publishJob{}, usagef("publish needs a kind after the URL: event, log, stats or raw")
	}
	j := publishJob{url: pos[0], kind: pos[1]}
	rest := pos[2:]
	switch j.kind {
	case "event", "raw":
		what := "an event TYPE"
		if j.kind == "raw" {
			what = "a CHANNEL"
		}
		if len(rest) == 0 || rest[0] == "" {
			return j, usagef("publish %s needs %s", j.kind, what)
		}
		if j.kind == "event" {
			j.eventType = rest[0]
		} else {
			j.channel = rest[0]
		}
		rest = rest[1:]
	case "log", "stats":
	default:
		return j, usagef("unknown kind %q: want event, log, stats or raw", j.kind)
	}
	if len(rest) > 1 {
		return j, usagef("publish %s: unexpected argument %q (quote the JSON so it is one argument)", j.kind, rest[1])
	}
	if len(rest) == 1 {
		if fromStdin {
			return j, usagef("publish %s: give either an argument or --stdin, not both", j.kind)
		}
		j.arg, j.hasArg = rest[0], true
	}
	return j, nil
}

// inputLine is one non-blank line of input, without its line ending; eof
// or err ends the input.
type inputLine struct {
	no   int
	data []byte
	eof  bool
	err  error
}

// readLines reads in on its own goroutine, so that an interrupt is seen
// while a read blocks. stop ends the goroutine once its read returns.
func readLines(in io.Reader) (<-chan inputLine, func()) {
	out := make(chan inputLine)
	done := make(chan struct{})
	go func() {
		r := bufio.NewReader(in)
		for no := 1; ; no++ {
			data, err := r.ReadBytes('\n')
			data = bytes.TrimRight(data, "\r\n")
			var ls []inputLine
			if len(bytes.TrimSpace(data)) > 0 {
				ls = append(ls, inputLine{no: no, data: data})
			}
			switch {
			case errors.Is(err, io.EOF):
				ls = append(ls, inputLine{no: no, eof: true})
			case err != nil:
				ls = append(ls, inputLine{no: no, err: err})
			}
			for _, l := range ls {
				select {
				case out <- l:
				case <-done:
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	var once sync.Once
	return out, func() { once.Do(func() { close(done) }) }
}
