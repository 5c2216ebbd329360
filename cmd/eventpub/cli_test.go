package main

import (
	"strings"
	"testing"

	"github.com/eventpub/eventpub/internal/brokertest"
)

// oneLineError checks that a failed run printed exactly one line, on
// stderr, naming what went wrong, and nothing on stdout.
func oneLineError(t *testing.T, r result, wantCode int, wantParts ...string) {
	t.Helper()
	if r.code != wantCode {
		t.Errorf("exit code %d, want %d; stderr: %q", r.code, wantCode, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout not empty on error: %q", r.stdout)
	}
	if ls := lines(r.stderr); len(ls) != 1 {
		t.Errorf("stderr has %d lines, want one: %q", len(ls), r.stderr)
	}
	for _, p := range wantParts {
		if !strings.Contains(r.stderr, p) {
			t.Errorf("stderr %q does not contain %q", r.stderr, p)
		}
	}
}

func TestUnknownSubcommand(t *testing.T) {
	r := runBin(t, nil, "frobnicate", "redis://x")
	oneLineError(t, r, 2, `unknown command "frobnicate"`, "eventpub --help")
}

func TestBadURL(t *testing.T) {
	for _, args := range [][]string{
		{"publish", "bogus://host", "log", "{}"},
		{"tail", "bogus://host"},
		{"bench", "bogus://host"},
		{"bridge", "bogus://host", "memory://x"},
	} {
		r := runBin(t, nil, args...)
		oneLineError(t, r, 1, "eventpub "+args[0]+":", `unknown URL scheme "bogus"`, "redis", "nats", "memory")
	}
	r := runBin(t, nil, "publish", "localhost:6379", "log", "{}")
	oneLineError(t, r, 1, "scheme")
}

func TestMalformedJSON(t *testing.T) {
	url := brokertest.StartMiniredis(t).URL()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"log", `{"level": "info",}`}, "malformed JSON at byte"},
		{[]string{"event", "cycle_starting", `{"cycle_num": 12`}, "malformed JSON"},
		{[]string{"stats", `[1, 2]`}, "JSON must be an object"},
		{[]string{"log", `{"a": 1} {"b": 2}`}, "unexpected data after the object"},
		{[]string{"log", `{"n": 123456789012345678901234567890}`}, "does not fit in 64 bits"},
	}
	for _, c := range cases {
		r := runBin(t, nil, append([]string{"publish", url}, c.args...)...)
		oneLineError(t, r, 1, "eventpub publish: "+c.args[0]+" argument:", c.want)
	}
}

func TestMalformedJSONOnStdinNamesLine(t *testing.T) {
	url := brokertest.StartMiniredis(t).URL()
	in := "{\"event\": \"one\"}\n\n{\"event\": \"two\"}\n{\"event\": three}\n{\"event\": \"four\"}\n"
	r := runBin(t, strings.NewReader(in), "publish", url, "log", "--stdin", "--namespace", uniqueNamespace(t))
	oneLineError(t, r, 1, "stdin line 4:", "malformed JSON", "2 published before it")
}

func TestUsageErrorsExit2(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"tail"}, "needs a broker URL"},
		{[]string{"publish", "memory://x"}, "needs a kind"},
		{[]string{"publish", "memory://x", "evnt"}, `unknown kind "evnt"`},
		{[]string{"publish", "memory://x", "event"}, "needs an event TYPE"},
		{[]string{"publish", "memory://x", "raw"}, "needs a CHANNEL"},
		{[]string{"publish", "memory://x", "log", "{}", "{}"}, "unexpected argument"},
		{[]string{"publish", "memory://x", "log", "{}", "--stdin"}, "not both"},
		{[]string{"bridge", "memory://x"}, "needs a source URL and a target URL"},
		{[]string{"bridge", "--overflow", "sometimes", "memory://x", "memory://y"}, "--overflow"},
		{[]string{"bench"}, "needs a broker URL"},
		{[]string{"bench", "--size", "8", "memory://x"}, "--size must be at least 32"},
		{[]string{"tail", "--count", "-1", "memory://x"}, "--count"},
	}
	for _, c := range cases {
		r := runBin(t, nil, c.args...)
		oneLineError(t, r, 2, "eventpub "+c.args[0]+":", c.want, "--help")
	}
}

func TestUnknownFlagExits2WithUsage(t *testing.T) {
	r := runBin(t, nil, "tail", "--bogus", "memory://x")
	oneLineError(t, r, 2, "eventpub tail: unknown flag --bogus (see eventpub tail --help)\n")
}

func TestHelpOnEverySubcommand(t *testing.T) {
	r := runBin(t, nil, "--help")
	if r.code != 0 {
		t.Fatalf("eventpub --help: exit %d", r.code)
	}
	for _, name := range []string{"tail", "publish", "bridge", "bench", "demo", "version"} {
		if !strings.Contains(r.stdout, "\n  "+name+" ") {
			t.Errorf("eventpub --help does not list %s: %s", name, r.stdout)
		}
		for _, args := range [][]string{{name, "--help"}, {name, "-h"}, {"help", name}} {
			r := runBin(t, nil, args...)
			if r.code != 0 || r.stderr != "" {
				t.Errorf("eventpub %s: exit %d, stderr %q; want 0 and nothing", strings.Join(args, " "), r.code, r.stderr)
			}
			if !strings.HasPrefix(r.stdout, "Usage: eventpub "+name+" [flags]") || !strings.Contains(r.stdout, "Flags:") {
				t.Errorf("eventpub %s printed no usage on stdout: %q", strings.Join(args, " "), r.stdout)
			}
		}
	}
	r = runBin(t, nil)
	if r.code != 2 || !strings.Contains(r.stdout, "Commands:") {
		t.Errorf("eventpub with no arguments: exit %d, stdout %q", r.code, r.stdout)
	}
	r = runBin(t, nil, "help")
	if r.code != 0 || !strings.Contains(r.stdout, "Commands:") || r.stderr != "" {
		t.Errorf("eventpub help: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	oneLineError(t, runBin(t, nil, "help", "frobnicate"), 2, `eventpub help: unknown command "frobnicate"`)
}

// TestSecretsNeverEchoed runs every subcommand against a closed port with
// a password and a token in the URL: the error names the broker but never
// the secret.
func TestSecretsNeverEchoed(t *testing.T) {
	const secret = "hunter2secret"
	redisURL := "redis://user:" + secret + "@127.0.0.1:1/0"
	natsURL := "nats://user:" + secret + "@127.0.0.1:1"
	tokenURL := "nats://" + secret + "@127.0.0.1:1?name=x&token=" + secret
	for _, args := range [][]string{
		{"publish", redisURL, "log", "{}"},
		{"publish", natsURL, "event", "x"},
		{"tail", redisURL},
		{"tail", tokenURL},
		{"bench", natsURL, "--n", "1"},
		{"bridge", redisURL, natsURL},
		{"publish", "redis://user:" + secret + "@127.0.0.1:port/0", "log"},
	} {
		r := runBin(t, nil, args...)
		if r.code == 0 {
			t.Errorf("eventpub %s: exit 0 against a closed port", args[0])
		}
		if strings.Contains(r.stderr+r.stdout, secret) {
			t.Errorf("eventpub %s leaks the secret: %q", args[0], r.stderr)
		}
		if len(lines(r.stderr)) != 1 {
			t.Errorf("eventpub %s: want a one-line error, got %q", args[0], r.stderr)
		}
	}
}
