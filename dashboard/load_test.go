package dashboard

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/eventpub/eventpub/memory"
	"github.com/eventpub/eventpub/transport"
)

// seqPayload is a CodeWorm-sized log line carrying its sequence number;
// pad makes it bigger.
func seqPayload(i int, pad string) []byte {
	return fmt.Appendf(nil, `{"event":"analysis step","level":"info","component":"analyzer","seq":%d,"target":"codeworm/analysis/analyzer.py:Analyzer.score","pad":"%s"}`, i, pad)
}

// frameSeq returns the seq of a frame relayed from seqPayload, -1 for a
// broker-state frame.
func frameSeq(f []byte) (int, error) {
	if bytes.HasPrefix(f, []byte(`{"type":"broker"`)) {
		return -1, nil
	}
	i := bytes.Index(f, []byte(`"seq":`))
	if i < 0 {
		return 0, fmt.Errorf("no seq in %.100s", f)
	}
	n := 0
	for _, c := range f[i+6:] {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int(c-'0')
	}
	return n, nil
}

// reader counts the frames one client receives and checks their order.
type reader struct {
	next    int // the seq expected next
	err     error
	done    chan struct{}
	arrived atomic.Int64
}

func readAll(conn *websocket.Conn, want int) *reader {
	r := &reader{done: make(chan struct{})}
	go func() {
		defer close(r.done)
		buf := make([]byte, 0, 1024)
		for r.next < want {
			_, rd, err := conn.Reader(context.Background())
			if err == nil {
				buf, err = readInto(buf[:0], rd)
			}
			if err != nil {
				r.err = fmt.Errorf("after %d frames: %w", r.next, err)
				return
			}
			seq, err := frameSeq(buf)
			if err != nil {
				r.err = err
				return
			}
			if seq < 0 {
				continue
			}
			if seq != r.next {
				r.err = fmt.Errorf("frame seq %d, want %d", seq, r.next)
				return
			}
			r.next++
			r.arrived.Add(1)
		}
	}()
	return r
}

// readInto appends all of rd to buf.
func readInto(buf []byte, rd io.Reader) ([]byte, error) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

func isDone(r *reader) bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// dialStalled connects a WebSocket client with a tiny receive buffer that
// never reads.
func dialStalled(t testing.TB, url string) *websocket.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		if err != nil {
			return err
		}
		return serr
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.CloseNow() })
	return conn
}

// Every client receives every message in order while one client that never
// reads is disconnected without holding anyone up.
func TestFanOutInOrderWithAStalledClient(t *testing.T) {
	const clients, msgs = 8, 600
	pad := strings.Repeat("x", 16<<10) // big frames fill the stalled socket fast
	h, _ := startMemory(t, WithClientBuffer(32))
	stalled := dialStalled(t, h.wsURL("/ws"))
	var readers []*reader
	for range clients {
		c := h.dial(t, "/ws", nil)
		readers = append(readers, readAll(c.conn, msgs))
	}
	waitFor(t, "all clients", func() bool { return h.relay.Stats().Clients == clients+1 })
	for i := range msgs {
		publish(t, h.t, "codeworm:logs", string(seqPayload(i, pad)))
		// Keep the readers within half a buffer of the publisher, so only
		// the stalled client can fall behind by a whole one.
		for _, r := range readers {
			waitFor(t, "a reader to keep up", func() bool { return int64(i)-r.arrived.Load() < 16 || isDone(r) })
		}
	}
	for i, r := range readers {
		select {
		case <-r.done:
		case <-time.After(60 * time.Second):
			t.Fatalf("client %d has %d of %d frames after 60s", i, r.next, msgs)
		}
		if r.err != nil {
			t.Fatalf("client %d: %v", i, r.err)
		}
	}
	waitFor(t, "the stalled client to be dropped", func() bool { return h.relay.Stats().SlowDropped == 1 })
	if n := h.relay.Stats().Clients; n != clients {
		t.Fatalf("%d clients connected, want %d", n, clients)
	}
	// What the stalled client finds when it finally reads: fewer frames than
	// were sent, then the end of the connection.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	got := 0
	for {
		_, _, err := stalled.Read(ctx)
		if err != nil {
			break
		}
		got++
	}
	if got >= msgs {
		t.Fatalf("the stalled client read all %d frames", got)
	}
}

// A client whose write blocks longer than the write timeout is dropped
// even while its buffer has room.
func TestStuckWriteDropped(t *testing.T) {
	const buffer = 1 << 20
	h, _ := startMemory(t, WithClientBuffer(buffer), WithWriteTimeout(200*time.Millisecond))
	dialStalled(t, h.wsURL("/ws"))
	waitFor(t, "the client", func() bool { return h.relay.Stats().Clients == 1 })
	// A write blocks only once the socket buffers between relay and client
	// are full, and how much they hold is the kernel's choice (loopback
	// autotunes the relay's send buffer up to net.ipv4.tcp_wmem's maximum,
	// megabytes). So publish until the client is dropped, bounded by time
	// rather than by a count of frames, and never more than a few frames
	// ahead of the relay, so that a slow relay (-race, a loaded machine)
	// is not buried under a backlog.
	pad := strings.Repeat("y", 64<<10)
	const ahead = 8
	deadline := time.Now().Add(60 * time.Second)
	sent := 0
	for st := h.relay.Stats(); st.SlowDropped == 0; st = h.relay.Stats() {
		if time.Now().After(deadline) {
			t.Fatalf("a client that never reads was not dropped within 60s; %d frames of 64 KiB published (relay: %+v)", sent, st)
		}
		if st.Clients == 0 {
			t.Fatalf("the client left without being counted as dropped after %d frames (relay: %+v)", sent, st)
		}
		if st.Relayed+ahead <= uint64(sent) {
			time.Sleep(time.Millisecond)
			continue
		}
		publish(t, h.t, "codeworm:events", string(seqPayload(sent, pad)))
		sent++
	}
	if sent >= buffer {
		t.Fatalf("the client was dropped only after %d frames, when its buffer of %d could have filled", sent, buffer)
	}
	waitFor(t, "the client to be gone", func() bool { return h.relay.Stats().Clients == 0 })
	if st := h.relay.Stats(); st.SlowDropped != 1 {
		t.Fatalf("relay: %+v, want one client dropped", st)
	}
}

// rssKB reads this process's resident set size.
func rssKB() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return -1
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// BenchmarkFanOut500 runs 500 WebSocket clients on loopback while
// messages are published at 2000 a second for 10 s (EVENTPUB_LOAD_CLIENTS,
// EVENTPUB_LOAD_RATE and EVENTPUB_LOAD_SECONDS change them), checks that
// every client got every message in order, and reports the delivery rate,
// how long delivery went on after the last publish, and the process's RSS
// (clients included) before publishing, halfway and at the end. Run it
// alone:
//
//	go test -run '^$' -bench FanOut500 -benchtime 1x ./dashboard/
func BenchmarkFanOut500(b *testing.B) {
	clients := envInt("EVENTPUB_LOAD_CLIENTS", 500)
	rate := envInt("EVENTPUB_LOAD_RATE", 2000)
	seconds := envInt("EVENTPUB_LOAD_SECONDS", 10)
	total := rate * seconds
	b.StopTimer()
	for range b.N {
		broker := memory.NewBroker(memory.WithBuffer(total))
		// Two seconds of slack per client: the machine may be shared.
		h := startRelay(b, broker.Connect(), WithClientBuffer(2*rate))
		var readers []*reader
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := h.dialNoWait(b, "/ws", nil)
				r := readAll(c.conn, total)
				mu.Lock()
				readers = append(readers, r)
				mu.Unlock()
			}()
			if i%50 == 49 {
				wg.Wait()
			}
		}
		wg.Wait()
		waitFor(b, "all clients", func() bool { return h.relay.Stats().Clients == clients })
		before := rssKB()
		pub := broker.Connect()
		b.StartTimer()
		start := time.Now()
		tick := time.NewTicker(time.Second / 100)
		sent, mid := 0, int64(0)
		for sent < total {
			if mid == 0 && sent >= total/2 {
				mid = rssKB()
			}
			<-tick.C
			due := min(total, int(time.Since(start).Seconds()*float64(rate))+1)
			for ; sent < due; sent++ {
				if err := pub.Publish(context.Background(), transport.Message{Channel: "codeworm:logs", Payload: seqPayload(sent, "")}); err != nil {
					b.Fatal(err)
				}
			}
		}
		tick.Stop()
		pubDone := time.Since(start)
		for i, r := range readers {
			select {
			case <-r.done:
			case <-time.After(60 * time.Second):
				b.Fatalf("client %d has %d of %d frames 60s after the last publish", i, r.arrived.Load(), total)
			}
			if r.err != nil {
				b.Fatalf("client %d: %v (relay: %+v)", i, r.err, h.relay.Stats())
			}
		}
		elapsed := time.Since(start)
		b.StopTimer()
		after := rssKB()
		st := h.relay.Stats()
		b.ReportMetric(float64(total)/pubDone.Seconds(), "published/s")
		b.ReportMetric(float64(total)*float64(clients)/elapsed.Seconds(), "frames-delivered/s")
		b.ReportMetric(elapsed.Seconds()-pubDone.Seconds(), "drain-s")
		b.ReportMetric(float64(before)/1024, "rss-before-MB")
		b.ReportMetric(float64(mid)/1024, "rss-mid-MB")
		b.ReportMetric(float64(after)/1024, "rss-after-MB")
		b.ReportMetric(float64(st.SlowDropped), "slow-dropped")
		_ = pub.Close()
	}
}
