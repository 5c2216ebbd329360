package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/eventpub/eventpub/dashboard"
	"github.com/eventpub/eventpub/eventpubotel"
	"github.com/eventpub/eventpub/observe"
)

// metricsFlag adds --metrics-addr to a command's flags.
func metricsFlag(fs *flag.FlagSet) *string {
	return fs.String("metrics-addr", "", "serve Prometheus metrics at http://`ADDR`/metrics (host:port; port 0 picks a free one)")
}

// metricsServer serves /metrics: the OpenTelemetry metrics an
// eventpubotel.Observer records, through the OpenTelemetry Prometheus
// exporter. A nil *metricsServer (no --metrics-addr) does nothing.
type metricsServer struct {
	obs    *eventpubotel.Observer
	mp     *sdkmetric.MeterProvider
	srv    *http.Server
	addr   string
	served chan error
}

// startMetrics listens on addr and serves /metrics until close; it
// returns nil when addr is empty. Tracing stays off: the command exports
// no spans.
func startMetrics(addr string) (*metricsServer, error) {
	if addr == "" {
		return nil, nil
	}
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
	obs, err := eventpubotel.New(eventpubotel.WithMeterProvider(mp), eventpubotel.WithTracerProvider(tracenoop.NewTracerProvider()))
	if err != nil {
		_ = mp.Shutdown(context.Background())
		return nil, fmt.Errorf("metrics: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		_ = mp.Shutdown(context.Background())
		return nil, usagef("--metrics-addr: cannot listen on %s: %v", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	m := &metricsServer{
		obs: obs, mp: mp, addr: ln.Addr().String(), served: make(chan error, 1),
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
	}
	go func() { m.served <- m.srv.Serve(ln) }()
	return m, nil
}

// observer returns the Observer to pass to the Publisher or bridge, nil
// without metrics.
func (m *metricsServer) observer() observe.Observer {
	if m == nil {
		return nil
	}
	return m.obs
}

// meter returns a meter of the command's own, for metrics no observer
// reports (the dashboard relay's).
func (m *metricsServer) meter(name string) metric.Meter { return m.mp.Meter(name) }

// url returns where the metrics are served.
func (m *metricsServer) url() string { return "http://" + m.addr + "/metrics" }

// close stops serving and releases the meter provider.
func (m *metricsServer) close() {
	if m == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = m.srv.Shutdown(ctx)
	<-m.served // http.ErrServerClosed
	_ = m.mp.Shutdown(ctx)
}

// watchRelay records the dashboard relay's counters, read at each scrape:
// eventpub.dashboard.clients, .relayed, .slow_dropped and .broker.up, with
// messaging.system.
func (m *metricsServer) watchRelay(relay *dashboard.Relay, system string) error {
	if m == nil {
		return nil
	}
	meter := m.meter("github.com/eventpub/eventpub/dashboard")
	clients, err1 := meter.Int64ObservableGauge("eventpub.dashboard.clients", metric.WithUnit("{client}"),
		metric.WithDescription("WebSocket and event-stream clients connected."))
	relayed, err2 := meter.Int64ObservableCounter("eventpub.dashboard.relayed", metric.WithUnit("{message}"),
		metric.WithDescription("Messages received from the broker and sent on to the clients."))
	slow, err3 := meter.Int64ObservableCounter("eventpub.dashboard.slow_dropped", metric.WithUnit("{client}"),
		metric.WithDescription("Clients disconnected as too slow."))
	up, err4 := meter.Int64ObservableGauge("eventpub.dashboard.broker.up",
		metric.WithDescription("1 while the last check of the broker succeeded, else 0."))
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	attrs := metric.WithAttributes(attribute.String("messaging.system", system))
	_, err := meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		st := relay.Stats()
		o.ObserveInt64(clients, int64(st.Clients), attrs)
		o.ObserveInt64(relayed, int64(st.Relayed), attrs)
		o.ObserveInt64(slow, int64(st.SlowDropped), attrs)
		v := int64(0)
		if st.BrokerUp {
			v = 1
		}
		o.ObserveInt64(up, v, attrs)
		return nil
	}, clients, relayed, slow, up)
	if err != nil {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}
