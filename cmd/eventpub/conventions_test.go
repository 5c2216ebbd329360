package main

import (
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/transport"
)

// The tests in this file run the built binary for the conventions a user
// meets in the first minutes: the version, help on stdout, one-line usage
// errors with exit code 2, exit code 130 after Ctrl-C with honest counts,
// tail saying when its link drops and comes back, memory:// refused where
// it cannot work, and errors that tell a wrong password from a bad
// database from a server that is down.

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}} {
		r := runBin(t, nil, args...)
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("eventpub %s: exit %d, stderr %q", args[0], r.code, r.stderr)
		}
		// The test binary and the binary are built by the same toolchain.
		want := regexp.MustCompile(`^eventpub (\(devel\)|v[0-9][^ ]*) \(github\.com/eventpub/eventpub[^,]*, ` +
			regexp.QuoteMeta(runtime.Version()) + `, ` + runtime.GOOS + `/` + runtime.GOARCH + `\)\n$`)
		if !want.MatchString(r.stdout) {
			t.Fatalf("eventpub %s printed %q, want %v", args[0], r.stdout, want)
		}
	}
	oneLineError(t, runBin(t, nil, "version", "extra"), 2, `eventpub version: version takes no arguments, got "extra"`, "--help")
}

func TestUnknownFlagIsOneLine(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"publish", "--nope", "redis://x", "log"}, "eventpub publish: unknown flag --nope (see eventpub publish --help)\n"},
		{[]string{"bench", "redis://x", "-nope"}, "eventpub bench: unknown flag --nope (see eventpub bench --help)\n"},
		{[]string{"bench", "--n", "many", "redis://x"}, `eventpub bench: invalid value "many" for flag --n: parse error (see eventpub bench --help)` + "\n"},
		{[]string{"tail", "redis://x", "--count"}, "eventpub tail: flag --count needs a value (see eventpub tail --help)\n"},
	} {
		r := runBin(t, nil, c.args...)
		if r.code != 2 || r.stdout != "" || r.stderr != c.want {
			t.Errorf("eventpub %s: exit %d, stdout %q, stderr %q; want 2 and %q",
				strings.Join(c.args, " "), r.code, r.stdout, r.stderr, c.want)
		}
	}
}

func TestExtraArgumentsAreErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"demo", "redis://x"}, `demo takes no arguments, got "redis://x"`},
		{[]string{"bench", "redis://x", "more"}, `extra argument "more"`},
		{[]string{"publish", "redis://x", "stats", "{}", "more"}, `unexpected argument "more"`},
		{[]string{"help", "tail", "more"}, "takes one command name"},
	} {
		oneLineError(t, runBin(t, nil, c.args...), 2, "eventpub "+c.args[0]+": ", c.want)
	}
}

// TestMemoryRefusedAcrossProcesses: a publish and a tail in two processes
// can never meet on the memory broker, so both refuse it and say why.
func TestMemoryRefusedAcrossProcesses(t *testing.T) {
	for _, args := range [][]string{{"publish", "memory://demo", "log", "{}"}, {"tail", "memory://demo"}} {
		r := runBin(t, nil, args...)
		oneLineError(t, r, 1, "eventpub "+args[0]+": memory://demo is the in-process memory broker",
			"inside one process", "never meet", "redis://")
		if strings.Contains(r.stderr, "sent 1 message") {
			t.Errorf("eventpub %s claims success: %q", args[0], r.stderr)
		}
	}
}

// TestBenchInterrupted sends SIGINT to a long bench and checks that it
// exits 130, says it was interrupted, and reports the messages actually
// sent: as many as a subscriber received (one more may have been on the
// wire when the interrupt came), never the number asked for.
func TestBenchInterrupted(t *testing.T) {
	for _, mode := range []string{"sync", "async"} {
		t.Run(mode, func(t *testing.T) {
			mr := brokertest.StartMiniredis(t)
			channel := "bench:" + brokertest.Unique()
			got := brokertest.Collect(t, brokertest.Open(t, mr.URL()), channel)
			args := []string{"bench", mr.URL(), "--n", "100000000", "--size", "40", "--channel", channel}
			if mode == "async" {
				args = append(args, "--async")
			}
			bench := startBin(t, args...)
			bench.waitStderr("bench: ") // a progress line: it has been sending for a second
			bench.interrupt()
			if code := bench.wait(); code != 130 {
				t.Fatalf("bench after SIGINT: exit %d, want 130; stderr %q", code, bench.stderr.String())
			}
			out := bench.stdout.String()
			m := regexp.MustCompile(`(?m)^messages  ([0-9]+) \(interrupted: ([0-9]+) of 100000000 sent\)$`).FindStringSubmatch(out)
			if m == nil || m[1] != m[2] {
				t.Fatalf("bench output does not give the interrupted count:\n%s", out)
			}
			sent, _ := strconv.Atoi(m[1])
			if sent <= 0 || sent >= 100000000 {
				t.Fatalf("bench says %d of 100000000 sent", sent)
			}
			if !strings.Contains(bench.stderr.String(), "eventpub bench: interrupted after "+m[1]+" of 100000000 messages were sent") {
				t.Fatalf("stderr does not say it was interrupted after %d: %q", sent, bench.stderr.String())
			}
			if mode == "sync" {
				lat := regexp.MustCompile(`(?m)^latency   p50 [0-9.]+(ns|µs|ms|s) .*\(of the ` + m[1] + ` publishes sent\)$`)
				if !lat.MatchString(out) || strings.Contains(out, "p50 0s") {
					t.Fatalf("latency not over the %d publishes sent:\n%s", sent, out)
				}
			}
			// The subscriber received every message counted as sent; in sync
			// mode at most one more (a publish the interrupt cut short after
			// it reached the broker). In async mode only what the broker
			// confirmed is counted, so the count is never too high.
			got.Wait(t, "messages bench counted as sent", sent)
			time.Sleep(200 * time.Millisecond)
			if n := got.Count(); n > sent+1 && mode == "sync" {
				t.Fatalf("the subscriber received %d messages, bench reported %d sent", n, sent)
			}
			t.Logf("%s: bench reported %d sent, the subscriber received %d", mode, sent, got.Count())
		})
	}
}

// TestTailSaysLinkLostAndBack stops and starts a test-owned redis-server
// under a running tail and checks that tail says the link was lost, then
// that it resubscribed and that messages published meanwhile were lost,
// and that it receives again afterwards; Ctrl-C then ends it with 130.
func TestTailSaysLinkLostAndBack(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: stops and starts a redis-server")
	}
	srv := brokertest.StartRedisServer(t)
	channel := "tail:" + brokertest.Unique()
	tail := startBin(t, "tail", srv.URL(), channel)
	tail.waitStderr("tail: subscribed to")

	srv.Stop()
	tail.waitStderr("tail: link to " + srv.URL() + " lost: ")
	if s := tail.stderr.String(); !strings.Contains(s, "cannot reach") {
		t.Errorf("the lost line does not give the cause: %q", s)
	}
	srv.Start()
	tail.waitStderr("; messages published meanwhile were not received\n")
	if !regexp.MustCompile(`tail: resubscribed after [0-9.]+(ms|s); `).MatchString(tail.stderr.String()) {
		t.Errorf("the resubscribed line does not say how long: %q", tail.stderr.String())
	}

	pub := brokertest.Open(t, srv.URL())
	brokertest.WaitFor(t, 20*time.Second, "tail to print a message published after the restart", func() bool {
		_ = pub.Publish(t.Context(), transport.Message{Channel: channel, Payload: []byte(`"after restart"`)})
		return strings.Contains(tail.stdout.String(), `"after restart"`)
	}, tail.stderr.String)
	tail.interrupt()
	if code := tail.wait(); code != 130 {
		t.Fatalf("tail after SIGINT: exit %d, want 130; stderr %q", code, tail.stderr.String())
	}
	t.Logf("tail's stderr:\n%s", tail.stderr.String())
}

// TestErrorWording checks that a wrong password, a database the server
// does not have and a server that is down get three different one-line
// errors, each naming the server without the password.
func TestErrorWording(t *testing.T) {
	srv := brokertest.StartRedisServer(t, "--requirepass", "right-pw")
	dead := brokertest.StartRedisServer(t)
	deadURL := dead.URL()
	dead.Stop()
	for _, c := range []struct {
		name, url, says string
	}{
		{"WrongPassword", "redis://:wrong-pw@" + srv.Addr() + "/0", "refused the credentials: WRONGPASS"},
		{"BadDB", "redis://:right-pw@" + srv.Addr() + "/99", "refused the settings (check the database number in the URL): ERR DB index is out of range"},
		{"Down", strings.Replace(deadURL, "redis://", "redis://:right-pw@", 1), "cannot reach"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, args := range [][]string{{"publish", c.url, "log", "{}"}, {"tail", c.url}, {"bench", c.url, "--n", "1"}} {
				r := runBin(t, nil, args...)
				oneLineError(t, r, 1, "eventpub "+args[0]+": ", c.says, transport.Redact(c.url))
				for _, other := range []string{"refused the credentials", "refused the settings", "cannot reach"} {
					if other != c.says && !strings.HasPrefix(c.says, other) && strings.Contains(r.stderr, other) {
						t.Errorf("eventpub %s: %q also says %q", args[0], r.stderr, other)
					}
				}
				if strings.Contains(r.stderr, "-pw") {
					t.Errorf("eventpub %s shows the password: %q", args[0], r.stderr)
				}
			}
		})
	}
}
