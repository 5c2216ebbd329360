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
//	eventpub version          (or eventpub --version)
//	eventpub help [command]   (or eventpub <command> --help)
//
// URLs name a broker: redis://host:6379/0, rediss://…, unix:///path,
// nats://host:4222, tls://…, amqp://user:pass@host:5672/vhost, amqps://…,
// mqtt://host:1883, mqtts://…, kafka://host:9092,host2:9092, memory://name.
// Channels default to the three CodeWorm channels (codeworm:logs,
// codeworm:events, codeworm:stats; the prefix is --namespace). Flags may
// come before or after the arguments; "--" ends the flags. Help and the version go to stdout with exit code 0.
// Errors are one line on stderr with a non-zero exit code: 2 for a usage
// mistake (an unknown flag, a missing or extra argument), 130 when an
// interrupt (Ctrl-C) ended a command early (143 for SIGTERM), 1 for
// anything else. Secrets in URLs are never printed.
//
// The command keeps go-redis's own log lines (its connection pool's
// "failed to dial") out of its output with goredis.SetLogger; a service
// using the library needs no such line, as the redis driver's own clients
// do not log (see package redis).
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

	_ "github.com/eventpub/eventpub/amqp"
	_ "github.com/eventpub/eventpub/kafka"
	_ "github.com/eventpub/eventpub/memory"
	_ "github.com/eventpub/eventpub/mqtt"
	_ "github.com/eventpub/eventpub/nats"
	_ "github.com/eventpub/eventpub/redis"
	"github.com/eventpub/eventpub/transport"
	goredis "github.com/redis/go-redis/v9"
)

func init() {
	// The redis driver's clients do not log; a go-redis client given to
	// redis.New might, and the command reports every error once, as one
	// line, so go-redis's process-wide log is silenced here (a program may
	// do this; a library must not).
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
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sigs
		cancel(signalError{s.(syscall.Signal)})
		signal.Stop(sigs) // a second interrupt ends the process at once
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// signalError is the cause of the context main cancels on a signal.
type signalError struct{ sig syscall.Signal }

func (e signalError) Error() string { return "interrupted by " + e.sig.String() }

// errInterrupted marks a command that an interrupt ended before it was
// done; its error says what it had done by then.
var errInterrupted = errors.New("interrupted")

// interruptedCode is the exit code for an interrupted command: 128 plus
// the signal's number, as shells report (130 for SIGINT).
func interruptedCode(ctx context.Context) int {
	var se signalError
	if errors.As(context.Cause(ctx), &se) {
		return 128 + int(se.sig)
	}
	return 128 + int(syscall.SIGINT)
}

// run executes one command line and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stdout)
		return 2
	}
	switch args[0] {
	case "-h", "--help", "-help":
		usage(stdout)
		return 0
	case "--version", "-version":
		args[0] = "version"
	case "help":
		switch len(args) {
		case 1:
			usage(stdout)
			return 0
		case 2:
			if _, ok := commands[args[1]]; ok {
				args = []string{args[1], "--help"}
				break
			}
			fmt.Fprintf(stderr, "eventpub help: unknown command %q (try eventpub --help)\n", args[1])
			return 2
		default:
			fmt.Fprintf(stderr, "eventpub help: takes one command name, got %d arguments (see eventpub --help)\n", len(args)-1)
			return 2
		}
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
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "eventpub %s: %s (see eventpub %s --help)\n", args[0], oneLine(err), args[0])
		return 2
	case errors.Is(err, errInterrupted):
		fmt.Fprintf(stderr, "eventpub %s: %s\n", args[0], oneLine(err))
		return interruptedCode(ctx)
	}
	// Errors from a command's own package often start with its name.
	fmt.Fprintf(stderr, "eventpub %s: %s\n", args[0], strings.TrimPrefix(oneLine(err), args[0]+": "))
	return 1
}

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
	fmt.Fprintln(w, "\nURLs: redis://host:6379/0, rediss://…, unix:///path, nats://host:4222, tls://…,")
	fmt.Fprintln(w, "      amqp://user:pass@host:5672/vhost, amqps://…, mqtt://host:1883, mqtts://…,")
	fmt.Fprintln(w, "      kafka://host:9092,host2:9092, memory://name")
	fmt.Fprintln(w, "\nRun 'eventpub <command> --help' for a command's flags.")
}

// newFlags returns a flag set for command name whose --help prints the
// command's usage to stdout. Parse errors print nothing: parse returns
// them as one-line usage errors.
func newFlags(name, argsUsage string, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: eventpub %s [flags] %s\n\n%s\n", name, argsUsage, commands[name].summary)
		if d := details[name]; d != "" {
			fmt.Fprintf(w, "\n%s\n", strings.TrimRight(d, "\n"))
		}
		fmt.Fprintln(w, "\nFlags:")
		fs.PrintDefaults()
	}
	return fs
}

// parse parses args. --help prints the usage and returns flag.ErrHelp;
// any other flag error becomes a one-line usageError.
func parse(fs *flag.FlagSet, args []string) error {
	out := fs.Output()
	fs.SetOutput(io.Discard) // the flag package's own messages
	usage := fs.Usage
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.SetOutput(out)
	fs.Usage = usage
	switch {
	case err == nil:
		return nil
	case errors.Is(err, flag.ErrHelp):
		fs.Usage()
		return err
	}
	return flagError(err)
}

// flagError rewords an error of the flag package as a usageError that
// names flags as they are written (--name).
func flagError(err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return usagef("unknown flag --%s", name)
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return usagef("flag --%s needs a value", name)
	}
	msg = strings.Replace(msg, " for flag -", " for flag --", 1)
	msg = strings.Replace(msg, " for -", " for --", 1)
	return usageError(msg)
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
// that the broker answers, so a wrong address, password or database fails
// at once with the driver's error, which names the broker (without its
// secrets) and says which of these it is.
func openBroker(ctx context.Context, rawURL string, timeout time.Duration) (transport.Transport, error) {
	t, err := transport.Open(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := t.Ping(pctx); err != nil {
		_ = t.Close()
		switch {
		case errors.Is(ctx.Err(), context.Canceled):
			return nil, fmt.Errorf("%w before %s answered", errInterrupted, transport.Redact(rawURL))
		case ctx.Err() != nil:
			return nil, fmt.Errorf("%s did not answer in time: %w", transport.Redact(rawURL), ctx.Err())
		}
		shown := transport.Redact(rawURL)
		// A one-shot command does not stay to reconnect.
		if msg := err.Error(); strings.HasSuffix(msg, inBackground) {
			err = &reworded{msg: strings.TrimSuffix(msg, inBackground), err: err}
		}
		switch {
		case strings.Contains(err.Error(), shown):
			return nil, err
		case errors.Is(err, transport.ErrUnavailable):
			return nil, fmt.Errorf("cannot reach %s: %w", shown, err)
		}
		return nil, fmt.Errorf("%s: %w", shown, err)
	}
	return t, nil
}

// inBackground ends the NATS driver's not-connected error.
const inBackground = " (reconnecting in the background)"

// reworded is err with another text; errors.Is and errors.As see err.
type reworded struct {
	msg string
	err error
}

func (e *reworded) Error() string { return e.msg }
func (e *reworded) Unwrap() error { return e.err }

// inProcessOnly refuses a memory:// URL for a command that meets other
// processes through the broker (publish, tail): the memory broker lives
// inside one process, so what one eventpub process publishes there no
// other can receive.
func inProcessOnly(rawURL string) error {
	scheme, _, _ := strings.Cut(rawURL, "://")
	if !strings.EqualFold(scheme, "memory") {
		return nil
	}
	return fmt.Errorf("%s is the in-process memory broker: it lives inside one process, so a publish "+
		"and a tail in separate eventpub commands can never meet; use redis:// or nats:// "+
		"(eventpub demo shows memory:// within one process)", transport.Redact(rawURL))
}
