// Command bench runs eventpub side by side with what a user could use or
// write instead (go-redis, nats.go, Watermill's GoChannel, encoding/json,
// goccy/go-json, sonic, a plain channel), interleaved in rounds so every
// side sees the same machine load, and writes the medians and ratios as
// docs/BENCHMARKS.md and a chart, docs/benchmarks.png:
//
//	cd bench && go run . -out ../docs -readme ../README.md
//
// (-readme also rewrites the summary table between the bench markers in
// the README's Performance section.)
//
// It is a module of its own so that its peers stay out of the library's
// go.mod; its replace directive makes it measure the checkout it sits in.
// `go test ./...` at the repository root does not descend into it; its
// own tests (the statistics, the table, the CPU figures and the row
// list) run with `cd bench && go test ./...`.
//
// Brokers: Redis at -redis (EVENTPUB_REDIS_URL, default
// redis://127.0.0.1:6379/0) and NATS with JetStream at -nats
// (EVENTPUB_NATS_URL, default nats://127.0.0.1:4222). A row whose broker
// does not answer is printed as skipped with the reason.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/eventpub/eventpub/transport"
)

func main() {
	var (
		rounds   = flag.Int("rounds", 15, "measured rounds per row (after one warm-up round)")
		out      = flag.String("out", "", "directory to write BENCHMARKS.md and benchmarks.png into (empty: print only)")
		redisURL = flag.String("redis", envOr("EVENTPUB_REDIS_URL", "redis://127.0.0.1:6379/0"), "Redis URL")
		natsURL  = flag.String("nats", envOr("EVENTPUB_NATS_URL", "nats://127.0.0.1:4222"), "NATS URL (JetStream enabled)")
		scale    = flag.Float64("scale", 1, "multiply every message count and duration (0.1 for a quick look)")
		readme   = flag.String("readme", "", "also rewrite the summary between the bench markers in this README (e.g. ../README.md)")
		only     = flag.String("only", "", "run only the rows whose title matches this regexp")
		child    = flag.String("child", "", "internal: measure one side of the queue-memory row and print JSON")
		childN   = flag.Int("child-n", 100000, "internal: messages for -child")
	)
	flag.Parse()
	if *child != "" {
		if err := runChild(*child, *childN); err != nil {
			fmt.Fprintln(os.Stderr, "bench -child:", err)
			os.Exit(1)
		}
		return
	}
	if *rounds < 1 || *scale <= 0 {
		fmt.Fprintln(os.Stderr, "bench: -rounds must be at least 1 and -scale above 0")
		os.Exit(2)
	}
	var filter *regexp.Regexp
	if *only != "" {
		var err error
		if filter, err = regexp.Compile(*only); err != nil {
			fmt.Fprintln(os.Stderr, "bench: -only:", err)
			os.Exit(2)
		}
	}
	e := newEnv(*redisURL, *natsURL, *rounds, *scale)
	m := describeMachine(e)
	m.Command = commandLine()
	start := time.Now()
	var rows []Row
	for _, s := range specs() {
		if filter != nil && !filter.MatchString(s.what) {
			continue
		}
		fmt.Fprintf(os.Stderr, "bench: %s …\n", s.what)
		rows = append(rows, runSpec(e, s))
	}
	m.Elapsed = time.Since(start).Round(time.Second)
	m.LoadEnd = loadavg()
	table := renderTable(rows)
	fmt.Print(table)
	for _, n := range notes(rows) {
		fmt.Println("- " + n)
	}
	if *out == "" {
		return
	}
	if err := writeDocs(*out, m, rows); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "bench: wrote %s and %s\n", filepath.Join(*out, "BENCHMARKS.md"), filepath.Join(*out, "benchmarks.png"))
	if *readme != "" {
		if err := updateReadme(*readme, m, rows); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		fmt.Fprintf(os.Stderr, "bench: rewrote the summary in %s\n", *readme)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// commandLine is how this run was started, as a reader would type it.
func commandLine() string {
	args := []string{"go run ."}
	for _, a := range os.Args[1:] {
		if strings.Contains(a, "://") { // a URL may hold a password
			a = transport.Redact(a)
		}
		args = append(args, a)
	}
	return "cd bench && " + strings.Join(args, " ")
}

// ctxFor is a context for one round that cannot hang the run.
func ctxFor(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
