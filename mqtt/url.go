package mqtt

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/eventpub/eventpub/transport"
)

func init() {
	transport.Register("mqtt", openURL)
	transport.Register("mqtts", openURL)
}

func openURL(ctx context.Context, rawURL string) (transport.Transport, error) {
	t, err := Open(ctx, rawURL)
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return t, nil
}

// Open connects to the broker in rawURL. The URL forms are:
//
//	mqtt://host:1883                 plain TCP (port 1883 if left out)
//	mqtt://user:pass@host:1883       user name and password
//	mqtts://host:8883                TLS, system roots (port 8883 if left out)
//
// Query parameters: qos=0|1|2 (default 1), client_id=ID, clean=false (a
// persistent session; needs client_id), session_expiry=1h, retain=true,
// keepalive=3s, connect_timeout=2s, publish_timeout=5s, buffer=N
// (SubscriptionBuffer), tls_ca=FILE, tls_cert=FILE, tls_key=FILE (a
// client certificate; tls_* also turn TLS on for mqtt://). Options given
// to Open apply after the URL. WebSocket URLs (ws://, wss://) are not
// offered: the paho client speaks MQTT over a net.Conn and leaves the
// WebSocket layer to the caller.
//
// Open makes one attempt to connect (up to ConnectTimeout, less when ctx
// has an earlier deadline). When the broker does not answer it does not
// fail: it returns a Transport that connects in the background. It fails
// for a bad URL or settings, with ErrAuth when the server refuses the
// credentials (CONNACK "bad user name or password" or "not authorized")
// or the TLS handshake, and with ctx's error when ctx ends first. Errors
// never hold the password.
func Open(ctx context.Context, rawURL string, opts ...Option) (*Transport, error) {
	var cfg Config
	if err := cfg.fromURL(rawURL); err != nil {
		return nil, err
	}
	for _, o := range opts {
		o(&cfg)
	}
	return New(ctx, cfg)
}

// fromURL fills c from an mqtt:// or mqtts:// URL.
func (c *Config) fromURL(rawURL string) error {
	u, err := url.Parse(strings.TrimSpace(rawURL))
	if err != nil {
		return fmt.Errorf("eventpub/mqtt: cannot parse URL %q", transport.Redact(rawURL))
	}
	red := transport.RedactURL(u)
	scheme := strings.ToLower(u.Scheme)
	if scheme != "mqtt" && scheme != "mqtts" {
		return fmt.Errorf("eventpub/mqtt: URL %q: scheme must be mqtt or mqtts", red)
	}
	if u.Host == "" {
		return fmt.Errorf("eventpub/mqtt: URL %q names no server", red)
	}
	if u.Path != "" && u.Path != "/" {
		return fmt.Errorf("eventpub/mqtt: URL %q: an MQTT URL has no path (topics are channel names)", red)
	}
	host := u.Host
	if u.Port() == "" {
		port := "1883"
		if scheme == "mqtts" {
			port = "8883"
		}
		host = net.JoinHostPort(strings.Trim(u.Hostname(), "[]"), port)
	}
	c.Server = scheme + "://" + host
	if _, _, err := splitServer(c.Server); err != nil {
		return fmt.Errorf("eventpub/mqtt: URL %q: %v", red, strings.TrimPrefix(err.Error(), "eventpub/mqtt: "))
	}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	if scheme == "mqtts" && c.TLS == nil {
		c.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	return c.fromQuery(u.Query(), red)
}

func (c *Config) fromQuery(q url.Values, red string) error {
	var caFile, certFile, keyFile string
	for key, vals := range q {
		v := vals[len(vals)-1]
		bad := func(want string) error {
			return fmt.Errorf("eventpub/mqtt: URL %q: parameter %s=%q: want %s", red, key, v, want)
		}
		var err error
		switch key {
		case "qos":
			n, perr := strconv.Atoi(v)
			if perr != nil || n < 0 || n > 2 {
				return bad("0, 1 or 2")
			}
			c.QoS = QoS(n + 1)
		case "client_id":
			c.ClientID = v
		case "clean":
			var clean bool
			clean, err = strconv.ParseBool(v)
			c.KeepSession = !clean
		case "session_expiry":
			c.SessionExpiry, err = time.ParseDuration(v)
		case "retain":
			c.Retain, err = strconv.ParseBool(v)
		case "keepalive":
			c.KeepAlive, err = time.ParseDuration(v)
		case "connect_timeout":
			c.ConnectTimeout, err = time.ParseDuration(v)
		case "publish_timeout":
			c.PublishTimeout, err = time.ParseDuration(v)
		case "buffer":
			c.SubscriptionBuffer, err = strconv.Atoi(v)
		case "tls_ca":
			caFile = v
		case "tls_cert":
			certFile = v
		case "tls_key":
			keyFile = v
		default:
			return fmt.Errorf("eventpub/mqtt: URL %q: unknown parameter %q", red, key)
		}
		if err != nil {
			return bad("a valid value (" + strings.TrimPrefix(err.Error(), "strconv.") + ")")
		}
	}
	return c.loadTLS(caFile, certFile, keyFile, red)
}

// loadTLS builds c.TLS from the tls_ca, tls_cert and tls_key files.
func (c *Config) loadTLS(caFile, certFile, keyFile, red string) error {
	if caFile == "" && certFile == "" && keyFile == "" {
		return nil
	}
	if (certFile == "") != (keyFile == "") {
		return fmt.Errorf("eventpub/mqtt: URL %q: tls_cert and tls_key go together", red)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.TLS != nil {
		cfg = c.TLS.Clone()
	}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return fmt.Errorf("eventpub/mqtt: tls_ca: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("eventpub/mqtt: tls_ca %q holds no PEM certificate", caFile)
		}
		cfg.RootCAs = pool
	}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return fmt.Errorf("eventpub/mqtt: tls_cert/tls_key: %v", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	c.TLS = cfg
	return nil
}

// splitServer splits "mqtt://host:port" into whether it uses TLS and the
// address to dial.
func splitServer(server string) (useTLS bool, addr string, err error) {
	scheme, hostport, ok := strings.Cut(server, "://")
	switch strings.ToLower(scheme) {
	case "mqtt":
	case "mqtts":
		useTLS = true
	default:
		ok = false
	}
	if !ok {
		return false, "", fmt.Errorf("eventpub/mqtt: Server %q is not mqtt://host:port or mqtts://host:port", transport.Redact(server))
	}
	host, port, err := net.SplitHostPort(hostport)
	if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 1 || n > 65535 || host == "" || strings.ContainsAny(host, "/@ ") {
		return false, "", fmt.Errorf("eventpub/mqtt: Server %q: want host:port after the scheme", transport.Redact(server))
	}
	return useTLS, hostport, nil
}
