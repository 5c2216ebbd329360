package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	natsgo "github.com/nats-io/nats.go"
	goredis "github.com/redis/go-redis/v9"

	"github.com/eventpub/eventpub/transport"
)

// payloadSize is the size of a typical encoded CodeWorm event.
const payloadSize = 180

// env is what every row shares: the broker URLs, whether they answer, the
// payload and the run's scale.
type env struct {
	redisURL, natsURL string
	redisErr, natsErr error
	redisVersion      string
	natsVersion       string
	rounds            int
	scale             float64
	payload           []byte
	id                string // random part of every channel and stream name
}

func newEnv(redisURL, natsURL string, rounds int, scale float64) *env {
	e := &env{redisURL: redisURL, natsURL: natsURL, rounds: rounds, scale: scale}
	e.payload = make([]byte, payloadSize)
	for i := range e.payload {
		e.payload[i] = 'a' + byte(i%26)
	}
	var r [4]byte
	_, _ = rand.Read(r[:])
	e.id = hex.EncodeToString(r[:])
	e.redisVersion, e.redisErr = probeRedis(redisURL)
	e.natsVersion, e.natsErr = probeNATS(natsURL)
	return e
}

// n scales a message count, at least 1000.
func (e *env) n(base int) int { return max(1000, int(float64(base)*e.scale)) }

// d scales a duration, at least 50 ms.
func (e *env) d(base time.Duration) time.Duration {
	return max(50*time.Millisecond, time.Duration(float64(base)*e.scale))
}

// name is a channel, subject or stream name unique to this run.
func (e *env) name(prefix string) string { return prefix + e.id }

// unavailable says why a row needing broker cannot run, or "".
func (e *env) unavailable(broker string) string {
	switch {
	case broker == "redis" && e.redisErr != nil:
		return "Redis does not answer: " + e.redisErr.Error()
	case broker == "nats" && e.natsErr != nil:
		return "NATS does not answer: " + e.natsErr.Error()
	}
	return ""
}

func probeRedis(u string) (string, error) {
	opt, err := goredis.ParseURL(u)
	if err != nil {
		return "", err
	}
	opt.DialTimeout = 2 * time.Second
	c := goredis.NewClient(opt)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	info, err := c.Info(ctx, "server").Result()
	if err != nil {
		return "", err
	}
	for _, l := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "redis_version:"); ok {
			return v, nil
		}
	}
	return "?", nil
}

func probeNATS(u string) (string, error) {
	nc, err := natsgo.Connect(u, natsgo.Timeout(2*time.Second))
	if err != nil {
		return "", err
	}
	defer nc.Close()
	return nc.ConnectedServerVersion(), nil
}

// machine describes where and how the run happened.
type machine struct {
	Date, CPU, Memory, GoVersion, OS string
	CPUs                             int
	Redis, NATS                      string
	LoadStart, LoadEnd               string
	Command                          string
	Commit                           string
	Rounds                           int
	Scale                            float64
	Elapsed                          time.Duration
}

func describeMachine(e *env) machine {
	m := machine{
		Date:      time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		CPUs:      runtime.NumCPU(),
		GoVersion: runtime.Version(),
		OS:        runtime.GOOS + "/" + runtime.GOARCH,
		CPU:       procField("/proc/cpuinfo", "model name"),
		Memory:    memTotal(),
		LoadStart: loadavg(),
		Rounds:    e.rounds,
		Scale:     e.scale,
		Commit:    gitCommit(),
		Redis:     "not reached",
		NATS:      "not reached",
	}
	if e.redisErr == nil {
		m.Redis = "Redis " + e.redisVersion + " at " + transport.Redact(e.redisURL)
	}
	if e.natsErr == nil {
		m.NATS = "nats-server " + e.natsVersion + " at " + transport.Redact(e.natsURL)
	}
	return m
}

// procField returns the value of the first "key: value" line of a /proc file.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// loadavg is the 1, 5 and 15 minute load averages.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return fmt.Sprintf("%s %s %s", f[0], f[1], f[2])
}

// memTotal is the machine's memory in GiB, from /proc/meminfo.
func memTotal() string {
	v := strings.TrimSuffix(procField("/proc/meminfo", "MemTotal"), " kB")
	kb, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return "unknown"
	}
	return fmt.Sprintf("%.1f GiB", kb/(1<<20))
}

// gitCommit names the checkout measured (the replace directive points at
// it), "-dirty" when it has uncommitted changes.
func gitCommit() string {
	out, err := exec.Command("git", "-C", "..", "describe", "--always", "--dirty", "--abbrev=12").Output()
	if err != nil {
		return "unknown (not a git checkout)"
	}
	return strings.TrimSpace(string(out))
}
