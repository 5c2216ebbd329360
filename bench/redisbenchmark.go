package main

import (
	"context"
	"fmt"
	"net"
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
		out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
		if err != nil {
			return sample{}, fmt.Errorf("%s: %v", name, err) // not out: it may echo the password
		}
		m := rpsRE.FindAllSubmatch(out, -1)
		if m == nil {
			return sample{}, fmt.Errorf("%s: no \"requests per second\" in its output", name)
		}
		v, err := strconv.ParseFloat(string(m[len(m)-1][1]), 64)
		return sample{value: v}, err
	}}, true
}

var rpsRE = regexp.MustCompile(`([0-9.]+) requests per second`)
