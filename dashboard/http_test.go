package dashboard

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func get(t *testing.T, url string, hdr http.Header) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestHealthAndPage(t *testing.T) {
	h, _ := startMemory(t, WithNamespace(`a"<b>`))
	resp, body := get(t, h.srv.URL+"/health", nil)
	if resp.StatusCode != 200 || body != `{"status":"healthy"}` || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("/health: %d %q %q", resp.StatusCode, body, resp.Header.Get("Content-Type"))
	}
	resp, body = get(t, h.srv.URL+"/", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, `<meta name="eventpub-namespace" content="a&#34;&lt;b&gt;">`) {
		t.Fatalf("/: %d, namespace not filled in escaped:\n%.600s", resp.StatusCode, body)
	}
	for _, p := range []string{"/app.js", "/app.css"} {
		if resp, body := get(t, h.srv.URL+p, nil); resp.StatusCode != 200 || len(body) < 1000 {
			t.Errorf("%s: %d, %d bytes", p, resp.StatusCode, len(body))
		}
	}
	for _, p := range []string{"/nope", "/api/stats"} {
		if resp, _ := get(t, h.srv.URL+p, nil); resp.StatusCode != 404 {
			t.Errorf("%s: %d, want 404", p, resp.StatusCode)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/health", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 405 {
		t.Errorf("POST /health: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
}

func TestStaticDir(t *testing.T) {
	dir := t.TempDir()
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(dir, "index.html"), []byte("<p>spa index</p>"), 0o644))
	must(os.MkdirAll(filepath.Join(dir, "assets"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "assets", "app.js"), []byte("console.log(1)"), 0o644))
	h, _ := startMemory(t, WithStaticDir(dir))
	for path, want := range map[string]string{
		"/":                "<p>spa index</p>",
		"/repos/CodeWorm":  "<p>spa index</p>",
		"/assets/app.js":   "console.log(1)",
		"/assets/":         "<p>spa index</p>",
		"/assets/gone.css": "<p>spa index</p>",
	} {
		resp, body := get(t, h.srv.URL+path, nil)
		if resp.StatusCode != 200 || body != want {
			t.Errorf("%s: %d %q, want %q", path, resp.StatusCode, body, want)
		}
	}
	if resp, _ := get(t, h.srv.URL+"/api/recent", nil); resp.StatusCode != 404 {
		t.Errorf("/api/recent fell back to the SPA: %d", resp.StatusCode)
	}
	if resp, _ := get(t, h.srv.URL+"/health", nil); resp.StatusCode != 200 {
		t.Errorf("/health with a static dir: %d", resp.StatusCode)
	}
	if _, err := New(h.t, WithStaticDir(filepath.Join(dir, "missing"))); err == nil {
		t.Error("a missing static directory was accepted")
	}
}

func TestOriginCheck(t *testing.T) {
	h, _ := startMemory(t, WithAllowedOrigins("http://dash.example:5173"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, tc := range []struct {
		origin string
		ok     bool
	}{
		{"", true},
		{h.srv.URL, true},
		{"http://dash.example:5173", true},
		{"http://evil.example", false},
		{"http://dash.example:5174", false},
	} {
		hdr := http.Header{}
		if tc.origin != "" {
			hdr.Set("Origin", tc.origin)
		}
		conn, resp, err := websocket.Dial(ctx, h.wsURL("/ws"), &websocket.DialOptions{HTTPHeader: hdr})
		if tc.ok != (err == nil) {
			t.Errorf("origin %q: err %v, want ok=%v", tc.origin, err, tc.ok)
		}
		if err == nil {
			conn.CloseNow()
		} else if resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("origin %q refused without a 403: %v", tc.origin, resp)
		}
		hdr.Set("Accept", "text/event-stream")
		if !tc.ok {
			if resp, _ := get(t, h.srv.URL+"/api/events", hdr); resp.StatusCode != 403 {
				t.Errorf("event stream from origin %q: %d, want 403", tc.origin, resp.StatusCode)
			}
		}
	}
	if _, err := New(h.t, WithAllowedOrigins("dash.example", "*", "http://x/path")); err == nil ||
		!strings.Contains(err.Error(), `"dash.example"`) || !strings.Contains(err.Error(), `"http://x/path"`) || strings.Count(err.Error(), "allowed origin") != 2 {
		t.Errorf("bad origins: %v", err)
	}
}

func TestToken(t *testing.T) {
	h, _ := startMemory(t, WithToken("s3cret"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, tc := range []struct {
		path string
		hdr  http.Header
		ok   bool
	}{
		{"/ws", nil, false},
		{"/ws?token=wrong", nil, false},
		{"/ws?token=s3cret", nil, true},
		{"/api/ws", http.Header{"Authorization": {"Bearer s3cret"}}, true},
		{"/api/ws", http.Header{"Authorization": {"bearer s3cret"}}, true},
		{"/api/ws", http.Header{"Authorization": {"Bearer nope"}}, false},
	} {
		conn, resp, err := websocket.Dial(ctx, h.wsURL(tc.path), &websocket.DialOptions{HTTPHeader: tc.hdr})
		if tc.ok != (err == nil) {
			t.Errorf("%s %v: err %v, want ok=%v", tc.path, tc.hdr, err, tc.ok)
		}
		if err == nil {
			conn.CloseNow()
		} else if resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s refused without a 401: %v", tc.path, resp)
		}
	}
	if resp, _ := get(t, h.srv.URL+"/api/events", nil); resp.StatusCode != 401 {
		t.Errorf("event stream without a token: %d", resp.StatusCode)
	}
	for _, p := range []string{"/", "/health"} {
		if resp, _ := get(t, h.srv.URL+p, nil); resp.StatusCode != 200 {
			t.Errorf("%s needs no token, got %d", p, resp.StatusCode)
		}
	}
}

// The event stream carries the same frames: history first, then live.
func TestServerSentEvents(t *testing.T) {
	h, _ := startMemory(t, WithToken("t"))
	publish(t, h.t, "codeworm:logs", `{"event":"before","x":1.50}`)
	waitFor(t, "the first message", func() bool { return h.relay.Stats().Relayed == 1 })
	// The deadline ends the reads below should a frame never come.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, h.srv.URL+"/api/events?token=t", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
		t.Fatalf("%d %s", resp.StatusCode, ct)
	}
	waitFor(t, "the stream client", func() bool { return h.relay.Stats().Clients == 1 })
	publish(t, h.t, "codeworm:stats", `not json`)
	sc := bufio.NewScanner(resp.Body)
	var got []string
	for len(got) < 3 && sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "data: ") {
			got = append(got, strings.TrimPrefix(line, "data: "))
		}
	}
	want := []string{
		`{"channel":"codeworm:history","data":[` + frame("codeworm:logs", `{"event":"before","x":1.5}`) + `]}`,
		`{"type":"broker","state":"up"}`,
		frame("codeworm:stats", `{"raw":"not json"}`),
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	cancel()
	waitFor(t, "the stream client to leave", func() bool { return h.relay.Stats().Clients == 0 })
}

// lockedBuffer is a log destination safe for concurrent writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// The broker link going down and coming back is logged and sent to clients.
func TestBrokerLinkState(t *testing.T) {
	var logs lockedBuffer
	h, broker := startMemory(t, WithLinkCheck(20*time.Millisecond), WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	c := h.dial(t, "/ws", nil)
	waitFor(t, "the link to be up", func() bool { return h.relay.Stats().BrokerUp })
	if f := c.raw(); f != `{"type":"broker","state":"up"}` {
		t.Fatalf("first frame %s", f)
	}
	broker.SetDown(true)
	if f := c.raw(); f != `{"type":"broker","state":"down"}` {
		t.Fatalf("after the broker went down: %s", f)
	}
	if h.relay.Stats().BrokerUp {
		t.Error("Stats says the broker is up")
	}
	late := h.dial(t, "/ws", nil)
	if f := late.raw(); f != `{"type":"broker","state":"down"}` {
		t.Fatalf("a client joining while down got %s", f)
	}
	broker.SetDown(false)
	if f := c.raw(); f != `{"type":"broker","state":"up"}` {
		t.Fatalf("after the broker came back: %s", f)
	}
	publish(t, h.t, "codeworm:logs", `{"event":"after"}`)
	if f := c.next(); f != frame("codeworm:logs", `{"event":"after"}`) {
		t.Fatalf("after the outage: %s", f)
	}
	out := logs.String()
	if !strings.Contains(out, "broker link is down") || !strings.Contains(out, "broker link is back") {
		t.Fatalf("log:\n%s", out)
	}
}

func TestOptionsValidated(t *testing.T) {
	h, _ := startMemory(t)
	_, err := New(h.t, WithClientBuffer(0), WithHistory(-1), WithWriteTimeout(0), WithLinkCheck(-time.Second), WithLogger(nil))
	if err == nil {
		t.Fatal("bad options accepted")
	}
	for _, want := range []string{"client buffer 0", "history -1", "write timeout 0s", "link check interval -1s", "nil logger"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
	if !strings.HasPrefix(err.Error(), "eventpub/dashboard: ") {
		t.Errorf("error %q lacks the package prefix", err)
	}
	if _, err := New(nil); err == nil {
		t.Error("nil transport accepted")
	}
	r, _ := New(h.t)
	r.Close()
	if err := r.Start(); err == nil {
		t.Error("Start after Close succeeded")
	}
	if err := h.relay.Start(); err == nil {
		t.Error("a second Start succeeded")
	}
}

// Closing the relay disconnects its clients with "going away".
func TestCloseDisconnectsClients(t *testing.T) {
	h, _ := startMemory(t)
	c := h.dial(t, "/ws", nil)
	closed := make(chan error)
	go func() { closed <- h.relay.Close() }()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		_, _, err := c.conn.Read(ctx)
		if err != nil {
			if websocket.CloseStatus(err) != websocket.StatusGoingAway {
				t.Fatalf("closed with %v, want going away", err)
			}
			break
		}
	}
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Close did not return within 20s")
	}
	if resp, _ := get(t, h.srv.URL+"/api/events", nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("event stream after Close: %d", resp.StatusCode)
	}
}
