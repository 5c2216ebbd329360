package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// notes are the remarks printed under the table.
func notes(rows []Row) []string {
	var n []string
	if sonicNote != "" {
		n = append(n, sonicNote)
	}
	for _, r := range rows {
		if r.Skipped != "" {
			n = append(n, fmt.Sprintf("%s: skipped (%s)", r.What, r.Skipped))
		}
	}
	return n
}

// renderPage is the whole of BENCHMARKS.md.
func renderPage(m machine, rows []Row) string {
	var b strings.Builder
	fmt.Fprintf(&b, `# Benchmarks

eventpub side by side with what a service could use instead, written by
the benchmark program in [bench/](../bench) on %s. Every row runs its
sides interleaved: one warm-up round, then %d measured rounds (3 for the
queue-memory row), each round running every side once in a rotating order,
so all sides see the same machine load. The table gives the median of the
rounds, half the interquartile range of the rounds in percent of the
median (±, how noisy the row was), and the ratio of the
medians, turned so that **above 1× eventpub is better** (faster, or less
memory); losses are in bold and stay in the table. Payloads are 180 bytes.

![ratio per row, log scale](benchmarks.png)

`, m.Date, m.Rounds)
	b.WriteString(renderTable(rows))
	b.WriteString("\n")
	for _, n := range notes(rows) {
		fmt.Fprintf(&b, "- %s\n", n)
	}
	fmt.Fprintf(&b, `
## What each row does

The rows against a peer client (Redis sync with 64 goroutines and async,
NATS core, JetStream async, memory) also give each side's **client CPU per
message** (µs CPU/msg, median of the rounds with its ±): the user and
system CPU time the client spent over a round divided by its messages,
taken with getrusage for the benchmark process itself (the client
library's goroutines and the Go runtime included; a GC runs before each
round) and from the child process for redis-benchmark. The broker's own CPU
is not counted, so the figure depends less than msg/s on how much of the
shared cores the server got; a side that batches what is waiting can still
spend less per message when the broker is slower.

- **Redis sync Publish, 64 goroutines**: each side publishes from 64
  goroutines for a fixed time; eventpub is the redis driver's `+"`Publish`"+`
  (which coalesces concurrent calls into pipelines), against go-redis
  `+"`Client.Publish`"+` and go-redis `+"`Client.AutoPipeline()`"+` (v9.23).
- **Redis sync Publish, 1 goroutine** and **JetStream sync Publish**: one
  caller waiting for each publish (for JetStream, for its ack) for a fixed
  time; the driver against go-redis `+"`Client.Publish`"+` and
  `+"`jetstream.Publish`"+`.
- **Redis WithAsync**: one goroutine hands a burst of 300 000 messages to
  `+"`eventpub.WithAsync(10000, eventpub.Block)`"+` (the README's capacity: the
  goroutine fills the queue, then waits for room) and `+"`Close`"+` waits until
  Redis confirmed every one; the peers are a go-redis pipeline of 64
  PUBLISH commands written by hand, sent and read back in a loop, and, when
  it is installed, `+"`redis-benchmark -P 64`"+` sending the same PUBLISH on
  one connection (`+"`-c 1`"+`, as eventpub's queue does) and on its default
  50 connections (what the server can take from many clients). The row
  **whole burst queued** is the same with a queue of 300 000, which holds
  the whole burst at once: its first pass over that much memory (page
  faults) is paid on the publishing goroutine, on the cores Redis shares.
  The JetStream async rows and the async ÷ sync rows use the same
  capacity of 10 000.
- **NATS core Publish**: the nats driver on a connection it opened
  (`+"`nats.Open`"+`, as a service uses it; the driver checks each channel
  itself, so the connection skips nats.go's own subject check) against
  `+"`nats.Conn.Publish`"+` on a connection of its own with nats.go's default
  options and, as a reference, with `+"`SkipSubjectValidation`"+`; each side
  is followed by a `+"`Flush`"+`. The row **NATS core Publish on the caller's
  connection** wraps a default connection instead (`+"`nats.New(conn)`"+`):
  there nats.go checks the subject again after the driver.
- **JetStream WithAsync**: as the Redis row, on a stream of this run's own
  (file storage, deleted at the end); the peer is `+"`jetstream.PublishAsync`"+`
  for every message then `+"`PublishAsyncComplete`"+`.
- **memory**: `+"`PublishEvent`"+` on the memory driver and receiving it on a
  subscription, one at a time, against Watermill's GoChannel publishing a
  message with the same payload already encoded and receiving and acking it.
- **encode the event envelope**: `+"`PublishEvent`"+` into a transport that
  drops the message (so: envelope, timestamp and JSON) against each JSON
  library encoding the same envelope map into a reused buffer with HTML
  escaping off. Allocations per operation follow the time.
- **queued messages**: each side in a fresh process: 100 000 messages of
  180 bytes accepted while the broker is down (the memory broker's
  `+"`SetDown`"+`), against a buffered `+"`chan []byte`"+` holding copies;
  resident memory (VmRSS) and live heap after a GC, minus a baseline taken
  before the queue existed, per message.
- **async vs sync**: both sides are eventpub; `+"`PublishEvent`"+` from one
  goroutine through an async Publisher until all acked, against a
  synchronous Publisher (each call waits for the broker).

## Machine

| | |
|---|---|
| date | %s |
| eventpub | commit %s |
| CPUs | %d (%s) |
| memory | %s |
| OS | %s |
| Go | %s |
| Redis | %s |
| NATS | %s |
| load average (1/5/15 min) | %s at the start, %s at the end |
| rounds | %d measured after one warm-up (3 for the queue-memory row), scale %g |
| run time | %s |
| command | `+"`%s`"+` |

The machine was shared: other work was compiling and testing while this
ran, which is why the rows are interleaved and why the ± column matters.

## How to reproduce

`+"```sh"+`
# Redis on 127.0.0.1:6379 and NATS with JetStream on 127.0.0.1:4222, or:
export EVENTPUB_REDIS_URL=redis://127.0.0.1:6379/0 EVENTPUB_NATS_URL=nats://127.0.0.1:4222
cd bench && go run . -out ../docs -readme ../README.md   # 3 to 5 minutes; rewrites this page, the chart and the README's summary
cd bench && go run . -only 'NATS core' -rounds 9        # one row, printed only
cd bench && go test ./...                               # the program's own tests
`+"```"+`

`+"`-scale 0.1`"+` makes a quick, noisier run; `+"`-tags nosonic`"+` leaves sonic out
on a Go version it does not support. A row whose broker does not answer is
printed as skipped with the reason.
`, m.Date, m.Commit, m.CPUs, m.CPU, m.Memory, m.OS, m.GoVersion, m.Redis, m.NATS, m.LoadStart, m.LoadEnd, m.Rounds, m.Scale, m.Elapsed, m.Command)
	return b.String()
}

// writeDocs writes BENCHMARKS.md and benchmarks.png into dir.
func writeDocs(dir string, m machine, rows []Row) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := writeChart(filepath.Join(dir, "benchmarks.png"), "eventpub vs peers, "+m.Date+" ("+fmt.Sprint(m.CPUs)+" CPUs)", rows); err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	return os.WriteFile(filepath.Join(dir, "BENCHMARKS.md"), []byte(renderPage(m, rows)), 0o644)
}
