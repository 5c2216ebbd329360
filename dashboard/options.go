package dashboard

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"
)

// Defaults used where no option says otherwise.
const (
	// DefaultNamespace is CodeWorm's channel prefix.
	DefaultNamespace = "codeworm"
	// DefaultHistory is how many logs and events messages a new client
	// receives first, as CodeWorm's relay keeps.
	DefaultHistory = 200
	// DefaultClientBuffer is how many frames may wait for one client
	// before it is disconnected as too slow.
	DefaultClientBuffer = 1024
	// DefaultWriteTimeout bounds one write to a client.
	DefaultWriteTimeout = 10 * time.Second
	// DefaultLinkCheck is how often the broker is pinged.
	DefaultLinkCheck = 2 * time.Second
)

// Pause before subscribing again after the subscription failed: it starts
// at subscribeBackoffMin and doubles up to subscribeBackoffMax.
const (
	subscribeBackoffMin = 50 * time.Millisecond
	subscribeBackoffMax = 5 * time.Second
)

// Option configures a Relay.
type Option func(*config)

type config struct {
	namespace    string
	origins      []string
	token        string
	staticDir    string
	history      int
	clientBuffer int
	writeTimeout time.Duration
	linkCheck    time.Duration
	logger       *slog.Logger
}

func defaultConfig() config {
	return config{
		namespace:    DefaultNamespace,
		history:      DefaultHistory,
		clientBuffer: DefaultClientBuffer,
		writeTimeout: DefaultWriteTimeout,
		linkCheck:    DefaultLinkCheck,
		logger:       slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// validate returns every setting that is out of range, joined.
func (c *config) validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("eventpub/dashboard: "+format, args...))
	}
	if c.history < 0 {
		bad("history %d is negative", c.history)
	}
	if c.clientBuffer < 1 {
		bad("client buffer %d is below 1", c.clientBuffer)
	}
	if c.writeTimeout <= 0 {
		bad("write timeout %v is not positive", c.writeTimeout)
	}
	if c.linkCheck <= 0 {
		bad("link check interval %v is not positive", c.linkCheck)
	}
	for _, o := range c.origins {
		if err := checkOrigin(o); err != nil {
			errs = append(errs, err)
		}
	}
	if c.staticDir != "" {
		if st, err := os.Stat(c.staticDir); err != nil {
			bad("static directory: %v", err)
		} else if !st.IsDir() {
			bad("static directory %q is not a directory", c.staticDir)
		}
	}
	if c.logger == nil {
		bad("nil logger")
	}
	return errors.Join(errs...)
}

// checkOrigin accepts "*" or an origin "scheme://host[:port]".
func checkOrigin(o string) error {
	if o == "*" {
		return nil
	}
	u, err := url.Parse(o)
	if err != nil || u.Scheme == "" || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return fmt.Errorf("eventpub/dashboard: allowed origin %q is not \"*\" or scheme://host[:port]", o)
	}
	return nil
}

// WithNamespace sets the channel prefix: the relay forwards NS:logs,
// NS:events and NS:stats and names the history frame NS:history. An empty
// namespace gives logs, events, stats and history. Default "codeworm".
func WithNamespace(ns string) Option { return func(c *config) { c.namespace = ns } }

// WithAllowedOrigins lets browser pages from these origins
// ("https://dash.example.com", "http://localhost:5173"; "*" for any) open
// the WebSocket and event stream. A page served by the relay's own host is
// always allowed, and so is a client that sends no Origin (not a browser).
func WithAllowedOrigins(origins ...string) Option {
	return func(c *config) { c.origins = append(c.origins, origins...) }
}

// WithToken requires every WebSocket and event-stream request to carry
// token, as "Authorization: Bearer TOKEN" or the query parameter
// token=TOKEN (browsers cannot set headers on a WebSocket). The page and
// /health stay open. Empty (the default) requires nothing.
func WithToken(token string) Option { return func(c *config) { c.token = token } }

// WithStaticDir serves a built single-page frontend from dir at / instead
// of the built-in page: files as they are, any other path outside /api/
// as dir/index.html.
func WithStaticDir(dir string) Option { return func(c *config) { c.staticDir = dir } }

// WithHistory sets how many of the latest logs and events messages a new
// client receives first. 0 sends no history frame. Default 200.
func WithHistory(n int) Option { return func(c *config) { c.history = n } }

// WithClientBuffer sets how many frames may wait for one client; a client
// that lets more pile up is disconnected, so it never holds up the relay or
// the other clients. Default 1024.
func WithClientBuffer(n int) Option { return func(c *config) { c.clientBuffer = n } }

// WithWriteTimeout bounds one write to a client; a client that takes longer
// is disconnected. Default 10 s.
func WithWriteTimeout(d time.Duration) Option { return func(c *config) { c.writeTimeout = d } }

// WithLinkCheck sets how often the broker is pinged to tell whether the
// link is up. Default 2 s.
func WithLinkCheck(d time.Duration) Option { return func(c *config) { c.linkCheck = d } }

// WithLogger sets where the relay logs the broker link going down and
// coming back, and clients it disconnects. By default nothing is logged.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// channel returns name under the namespace.
func (c *config) channel(name string) string {
	if c.namespace == "" {
		return name
	}
	return c.namespace + ":" + name
}

// originAllowed reports whether a browser page from origin may connect to
// a relay reached as host.
func (c *config) originAllowed(origin, host string) bool {
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	if strings.EqualFold(u.Host, host) {
		return true
	}
	for _, o := range c.origins {
		if o == "*" || strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
			return true
		}
	}
	return false
}
