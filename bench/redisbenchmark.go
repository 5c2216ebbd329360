package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// redisBenchmark is the side that runs redis-benchmark itself: n PUBLISH
// commands of the run's payload, pipelined 64 deep on clients
// connections. It is absent (ok false) when redis-benchmark is not
// installed or the URL is not a TCP one.
func redisBenchmark(e *env, ch string, n, clients int) (c contender, ok bool) {
	bin, err := exec.LookPath("redis-benchmark")
	if err != nil {
		return contender{}, false
	}
	opt, err := goredis.ParseURL(e.redisURL)
	if err != nil || opt.Network != "tcp" || opt.TLSConfig != nil {
		return contender{}, false
	}
	host, port, err := net.SplitHostPort(opt.Addr)
	if err != nil {
		return contender{}, false
	}
	args := []string{"-h", host, "-p", port, "-c", strconv.Itoa(clients), "-P", strconv.Itoa(pipelineDepth),
		"-n", strconv.Itoa(n), "-q"}
	if opt.Password != "" {
		args = append(args, "--user", opt.Username, "-a", opt.Password, "--no-auth-warning")
	}
	args = append(args, "PUBLISH", ch, string(e.payload))
	name := fmt.Sprintf("redis-benchmark -P %d -c %d", pipelineDepth, clients)
	return contender{name, func() (sample, error) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, args...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return sample{}, fmt.Errorf("%s: %v", name, err) // not out: it may echo the password
		}
		m := rpsRE.FindAllSubmatch(out, -1)
		if m == nil {
			return sample{}, fmt.Errorf("%s: no \"requests per second\" in its output", name)
		}
		v, err := strconv.ParseFloat(string(m[len(m)-1][1]), 64)
		return sample{value: v, msgs: float64(n), cpu: childCPU(cmd.ProcessState)}, err
	}}, true
}

// childCPU is the CPU time, user and system, that a child process used
// (the client's own, while this process only waited for it); 0 when it
// did not run.
func childCPU(ps *os.ProcessState) time.Duration {
	if ps == nil {
		return 0
	}
	return ps.UserTime() + ps.SystemTime()
}

var rpsRE = regexp.MustCompile(`([0-9.]+) requests per second`)
