package nats

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/eventpub/eventpub/internal/tlsurl"
	"github.com/eventpub/eventpub/transport"
)

// URL parsing: how a nats:// or tls:// URL (servers, credentials, query
// parameters, TLS files) becomes a Config.

// parseURL accepts a comma-separated server list in which later servers may
// repeat the scheme and any server may leave out its port.
func parseURL(rawURL string) (*url.URL, error) {
	s := strings.TrimSpace(rawURL)
	for _, scheme := range []string{",nats://", ",tls://", ", nats://", ", tls://"} {
		s = strings.ReplaceAll(s, scheme, ",")
	}
	bad := fmt.Errorf("eventpub/nats: cannot parse URL %q", transport.Redact(rawURL))
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return nil, bad
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
	u, err := url.Parse(scheme + "://" + userinfo + "host" + tail)
	if err != nil {
		return nil, bad
	}
	u.Host = hosts
	return u, nil
}

// fromURL fills c from a nats:// or tls:// URL.
func (c *Config) fromURL(u *url.URL) error {
	red := transport.RedactURL(u)
	scheme := strings.ToLower(u.Scheme)
	if scheme != "nats" && scheme != "tls" {
		return fmt.Errorf("eventpub/nats: URL %q: scheme must be nats or tls", red)
	}
	if u.Host == "" {
		return fmt.Errorf("eventpub/nats: URL %q names no server", red)
	}
	if u.Path != "" && u.Path != "/" {
		return fmt.Errorf("eventpub/nats: URL %q: a NATS URL has no path", red)
	}
	c.Servers = c.Servers[:0]
	for _, h := range strings.Split(u.Host, ",") {
		h = strings.TrimSpace(h)
		if h == "" {
			return fmt.Errorf("eventpub/nats: URL %q has an empty server in its list", red)
		}
		host, port, err := net.SplitHostPort(h)
		if err != nil {
			host, port = strings.Trim(h, "[]"), "4222"
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || host == "" || strings.ContainsAny(host, "/@ ") {
			return fmt.Errorf("eventpub/nats: URL %q: server %q is not host:port", red, transport.Redact(scheme + "://" + h)[len(scheme)+3:])
		}
		h = net.JoinHostPort(host, port)
		c.Servers = append(c.Servers, scheme+"://"+h)
	}
	if u.User != nil {
		if pw, ok := u.User.Password(); ok {
			c.User, c.Password = u.User.Username(), pw
		} else {
			c.Token = u.User.Username()
		}
	}
	if scheme == "tls" && c.TLS == nil {
		c.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	// u.Query drops a malformed pair without a word: parse it strictly.
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return fmt.Errorf("eventpub/nats: URL %q: malformed query: %v", red, err)
	}
	return c.fromQuery(q, red)
}

func (c *Config) fromQuery(q url.Values, red string) error {
	var files tlsurl.Files
	jsOff := false // jetstream=false
	js := func() *JetStreamConfig {
		if c.JetStream == nil {
			c.JetStream = &JetStreamConfig{}
		}
		return c.JetStream
	}
	for key, vals := range q {
		v := vals[len(vals)-1]
		if files.Take(key, v) {
			continue
		}
		bad := func(want string) error {
			return fmt.Errorf("eventpub/nats: URL %q: parameter %s=%q: want %s", red, key, v, want)
		}
		var err error
		switch key {
		case "jetstream":
			if v == "" {
				// Not the default stream: an empty value is a mistake.
				return bad("a stream name, true or false")
			}
			if b, perr := strconv.ParseBool(v); perr == nil {
				if b {
					js()
				} else {
					jsOff = true
				}
			} else {
				js().Stream = v
			}
		case "subjects":
			js().Subjects = strings.Split(v, ",")
		case "replicas":
			js().Replicas, err = strconv.Atoi(v)
		case "max_age":
			js().MaxAge, err = time.ParseDuration(v)
		case "max_bytes":
			js().MaxBytes, err = strconv.ParseInt(v, 10, 64)
		case "start":
			switch v {
			case "new":
				js().Start = StartNew
			case "all":
				js().Start = StartAll
			default:
				return bad("new or all")
			}
		case "mapping":
			switch v {
			case "keep":
				c.Mapping = KeepNames
			case "dots":
				c.Mapping = ColonToDot
			default:
				return bad("keep or dots")
			}
		case "flush":
			c.Flush, err = strconv.ParseBool(v)
		case "reconnect_buffer":
			c.ReconnectBuffer, err = strconv.Atoi(v)
		case "publish_timeout":
			c.PublishTimeout, err = time.ParseDuration(v)
		case "name":
			c.Name = v
		case "token":
			c.Token = v
		case "creds":
			c.CredentialsFile = v
		case "nkey":
			c.NKeySeedFile = v
		default:
			return fmt.Errorf("eventpub/nats: URL %q: unknown parameter %q", red, key)
		}
		if err != nil {
			return bad("a valid value")
		}
	}
	if jsOff && c.JetStream != nil {
		return fmt.Errorf("eventpub/nats: URL %q: jetstream=false with JetStream parameters (subjects, replicas, max_age, max_bytes, start)", red)
	}
	if files.Any() {
		cfg, err := files.Config("eventpub/nats")
		if err != nil {
			return err
		}
		c.TLS = cfg
	}
	return nil
}
