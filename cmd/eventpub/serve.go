package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/eventpub/eventpub/dashboard"
	"github.com/eventpub/eventpub/transport"
)

func init() {
	commands["serve"] = command{"serve a live dashboard of the CodeWorm channels over WebSocket and SSE", runServe}
	details["serve"] = `Relays NS:logs, NS:events and NS:stats (NS is --namespace) from the broker
to browsers with the protocol of CodeWorm's dashboard relay, so CodeWorm's
own frontend works on any broker:
  GET /ws, /api/ws   WebSocket: {"channel":…,"data":…} per message, the last
                     200 logs and events first as NS:history; "ping" → {"type":"pong"}
  GET /api/events    the same frames as Server-Sent Events
  GET /health        {"status":"healthy"}
  GET /              a built-in live page (log, activity, stats, events), or
                     with --static DIR a built frontend (unknown paths get index.html)
It listens on loopback unless --addr says otherwise. WebSocket and event
stream requests from pages of other origins are refused unless
--allow-origin names them; with --token they need the token as
"Authorization: Bearer TOKEN" or ?token=TOKEN (open the page with
?token=TOKEN too). A client too slow to keep up is disconnected; the broker
link going down and coming back is logged and shown on the page.
With --metrics-addr it serves Prometheus metrics at /metrics on that
address: eventpub_dashboard_clients, _relayed_total, _slow_dropped_total
and _broker_up (see the README's Observability section).
Ctrl-C stops it.`
}

// stringsFlag collects a flag given several times.
type stringsFlag []string

func (s *stringsFlag) String() string     { return strings.Join(*s, ",") }
func (s *stringsFlag) Set(v string) error { *s = append(*s, v); return nil }

// runServe serves the dashboard until interrupted.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "URL", stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "`address` to listen on (host:port; port 0 picks a free one)")
	namespace := fs.String("namespace", "codeworm", "prefix of the relayed channels")
	static := fs.String("static", "", "serve a built single-page frontend from `DIR` at / instead of the built-in page")
	var origins stringsFlag
	fs.Var(&origins, "allow-origin", "also accept WebSocket and event-stream requests from pages of `ORIGIN`, e.g. http://localhost:5173 (repeatable; * for any)")
	token := fs.String("token", "", "require `TOKEN` on /ws, /api/ws and /api/events (bearer header or ?token=)")
	metricsAddr := metricsFlag(fs)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) == 0:
		return usagef("serve needs a broker URL")
	case len(pos) > 1:
		return usagef("serve takes one broker URL, got %d arguments", len(pos))
	}
	rawURL := pos[0]
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
	opts := []dashboard.Option{
		dashboard.WithNamespace(*namespace), dashboard.WithLogger(logger),
		dashboard.WithAllowedOrigins(origins...), dashboard.WithToken(*token),
	}
	if *static != "" {
		opts = append(opts, dashboard.WithStaticDir(*static))
	}

	t, err := transport.Open(ctx, rawURL)
	if err != nil {
		return err
	}
	defer t.Close()
	relay, err := dashboard.New(t, opts...)
	if err != nil {
		return usageError(strings.ReplaceAll(oneLine(err), "eventpub/dashboard: ", ""))
	}
	defer relay.Close()
	metrics, err := startMetrics(*metricsAddr)
	if err != nil {
		return err
	}
	defer metrics.close()
	if err := metrics.watchRelay(relay, transport.SystemName(t)); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	if err := t.Ping(pctx); err != nil && ctx.Err() == nil {
		fmt.Fprintf(stderr, "serve: %s does not answer yet (%s); the page shows the broker as down until it does\n",
			transport.Redact(rawURL), oneLine(err))
	}
	cancel()
	if err := relay.Start(); err != nil {
		ln.Close()
		return err
	}
	srv := &http.Server{Handler: relay, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	names := strings.Join([]string{ns(*namespace, "logs"), ns(*namespace, "events"), ns(*namespace, "stats")}, ", ")
	page := "http://" + ln.Addr().String() + "/"
	if *token != "" {
		page += "?token=…"
	}
	fmt.Fprintf(stderr, "serve: relaying %s from %s; dashboard at %s\n", names, transport.Redact(rawURL), page)
	if metrics != nil {
		fmt.Fprintf(stderr, "serve: metrics at %s\n", metrics.url())
	}

	select {
	case <-ctx.Done():
	case err := <-served:
		return fmt.Errorf("serving stopped: %w", err)
	}
	fmt.Fprintln(stderr, "serve: stopping")
	// The relay ends its WebSocket and event-stream connections; then the
	// server has only short requests left to finish.
	_ = relay.Close()
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// ns returns name under namespace.
func ns(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + ":" + name
}
