package kafka

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/eventpub/eventpub/internal/tlsurl"
	"github.com/eventpub/eventpub/transport"
)

func init() { transport.Register("kafka", openURL) }

func openURL(ctx context.Context, rawURL string) (transport.Transport, error) {
	t, err := Open(ctx, rawURL)
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return t, nil
}

// Open connects to the brokers in rawURL (see Connect for what it waits
// for). The URL forms are:
//
//	kafka://host:9092                     one seed broker (port 9092 if left out)
//	kafka://a:9092,b:9092,c:9092          several seed brokers
//	kafka://user:pass@host:9092           SASL PLAIN (sasl= picks SCRAM)
//
// Query parameters: mapping=escape|dots|keep, create=true|false (false:
// topics must exist), partitions=N, replication=N, from=end|start,
// group=NAME, buffer=N, max_batch_bytes=N, publish_timeout=10s,
// connect_timeout=2s, client_id=NAME, sasl=plain|scram-sha-256|scram-sha-512,
// tls=true, tls_ca=FILE, tls_cert=FILE, tls_key=FILE. Options given to Open
// apply after the URL. Errors never hold the password.
func Open(ctx context.Context, rawURL string, opts ...Option) (*Transport, error) {
	var cfg Config
	if err := cfg.fromURL(rawURL); err != nil {
		return nil, err
	}
	for _, o := range opts {
		o(&cfg)
	}
	return Connect(ctx, cfg)
}

// fromURL fills c from a kafka:// URL.
func (c *Config) fromURL(rawURL string) error {
	red := transport.Redact(rawURL)
	scheme, rest, ok := strings.Cut(strings.TrimSpace(rawURL), "://")
	if !ok || !strings.EqualFold(scheme, "kafka") {
		return fmt.Errorf("eventpub/kafka: URL %q: scheme must be kafka", red)
	}
	authority, tail := rest, ""
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority, tail = rest[:i], rest[i:]
	}
	userinfo, hosts := "", authority
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		userinfo, hosts = authority[:i+1], authority[i+1:]
	}
	// Parse with one stand-in host; url.Parse cannot check a host list.
	u, err := url.Parse("kafka://" + userinfo + "host" + tail)
	if err != nil {
		return fmt.Errorf("eventpub/kafka: cannot parse URL %q", red)
	}
	if u.Path != "" && u.Path != "/" {
		return fmt.Errorf("eventpub/kafka: URL %q: a Kafka URL has no path", red)
	}
	if hosts == "" {
		return fmt.Errorf("eventpub/kafka: URL %q names no broker", red)
	}
	c.Brokers = c.Brokers[:0]
	for _, h := range strings.Split(hosts, ",") {
		h = strings.TrimSpace(h)
		host, port, err := net.SplitHostPort(h)
		if err != nil {
			host, port = strings.Trim(h, "[]"), DefaultPort
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || host == "" || strings.ContainsAny(host, "/@ ") {
			return fmt.Errorf("eventpub/kafka: URL %q: broker %q is not host:port", red, h)
		}
		c.Brokers = append(c.Brokers, net.JoinHostPort(host, port))
	}
	if u.User != nil {
		c.User = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	return c.fromQuery(u.Query(), red)
}

func (c *Config) fromQuery(q url.Values, red string) error {
	var files tlsurl.Files
	useTLS := false
	var errs []error
	for key, vals := range q {
		v := vals[len(vals)-1]
		if files.Take(key, v) {
			continue
		}
		bad := func(want string) {
			errs = append(errs, fmt.Errorf("eventpub/kafka: URL %q: parameter %s=%q: want %s", red, key, v, want))
		}
		var err error
		switch key {
		case "mapping":
			switch v {
			case "escape":
				c.Mapping = Escape
			case "dots":
				c.Mapping = ColonToDot
			case "keep":
				c.Mapping = KeepNames
			default:
				bad("escape, dots or keep")
			}
		case "create":
			var b bool
			b, err = strconv.ParseBool(v)
			c.RequireTopics = !b
		case "partitions":
			var n int64
			n, err = strconv.ParseInt(v, 10, 32)
			c.Partitions = int32(n)
		case "replication":
			var n int64
			n, err = strconv.ParseInt(v, 10, 16)
			c.ReplicationFactor = int16(n)
		case "from":
			switch v {
			case "end":
				c.From = FromEnd
			case "start":
				c.From = FromStart
			default:
				bad("end or start")
			}
		case "group":
			c.Group = v
		case "buffer":
			c.SubscriptionBuffer, err = strconv.Atoi(v)
		case "max_batch_bytes":
			var n int64
			n, err = strconv.ParseInt(v, 10, 32)
			c.MaxRecordBatchBytes = int32(n)
		case "publish_timeout":
			c.PublishTimeout, err = time.ParseDuration(v)
		case "connect_timeout":
			c.ConnectTimeout, err = time.ParseDuration(v)
		case "client_id":
			c.ClientID = v
		case "sasl":
			switch strings.ToLower(v) {
			case "plain":
				c.SASL = SASLPlain
			case "scram-sha-256":
				c.SASL = SASLScramSHA256
			case "scram-sha-512":
				c.SASL = SASLScramSHA512
			default:
				bad("plain, scram-sha-256 or scram-sha-512")
			}
		case "tls":
			useTLS, err = strconv.ParseBool(v)
		default:
			errs = append(errs, fmt.Errorf("eventpub/kafka: URL %q: unknown parameter %q", red, key))
		}
		if err != nil {
			bad("a valid value")
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if useTLS || files.Any() {
		cfg, err := files.Config("eventpub/kafka")
		if err != nil {
			return err
		}
		c.TLS = cfg
	}
	return nil
}
