package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/eventpub/eventpub"
	"github.com/eventpub/eventpub/memory"
)

// queuedMessages is how many messages the queue-memory row holds.
const queuedMessages = 100000

// childResult is what a -child process prints: the cost per queued message.
type childResult struct {
	RSSPerMsg  float64 `json:"rss_per_msg"`
	HeapPerMsg float64 `json:"heap_per_msg"`
	Queued     uint64  `json:"queued"`
}

// queueMemorySpec measures, each side in a fresh child process, what
// 100 000 queued 180-byte messages cost while the broker is down: the
// Publisher's async queue (memory broker set down) against a plain
// buffered chan []byte holding copies.
func queueMemorySpec() spec {
	return spec{
		what:   "100 000 messages queued (broker down), RSS per message",
		short:  "100k queued: RSS per message",
		note:   "180 B payload; each side in its own process; live heap per message after the comma",
		unit:   bytesPer,
		rounds: 3,
		setup: func(e *env) ([]contender, func(), error) {
			exe, err := os.Executable()
			if err != nil {
				return nil, nil, err
			}
			side := func(kind string) func() (sample, error) {
				return func() (sample, error) {
					out, err := exec.Command(exe, "-child", kind, "-child-n", strconv.Itoa(queuedMessages)).Output()
					if err != nil {
						return sample{}, fmt.Errorf("child %s: %w", kind, err)
					}
					var r childResult
					if err := json.Unmarshal(out, &r); err != nil {
						return sample{}, fmt.Errorf("child %s printed %q: %w", kind, out, err)
					}
					return sample{value: r.RSSPerMsg, extra: fmt.Sprintf("heap %.0f B/msg", r.HeapPerMsg)}, nil
				}
			}
			return []contender{
				{"eventpub WithAsync", side("queue-eventpub")},
				{"chan []byte by hand", side("queue-chan")},
			}, func() {}, nil
		},
	}
}

// runChild fills one queue with n messages and prints the cost per message
// as JSON. It measures after a GC, against a baseline taken before the
// queue existed.
func runChild(kind string, n int) error {
	payload := make([]byte, payloadSize)
	for i := range payload {
		payload[i] = 'a' + byte(i%26)
	}
	ctx := context.Background()
	var keep any
	var queued func() uint64
	var fill func() error
	switch kind {
	case "queue-eventpub":
		br := memory.NewBroker()
		br.SetDown(true)
		tr := br.Connect()
		fill = func() error {
			pub := eventpub.New(tr, eventpub.WithAsync(n, eventpub.Block))
			keep = pub
			for range n {
				if err := pub.Publish(ctx, "codeworm:events", payload); err != nil {
					return err
				}
			}
			queued = func() uint64 { return pub.Metrics().Queued }
			return nil
		}
	case "queue-chan":
		fill = func() error {
			ch := make(chan []byte, n)
			keep = ch
			for range n {
				ch <- append([]byte(nil), payload...)
			}
			queued = func() uint64 { return uint64(len(ch)) }
			return nil
		}
	default:
		return fmt.Errorf("unknown -child %q", kind)
	}
	rss0, heap0 := settle()
	if err := fill(); err != nil {
		return err
	}
	time.Sleep(200 * time.Millisecond) // let a sender give up its first try
	rss1, heap1 := settle()
	r := childResult{
		RSSPerMsg:  float64(rss1-rss0) / float64(n),
		HeapPerMsg: float64(heap1-heap0) / float64(n),
		Queued:     queued(),
	}
	runtime.KeepAlive(keep)
	if r.Queued < uint64(n) {
		return fmt.Errorf("only %d of %d messages queued", r.Queued, n)
	}
	return json.NewEncoder(os.Stdout).Encode(r)
}

// settle runs the GC and returns resident memory and live heap in bytes.
func settle() (rss, heap int64) {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return vmRSS(), int64(ms.HeapAlloc)
}

// vmRSS is the process's resident set in bytes, from /proc/self/status.
func vmRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}
