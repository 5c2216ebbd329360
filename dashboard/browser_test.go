package dashboard

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/eventpub/eventpub"
	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/memory"
	"github.com/eventpub/eventpub/transport"
)

// chromiumPath finds a Chromium or Chrome binary: $EVENTPUB_CHROMIUM, then
// the usual names on PATH.
func chromiumPath() string {
	if p := os.Getenv("EVENTPUB_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browser starts headless Chromium for the test and returns a tab context.
func browser(t *testing.T) context.Context {
	t.Helper()
	bin := chromiumPath()
	if bin == "" {
		t.Skip("no chromium binary found (install Debian's chromium, e.g. apt-get install -y chromium, or set EVENTPUB_CHROMIUM)")
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 1000),
	)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		acancel()
	})
	// Start the browser now, without a deadline (one would stop it).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	return ctx
}

// waitJS polls the page until the JavaScript expression is true.
func waitJS(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, cancel := context.WithTimeout(ctx, 5*time.Second)
		ok, err := chromedp.Run(c, chromedp.Evaluate[bool](expr))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
			t.Fatalf("timed out waiting for %s (%s; last error %v); page text:\n%s", what, expr, err, page)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// text returns the text of the element matching the CSS selector.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q)||{}).textContent||""`, sel)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// swapHandler serves with whichever relay it holds now.
type swapHandler struct{ r atomic.Pointer[Relay] }

func (s *swapHandler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	s.r.Load().ServeHTTP(w, req)
}

// publishCycle publishes a CodeWorm cycle up to "generating" through
// eventpub.Publisher, with a few stats snapshots before it for the charts.
func publishCycle(t *testing.T, pub *eventpub.Publisher) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	steps := []error{}
	for i, s := range []float64{83.3, 85.7, 87.5, 86.9, 88.9, 90.0, 90.9} {
		steps = append(steps, pub.PublishStats(ctx, map[string]any{
			"total_cycles": 5 + i, "success_rate": s, "docs_today": 1 + i/2, "tokens_per_s": 38.5 + float64(i%3)*4.25, "model": "qwen2.5-coder:7b",
		}))
	}
	steps = append(steps,
		pub.PublishEvent(ctx, "cycle_starting", map[string]any{"cycle_num": 12}),
		pub.PublishLog(ctx, map[string]any{"event": "selecting target", "level": "debug", "component": "scheduler", "candidates": 148}),
		pub.PublishEvent(ctx, "analyzing", map[string]any{"target": "codeworm/core/events.py:EventPublisher", "repo": "CodeWorm"}),
		pub.PublishLog(ctx, map[string]any{"event": "analysis complete", "level": "info", "component": "analyzer", "complexity": 7, "score": 0.82}),
		pub.PublishLog(ctx, map[string]any{"event": "redis publish slow", "level": "warning", "component": "events", "ms": 212.5}),
		pub.PublishEvent(ctx, "generating", map[string]any{"target": "codeworm/core/events.py:EventPublisher", "repo": "CodeWorm", "doc_type": "class_doc"}),
		pub.PublishLog(ctx, map[string]any{"event": "prompt built", "level": "info", "component": "llm", "tokens": 1834}),
	)
	for _, err := range steps {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// finishCycle commits and announces the next cycle.
func finishCycle(t *testing.T, pub *eventpub.Publisher) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, err := range []error{
		pub.PublishLog(ctx, map[string]any{"event": "model timeout, retrying", "level": "error", "component": "llm", "attempt": 1}),
		pub.PublishEvent(ctx, "documentation_committed", map[string]any{"commit": "1c8540d", "repo": "CodeWorm", "time_ms": 2310.5, "tokens": 1834}),
		pub.PublishLog(ctx, map[string]any{"event": "documentation committed", "level": "info", "component": "git", "commit": "1c8540d"}),
		pub.PublishStats(ctx, map[string]any{"total_cycles": 12, "success_rate": 91.7, "docs_today": 4, "tokens_per_s": 44.75, "model": "qwen2.5-coder:7b"}),
		pub.PublishEvent(ctx, "next_cycle", map[string]any{"time": time.Now().Add(17 * time.Minute).Format("2006-01-02T15:04:05")}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// The live page, in a real browser, shows a CodeWorm cycle published
// through eventpub.Publisher: log lines with levels, the current activity,
// the stats; the broker link going down and back; and it reconnects by
// itself when the relay goes away and comes back.
func TestBrowser(t *testing.T) {
	urls := map[string]string{"redis-miniredis": brokertest.StartMiniredis(t).URL()}
	if u := brokertest.RealRedisURL(); u != "" {
		urls["redis-real"] = u
	}
	t.Run("memory", func(t *testing.T) {
		broker := memory.NewBroker()
		runBrowser(t, broker.Connect(), broker.Connect(), broker)
	})
	for name, url := range urls {
		t.Run(name, func(t *testing.T) {
			runBrowser(t, brokertest.Open(t, url), brokertest.Open(t, url), nil)
		})
	}
}

func runBrowser(t *testing.T, relayT, pubT transport.Transport, broker *memory.Broker) {
	ns := "codeworm"
	if broker == nil {
		ns = "cw" + brokertest.Unique()[:6] // real servers are shared
	}
	opts := []Option{WithNamespace(ns), WithLinkCheck(100 * time.Millisecond)}
	h := startRelay(t, relayT, opts...)
	var sw swapHandler
	sw.r.Store(h.relay)
	srv := httptest.NewServer(&sw)
	defer srv.Close()
	ctx := browser(t)
	pub := eventpub.New(pubT, eventpub.WithNamespace(ns), eventpub.WithKeepOpen())

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, "the page to connect", `document.getElementById("conn").dataset.state === "connected"`)
	waitJS(t, ctx, "the broker to show up", `document.getElementById("broker").dataset.state === "up"`)

	publishCycle(t, pub)
	waitJS(t, ctx, "the generating activity", `document.getElementById("activity-state").textContent === "Generating docs"`)
	if got := text(t, ctx, "#activity-target"); got != "codeworm/core/events.py:EventPublisher" {
		t.Errorf("activity target %q", got)
	}
	if got := text(t, ctx, "#activity-detail"); got != "CodeWorm · class_doc" {
		t.Errorf("activity detail %q", got)
	}
	finishCycle(t, pub)
	waitJS(t, ctx, "the committed activity", `document.getElementById("activity-state").textContent === "Idle"`)
	waitJS(t, ctx, "the final stats", `(document.querySelector('#stats .stat[data-key="total_cycles"] .value')||{}).textContent === "12"`)
	if got := text(t, ctx, `#stats .stat[data-key="success_rate"] .value`); got != "91.7" {
		t.Errorf("success_rate shown as %q", got)
	}
	if got := text(t, ctx, "#last-commit"); got != "1c8540d · CodeWorm" {
		t.Errorf("last commit %q", got)
	}
	if got := text(t, ctx, "#next-cycle"); !strings.Contains(got, "(in 1") {
		t.Errorf("next cycle %q", got)
	}
	logs, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll("#log .log-row")].map(r => r.querySelector(".lvl").textContent + " " + r.querySelector(".msg").firstChild.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"debug selecting target", "info analysis complete", "warning redis publish slow", "info prompt built",
		"error model timeout, retrying", "info documentation committed"}
	if strings.Join(logs, "|") != strings.Join(want, "|") {
		t.Errorf("log rows:\n got %q\nwant %q", logs, want)
	}
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#stats svg polyline').length`)); n < 4 {
		t.Errorf("%d stat charts, want one per numeric stat (4)", n)
	}
	screenshot(t, ctx)

	if broker != nil {
		// The broker link dropping and returning shows on the page.
		broker.SetDown(true)
		waitJS(t, ctx, "the broker to show down", `document.getElementById("broker").dataset.state === "down"`)
		broker.SetDown(false)
		waitJS(t, ctx, "the broker to show up again", `document.getElementById("broker").dataset.state === "up"`)

		// The page reconnects by itself when its relay goes away and a new
		// one takes its place; it shows the new relay's history.
		if err := h.relay.Close(); err != nil {
			t.Fatal(err)
		}
		waitJS(t, ctx, "the page to show reconnecting", `document.getElementById("conn").dataset.state === "reconnecting"`)
		h2 := startRelay(t, broker.Connect(), opts...)
		publish(t, h2.t, "codeworm:logs", `{"event":"after reconnect","level":"info"}`)
		waitFor(t, "the new relay to keep the line", func() bool { return h2.relay.Stats().Relayed == 1 })
		sw.r.Store(h2.relay)
		waitJS(t, ctx, "the page to reconnect", `document.getElementById("conn").dataset.state === "connected"`)
		waitJS(t, ctx, "the new history", `[...document.querySelectorAll("#log .msg")].some(m => m.textContent === "after reconnect")`)
	}
}

// screenshot saves the page as PNG in the test's temp dir, or in
// $EVENTPUB_SCREENSHOT_DIR when set.
func screenshot(t *testing.T, ctx context.Context) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv("EVENTPUB_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "-")+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", path, len(png))
}
