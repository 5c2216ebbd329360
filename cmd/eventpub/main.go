// Command eventpub publishes, tails, relays and benchmarks eventpub messages.
//
// Usage:
//
//	eventpub tail [flags] URL [channel...]
//	eventpub publish [flags] URL event TYPE [JSON]
//	eventpub publish [flags] URL log [JSON]
//	eventpub publish [flags] URL stats [JSON]
//	eventpub publish [flags] URL raw CHANNEL [DATA]
//	eventpub bridge [flags] FROM_URL TO_URL [channel...]
//	eventpub bench [flags] URL
//	eventpub demo [--url URL]
//	eventpub <command> --help
//
// URLs name a broker: redis://host:6379/0, rediss://…, unix:///path,
// nats://host:4222, tls://…, mqtt://host:1883, mqtts://…, memory://name.
// Channels default to the three CodeWorm channels (codeworm:logs,
// codeworm:events, codeworm:stats; the prefix is --namespace). Flags may
// come before or after the arguments; "--" ends the flags. Errors are one
// line on stderr with a non-zero exit code: 2 for a usage mistake, 1 for
// anything else. Secrets in URLs are never printed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	_ "github.com/eventpub/eventpub/memory"
	_ "github.com/eventpub/eventpub/mqtt"
	_ "github.com/eventpub/eventpub/nats"
	_ "github.com/eventpub/eventpub/redis"
	"github.com/eventpub/eventpub/transport"
	goredis "github.com/redis/go-redis/v9"
)

func init() {
	// go-redis logs dial failures on its own; the command reports every
	// error once, as one line, so its log is silenced.
	goredis.SetLogger(discardLog{})
}

// discardLog drops go-redis's internal log lines.
type discardLog struct{}

func (discardLog) Printf(context.Context, string, ...any) {}

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

// commands holds the subcommands; each file adds its own in init.
var commands = map[string]command{}

// details holds optional longer help text, printed by --help after the
// summary; each file adds its own in init.
var details = map[string]string{}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second interrupt ends the process at once
	}()
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one command line and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "eventpub: unknown command %q (try eventpub --help)\n", args[0])
		return 2
	}
	err := cmd.run(ctx, args[1:], stdout, stderr)
	var ue usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "eventpub %s: %s (see eventpub %s --help)\n", args[0], oneLine(err), args[0])
		return 2
	}
	// Errors from a command's own package often start with its name.
	fmt.Fprintf(stderr, "eventpub %s: %s\n", args[0], strings.TrimPrefix(oneLine(err), args[0]+": "))
	return 1
}

// errUsage marks an error already explained by the flag package.
var errUsage = errors.New("usage")

// usageError is a mistake in the command line (a missing or extra
// argument); run prints it and exits with code 2.
type usageError string

func (e usageError) Error() string { return string(e) }

// usagef returns a usageError.
func usagef(format string, args ...any) error { return usageError(fmt.Sprintf(format, args...)) }

func usage(w io.Writer) {
	fmt.Fprintln(w, "eventpub publishes, tails, relays and benchmarks eventpub messages.")
	fmt.Fprintln(w, "\nUsage: eventpub <command> [flags] [args]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nURLs: redis://host:6379/0, rediss://…, unix:///path, nats://host:4222, tls://…, mqtt://host:1883, mqtts://…, memory://name")
	fmt.Fprintln(w, "\nRun 'eventpub <command> --help' for a command's flags.")
}

// newFlags returns a flag set whose parse errors say how to get help.
func newFlags(name, argsUsage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: eventpub %s [flags] %s\n\n%s\n", name, argsUsage, commands[name].summary)
		if d := details[name]; d != "" {
			fmt.Fprintf(stderr, "\n%s\n", strings.TrimRight(d, "\n"))
		}
		fmt.Fprintln(stderr, "\nFlags:")
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args, mapping flag errors to errUsage.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}

// parseArgs parses flags placed before, between or after the positional
// arguments and returns the positional ones. "--" ends the flags.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parse(fs, args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// oneLine returns err's text on one line, without the "eventpub: " that
// wrapped errors repeat (the command's own prefix already says it).
func oneLine(err error) string {
	s := strings.ReplaceAll(err.Error(), "\n", " ")
	return strings.TrimPrefix(strings.ReplaceAll(s, ": eventpub: ", ": "), "eventpub: ")
}

// defaultChannels returns the CodeWorm logs, events and stats channels
// under namespace ("codeworm" gives codeworm:logs, …; "" gives logs, …).
func defaultChannels(namespace string) []string {
	prefix := ""
	if namespace != "" {
		prefix = namespace + ":"
	}
	return []string{prefix + "logs", prefix + "events", prefix + "stats"}
}

// openBroker opens the transport rawURL names and checks within timeout
// that the broker answers, so a wrong address fails at once with an error
// naming it (without its secrets).
func openBroker(ctx context.Context, rawURL string, timeout time.Duration) (transport.Transport, error) {
	t, err := transport.Open(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := t.Ping(pctx); err != nil {
		_ = t.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if shown := transport.Redact(rawURL); !strings.Contains(err.Error(), shown) {
			return nil, fmt.Errorf("cannot reach %s: %w", shown, err)
		}
		return nil, fmt.Errorf("cannot reach the broker: %w", err)
	}
	return t, nil
}
