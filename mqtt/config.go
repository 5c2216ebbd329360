package mqtt

import (
	"cmp"
	"crypto/tls"
	"errors"
	"fmt"
	"time"
)

// Defaults used where a Config field is left zero. They are applied in one
// place, Config.setDefaults.
const (
	DefaultConnectTimeout     = 2 * time.Second
	DefaultReconnectWait      = 50 * time.Millisecond
	DefaultMaxReconnectWait   = 500 * time.Millisecond
	DefaultKeepAlive          = 3 * time.Second
	DefaultPublishTimeout     = 5 * time.Second
	DefaultSessionExpiry      = time.Hour
	DefaultSubscriptionBuffer = 4096
)

// MaxPacketSize is the largest MQTT packet the protocol allows (256 MiB
// less one byte). A server may announce a smaller Maximum Packet Size in
// its CONNACK; the driver then keeps to that.
const MaxPacketSize = 268435455

// QoS is the MQTT quality of service a Config asks for. The zero value
// means the default, QoS1.
type QoS int

const (
	// QoSDefault is QoS1.
	QoSDefault QoS = iota
	// QoS0 is at most once: Publish returns once the message is written
	// to the connection; nothing is acknowledged.
	QoS0
	// QoS1 is at least once: Publish returns when the server's PUBACK
	// arrives. A message whose PUBACK was lost with the link is sent again
	// by the caller's retry and may arrive twice.
	QoS1
	// QoS2 is exactly once between client and server: Publish returns
	// when PUBCOMP arrives (two round trips).
	QoS2
)

// level is the QoS as the byte on the wire.
func (q QoS) level() byte {
	switch q {
	case QoS0:
		return 0
	case QoS2:
		return 2
	}
	return 1
}

// Config holds every setting of the driver. Zero fields take the defaults
// above.
type Config struct {
	// Server is the broker as "mqtt://host:port" or "mqtts://host:port"
	// (TLS). Open fills it from its URL.
	Server string
	// ClientID identifies the session on the server. Default: a random
	// "eventpub-…" id per transport. Two live clients with one id make
	// the server disconnect the older one, so give each process its own.
	ClientID string
	// KeepSession asks for a persistent session (Clean Start off, URL
	// clean=false): the server keeps the session's subscriptions and
	// queues QoS 1 and 2 messages for them while the client is away, for
	// SessionExpiry, and delivers them on reconnect. It needs a ClientID.
	KeepSession bool
	// SessionExpiry is how long the server keeps a persistent session
	// after the link drops. Default 1 h; only used with KeepSession.
	SessionExpiry time.Duration
	// QoS for publishing and for subscriptions. Default QoS1.
	QoS QoS
	// Retain sets the retain flag on every message published: the server
	// keeps the last one per topic for later subscribers.
	Retain bool

	// Username and Password authenticate (also mqtt://user:pass@host).
	Username, Password string
	// TLS, when set, is used for the connection. mqtts:// URLs without it
	// use the system roots.
	TLS *tls.Config

	// ConnectTimeout bounds one attempt to connect (dial, TLS and CONNACK).
	// Default 2 s.
	ConnectTimeout time.Duration
	// ReconnectWait is the first pause before reconnecting; it doubles
	// after each failed attempt up to MaxReconnectWait, with up to a quarter
	// more as jitter. Defaults 50 ms and
	// 500 ms. Reconnecting never gives up until Close.
	ReconnectWait, MaxReconnectWait time.Duration
	// KeepAlive is the MQTT keep-alive: a link silent this long is pinged,
	// and one that does not answer is dropped and reconnected, which is
	// how a stalled link is found (within about twice KeepAlive). Default
	// 3 s; whole seconds on the wire.
	KeepAlive time.Duration
	// PublishTimeout bounds the wait for an acknowledgement: always for
	// Publish, and for PublishBatch, Subscribe and Ping when their
	// context has no deadline. Default 5 s.
	PublishTimeout time.Duration
	// SubscriptionBuffer is how many messages a Subscription holds for a
	// slow reader. Past it, at QoS 0 messages for that subscription are
	// dropped; at QoS 1 and 2 delivery on the transport waits for the
	// reader (the server holds the rest), so nothing is lost but one
	// unread subscription holds up the transport's others. Default 4096.
	SubscriptionBuffer int
}

// String describes c without its password.
func (c Config) String() string {
	return fmt.Sprintf("mqtt.Config{Server:%q ClientID:%q KeepSession:%v QoS:%d Username:%q Password:%s TLS:%v}",
		c.Server, c.ClientID, c.KeepSession, c.QoS.level(), c.Username, redacted(c.Password), c.TLS != nil)
}

// GoString is String, so that %#v does not print the password either.
func (c Config) GoString() string { return c.String() }

func redacted(s string) string {
	if s == "" {
		return `""`
	}
	return "xxxxx"
}

// Option changes a Config.
type Option func(*Config)

// WithConfig replaces the whole configuration, all but Server when c has
// none: every setting Open took from its URL and every option before it.
func WithConfig(c Config) Option {
	return func(dst *Config) {
		server := dst.Server
		*dst = c
		dst.Server = cmp.Or(dst.Server, server)
	}
}

// WithTLS uses cfg for the connection (also for mqtt:// URLs).
func WithTLS(cfg *tls.Config) Option { return func(c *Config) { c.TLS = cfg } }

// WithConnectTimeout sets Config.ConnectTimeout (default 2 s).
func WithConnectTimeout(d time.Duration) Option { return func(c *Config) { c.ConnectTimeout = d } }

// WithQoS sets the QoS level, 0, 1 or 2, for publishing and subscribing.
// Config.Validate refuses another level.
func WithQoS(level int) Option {
	return func(c *Config) { c.QoS = QoS(level + 1) }
}

// WithClientID sets Config.ClientID.
func WithClientID(id string) Option { return func(c *Config) { c.ClientID = id } }

// WithPersistentSession asks for a persistent session under clientID that
// the server keeps for expiry after the link drops (0: the default 1 h).
func WithPersistentSession(clientID string, expiry time.Duration) Option {
	return func(c *Config) { c.ClientID, c.KeepSession, c.SessionExpiry = clientID, true, expiry }
}

// WithUserPassword authenticates with a user name and password.
func WithUserPassword(user, password string) Option {
	return func(c *Config) { c.Username, c.Password = user, password }
}

// WithKeepAlive sets Config.KeepAlive (default 3 s).
func WithKeepAlive(d time.Duration) Option { return func(c *Config) { c.KeepAlive = d } }

// WithReconnectWait sets the first and the largest pause between
// reconnect attempts (defaults 50 ms and 500 ms).
func WithReconnectWait(first, max time.Duration) Option {
	return func(c *Config) { c.ReconnectWait, c.MaxReconnectWait = first, max }
}

// WithPublishTimeout sets Config.PublishTimeout (default 5 s).
func WithPublishTimeout(d time.Duration) Option { return func(c *Config) { c.PublishTimeout = d } }

// WithSubscriptionBuffer sets Config.SubscriptionBuffer (default 4096).
func WithSubscriptionBuffer(n int) Option { return func(c *Config) { c.SubscriptionBuffer = n } }

// WithRetain sets the retain flag on every published message.
func WithRetain() Option { return func(c *Config) { c.Retain = true } }

func (c *Config) setDefaults() {
	c.ConnectTimeout = cmp.Or(c.ConnectTimeout, DefaultConnectTimeout)
	c.ReconnectWait = cmp.Or(c.ReconnectWait, DefaultReconnectWait)
	c.MaxReconnectWait = cmp.Or(c.MaxReconnectWait, DefaultMaxReconnectWait)
	c.KeepAlive = cmp.Or(c.KeepAlive, DefaultKeepAlive)
	c.PublishTimeout = cmp.Or(c.PublishTimeout, DefaultPublishTimeout)
	c.SubscriptionBuffer = cmp.Or(c.SubscriptionBuffer, DefaultSubscriptionBuffer)
	if c.KeepSession {
		c.SessionExpiry = cmp.Or(c.SessionExpiry, DefaultSessionExpiry)
	}
}

// Validate reports every setting that cannot work, each naming the field,
// joined with errors.Join; nil when all is well.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("eventpub/mqtt: "+format, args...))
	}
	if c.Server == "" {
		bad("Server is empty (want mqtt://host:port or mqtts://host:port)")
	} else if _, _, err := splitServer(c.Server); err != nil {
		errs = append(errs, err)
	}
	if c.QoS < QoSDefault || c.QoS > QoS2 {
		bad("QoS level %d is not 0, 1 or 2", int(c.QoS)-1)
	}
	if c.KeepSession && c.ClientID == "" {
		bad("KeepSession needs a ClientID: a persistent session is found again by its client id")
	}
	if len(c.ClientID) > 65535 {
		bad("ClientID is %d bytes, over MQTT's 65535", len(c.ClientID))
	}
	if c.Password != "" && c.Username == "" {
		bad("a Password needs a Username")
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"ConnectTimeout", c.ConnectTimeout}, {"ReconnectWait", c.ReconnectWait},
		{"MaxReconnectWait", c.MaxReconnectWait}, {"KeepAlive", c.KeepAlive},
		{"PublishTimeout", c.PublishTimeout}, {"SessionExpiry", c.SessionExpiry},
	} {
		if d.v < 0 {
			bad("%s %v is negative", d.name, d.v)
		}
	}
	if c.KeepAlive > 65535*time.Second {
		bad("KeepAlive %v is over MQTT's 65535 s", c.KeepAlive)
	}
	if c.SessionExpiry > (1<<32-1)*time.Second {
		bad("SessionExpiry %v is over MQTT's 2^32-1 s", c.SessionExpiry)
	}
	if c.MaxReconnectWait > 0 && c.ReconnectWait > c.MaxReconnectWait {
		bad("ReconnectWait %v is over MaxReconnectWait %v", c.ReconnectWait, c.MaxReconnectWait)
	}
	if c.SubscriptionBuffer < 0 {
		bad("SubscriptionBuffer %d is negative", c.SubscriptionBuffer)
	}
	return errors.Join(errs...)
}
