package nats

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/eventpub/eventpub/transport"
	natsgo "github.com/nats-io/nats.go"
)

// Opening: Open and Connect turn a URL or a Config into a connection and a
// Transport; String and GoString describe it without secrets.

func init() {
	transport.Register("nats", openURL)
	transport.Register("tls", openURL)
}

func openURL(ctx context.Context, rawURL string) (transport.Transport, error) {
	t, err := Open(ctx, rawURL)
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return t, nil
}

// Open connects to the servers in rawURL and owns the connection (Close
// closes it). The URL forms are:
//
//	nats://host:4222                      one server (port 4222 if left out)
//	nats://user:pass@host:4222            user and password
//	nats://TOKEN@host:4222                token
//	nats://a:4222,b:4222,c:4222           several servers (also a:4222,nats://b:4222)
//	tls://host:4222                       TLS, system roots (see tls_ca)
//
// Query parameters: jetstream=STREAM (or true: stream EVENTPUB), subjects=a,b
// (stream subjects), replicas=N, max_age=24h, max_bytes=N, start=new|all,
// mapping=keep|dots, flush=true, reconnect_buffer=BYTES, name=NAME,
// publish_timeout=5s, token=TOKEN, creds=FILE, nkey=SEEDFILE, tls_ca=FILE,
// tls_cert=FILE, tls_key=FILE. The JetStream parameters turn JetStream on;
// jetstream=false with any of them is an error. Options given to Open apply
// after the URL.
//
// Open makes one attempt at each server (up to ConnectTimeout each, less
// when ctx has an earlier deadline). When none answers it does not fail: it
// returns a Transport that connects in the background (Publish fails with
// ErrUnavailable until then). It fails for a bad URL or settings, with
// ErrAuth when a server refuses the credentials or the TLS handshake, and
// with ctx's error when ctx ends during that first attempt. Errors never
// hold a secret.
func Open(ctx context.Context, rawURL string, opts ...Option) (*Transport, error) {
	u, err := parseURL(rawURL)
	if err != nil {
		return nil, err
	}
	var cfg Config
	if err := cfg.fromURL(u); err != nil {
		return nil, err
	}
	for _, o := range opts {
		o(&cfg)
	}
	return Connect(ctx, cfg)
}

// Connect opens a Transport from a whole Config (Servers must be set), as
// Open does from a URL.
func Connect(ctx context.Context, cfg Config) (*Transport, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(cfg.Servers) == 0 {
		return nil, errors.New("eventpub/nats: no server URL given")
	}
	nopts, err := cfg.natsOptions()
	if err != nil {
		return nil, err
	}
	// Open's context bounds only the first attempt: the dialer applies it
	// to that attempt's dials and handshakes, while the Timeout option
	// nats.go keeps for every reconnect stays ConnectTimeout.
	dialer := newFirstDialer(ctx, cfg.ConnectTimeout)
	nopts = append(nopts, natsgo.SetCustomDialer(dialer))
	servers := strings.Join(cfg.Servers, ",")
	// One direct attempt tells refused credentials (a settings error) from
	// a server that is down (connect in the background).
	nc, err := natsgo.Connect(servers, nopts...)
	if err != nil {
		if isAuthErr(err) {
			return nil, credsErr(cfg.serverList(), cfg.scrub(err))
		}
		if err := ctxOver(ctx); err != nil {
			return nil, err
		}
		nc, err = natsgo.Connect(servers, append(nopts, natsgo.RetryOnFailedConnect(true))...)
		if err != nil {
			return nil, fmt.Errorf("eventpub/nats: connect to %s: %w", cfg.serverList(), transport.Unavailable(cfg.scrub(err)))
		}
	}
	dialer.firstOver()
	t, err := newTransport(nc, cfg, true)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return t, nil
}

// ctxOver returns ctx.Err(), or DeadlineExceeded once the deadline has
// passed (a handshake clipped to it can fail a moment before ctx's own
// timer marks it done).
func ctxOver(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if dl, ok := ctx.Deadline(); ok && !time.Now().Before(dl) {
		return context.DeadlineExceeded
	}
	return nil
}

// serverList names the servers without secrets.
func (c *Config) serverList() string {
	out := make([]string, len(c.Servers))
	for i, s := range c.Servers {
		out[i] = transport.Redact(s)
	}
	return strings.Join(out, ",")
}

func (c *Config) natsOptions() ([]natsgo.Option, error) {
	rbuf := c.ReconnectBuffer
	if rbuf == 0 {
		rbuf = -1 // nats.go: keep nothing while reconnecting
	}
	opts := []natsgo.Option{
		natsgo.Name(c.Name),
		natsgo.Timeout(c.ConnectTimeout),
		natsgo.MaxReconnects(-1),
		natsgo.ReconnectWait(c.ReconnectWait),
		natsgo.ReconnectJitter(100*time.Millisecond, time.Second),
		natsgo.ReconnectBufSize(rbuf),
		natsgo.PingInterval(10 * time.Second),
		// nats.go writes to the socket holding the lock every publish
		// takes, so a stalled link holds Publish until that write times
		// out; bound it by PublishTimeout (nats.go's default is a minute)
		// and then reconnect, so later publishes fail fast instead of each
		// waiting out another stalled write.
		natsgo.FlusherTimeout(c.PublishTimeout),
		natsgo.ReconnectOnFlusherError(),
		natsgo.MaxPingsOutstanding(2),
		// Every subject the driver publishes has passed validSubject,
		// which rejects all that nats.go's check would: skip that second
		// scan on each publish.
		natsgo.SkipSubjectValidation(),
		// Async errors (e.g. slow consumers) surface through Subscription;
		// keep nats.go from printing them.
		natsgo.ErrorHandler(func(*natsgo.Conn, *natsgo.Subscription, error) {}),
	}
	switch {
	case c.Token != "":
		opts = append(opts, natsgo.Token(c.Token))
	case c.User != "":
		opts = append(opts, natsgo.UserInfo(c.User, c.Password))
	}
	if c.NKeySeedFile != "" {
		o, err := natsgo.NkeyOptionFromSeed(c.NKeySeedFile)
		if err != nil {
			return nil, fmt.Errorf("eventpub/nats: NKey seed file %q: %v", c.NKeySeedFile, err)
		}
		opts = append(opts, o)
	}
	if c.CredentialsFile != "" {
		if _, err := os.Stat(c.CredentialsFile); err != nil {
			return nil, fmt.Errorf("eventpub/nats: credentials file: %v", err)
		}
		opts = append(opts, natsgo.UserCredentials(c.CredentialsFile))
	}
	if c.TLS != nil {
		opts = append(opts, natsgo.Secure(c.TLS))
	}
	return opts, nil
}

// GoString is what %#v prints: String's description, so that no format
// verb shows a password or token.
func (t *Transport) GoString() string { return "&nats.Transport{" + strconv.Quote(t.String()) + "}" }

// String describes the transport without secrets.
func (t *Transport) String() string {
	mode := "core"
	if t.js != nil {
		mode = "jetstream:" + t.cfg.JetStream.Stream
	}
	return "nats(" + mode + ", " + transport.Redact(t.nc.ConnectedUrlRedacted()) + ")"
}
