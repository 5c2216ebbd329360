package amqp

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/eventpub/eventpub/internal/tlsurl"
	"github.com/eventpub/eventpub/transport"
)

// endpoint is where and as whom to connect, parsed from a URL.
type endpoint struct {
	tls      bool
	addr     string // host:port
	host     string // for TLS ServerName
	user     string
	password string
	vhost    string
	redacted string // the URL with the password hidden, for errors
}

// parseURL reads an amqp:// or amqps:// URL into ep and the Config
// fields its query sets (only those cfg leaves zero). Its errors never
// contain the password.
func parseURL(rawURL string, cfg *Config) (endpoint, error) {
	var ep endpoint
	u, err := url.Parse(rawURL)
	if err != nil {
		return ep, fmt.Errorf("eventpub/amqp: cannot parse URL %q", transport.Redact(rawURL))
	}
	ep.redacted = transport.RedactURL(u)
	red := ep.redacted
	switch strings.ToLower(u.Scheme) {
	case "amqp":
	case "amqps":
		ep.tls = true
	default:
		// Not echoed: an odd URL may hide its password where Redact misses it.
		return ep, fmt.Errorf("eventpub/amqp: URL has scheme %q; want amqp or amqps", u.Scheme)
	}
	ep.host = u.Hostname()
	if ep.host == "" {
		ep.host = "localhost"
	}
	port := u.Port()
	if port == "" {
		port = "5672"
		if ep.tls {
			port = "5671"
		}
	} else if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return ep, fmt.Errorf("eventpub/amqp: URL %q has a bad port %q", red, port)
	}
	ep.addr = net.JoinHostPort(ep.host, port)
	ep.user, ep.password = "guest", "guest"
	if u.User != nil {
		ep.user = u.User.Username()
		ep.password, _ = u.User.Password()
	}
	// As in RabbitMQ's URI spec: no path is the vhost "/", and the path
	// after the first '/' is the vhost, percent-decoded ("/%2f" is "/").
	ep.vhost = "/"
	if p := u.EscapedPath(); p != "" && p != "/" {
		v, err := url.PathUnescape(p[1:])
		if err != nil || strings.Contains(p[1:], "/") {
			return ep, fmt.Errorf("eventpub/amqp: URL %q: the vhost must be one path segment (escape '/' as %%2f)", red)
		}
		ep.vhost = v
	}
	var files tlsurl.Files
	for key, vals := range u.Query() {
		v := vals[len(vals)-1]
		if files.Take(key, v) {
			continue
		}
		var perr error
		dur := func(dst *time.Duration) {
			if *dst == 0 {
				*dst, perr = time.ParseDuration(v)
			}
		}
		switch key {
		case "exchange":
			if cfg.Exchange == "" {
				cfg.Exchange = v
			}
		case "queue":
			if cfg.Queue == "" {
				cfg.Queue = v
			}
		case "bind":
			if len(cfg.QueueBindings) == 0 {
				for _, b := range vals {
					cfg.QueueBindings = append(cfg.QueueBindings, strings.Split(b, ",")...)
				}
			}
		case "mandatory":
			var b bool
			b, perr = strconv.ParseBool(v)
			cfg.Mandatory = cfg.Mandatory || b
		case "connect_timeout":
			dur(&cfg.ConnectTimeout)
		case "heartbeat":
			dur(&cfg.Heartbeat)
		case "max_payload":
			if cfg.MaxPayload == 0 {
				cfg.MaxPayload, perr = strconv.Atoi(v)
			}
		case "name":
			if cfg.ConnectionName == "" {
				cfg.ConnectionName = v
			}
		default:
			return ep, fmt.Errorf("eventpub/amqp: URL %q: unknown parameter %q (known: exchange, queue, bind, mandatory, connect_timeout, heartbeat, max_payload, name, tls_ca, tls_cert, tls_key)", red, key)
		}
		if perr != nil {
			return ep, fmt.Errorf("eventpub/amqp: URL %q: %s=%q is not a valid value", red, key, v)
		}
	}
	if files.Any() && cfg.TLS == nil {
		tc, err := files.Config("eventpub/amqp")
		if err != nil {
			return ep, err
		}
		cfg.TLS = tc
		ep.tls = true
	}
	return ep, nil
}
