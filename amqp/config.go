package amqp

import (
	"cmp"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/eventpub/eventpub/internal/cfgfill"
)

// Defaults of Config's fields; a zero field takes its default.
const (
	// DefaultExchange is the topic exchange messages are published to.
	DefaultExchange = "eventpub"
	// DefaultConnectTimeout bounds one connection attempt: TCP, TLS and
	// the AMQP handshake. RabbitMQ answers a refused login only after
	// about 3 s, so a shorter timeout reports refused credentials as
	// ErrUnavailable instead of ErrAuth.
	DefaultConnectTimeout = 5 * time.Second
	// DefaultHeartbeat is the AMQP heartbeat interval asked of the broker;
	// a link silent for three intervals is taken as dead.
	DefaultHeartbeat = 5 * time.Second
	// DefaultProbeTimeout bounds the liveness check run when a call's
	// context ends while it waits on the broker, and by Ping.
	DefaultProbeTimeout = time.Second
	// DefaultWriteTimeout bounds one socket write. The socket cannot honour
	// a caller's context, so on a link that stops taking bytes a call can
	// wait up to this long, after which the connection is dropped and
	// calls fail fast with ErrUnavailable.
	DefaultWriteTimeout = 2 * time.Second
	// DefaultMinBackoff and DefaultMaxBackoff bound the wait between
	// reconnect attempts, doubled after each failure.
	DefaultMinBackoff = 50 * time.Millisecond
	DefaultMaxBackoff = 2 * time.Second
	// DefaultMaxPayload is the payload limit: 16 MiB. RabbitMQ's own limit
	// (max_message_size, 128 MiB by default, 512 MiB at most) is not told
	// to clients, and a message over it closes the publishing channel, so
	// the driver refuses large payloads itself before anything is sent.
	DefaultMaxPayload = 16 << 20
	// MaxPayloadLimit is the largest MaxPayload accepted: RabbitMQ's
	// highest max_message_size.
	MaxPayloadLimit = 512 << 20
	// DefaultSubscriptionBuffer is how many messages a subscription holds
	// unread; it is also the consumer prefetch, so a slow reader makes
	// the broker wait rather than the client's memory grow.
	DefaultSubscriptionBuffer = 1024
)

// Config holds the driver settings. The zero value means "all defaults".
type Config struct {
	// Exchange is the topic exchange publishes go to and subscriptions
	// bind to. It is declared durable on every connect (an existing one of
	// another type is an error). Default DefaultExchange. URL: exchange=.
	Exchange string
	// Queue, when set, switches subscriptions to one durable queue of this
	// name: messages routed to it wait there while no subscriber reads,
	// which makes the transport Persistent. Empty (the default) gives each
	// subscription an exclusive auto-delete queue. URL: queue=.
	Queue string
	// QueueBindings are routing keys or topic patterns the durable Queue
	// is bound to on every connect, before any Subscribe, so that messages
	// on them are kept from the start ("#" keeps every channel). Subscribe
	// adds its own channels as bindings too. Only with Queue. URL: bind=
	// (repeatable).
	QueueBindings []string
	// Mandatory publishes with the mandatory flag: a message that no queue
	// is bound to receive comes back and Publish returns ErrUnroutable
	// instead of the broker dropping it silently. URL: mandatory=true.
	Mandatory bool
	// Transient publishes with delivery mode 1, so a durable queue does
	// not write messages to disk. Default: persistent (mode 2).
	Transient bool

	// ConnectTimeout bounds one connection attempt. Default
	// DefaultConnectTimeout. URL: connect_timeout=.
	ConnectTimeout time.Duration
	// Heartbeat is the AMQP heartbeat interval. Default DefaultHeartbeat.
	// URL: heartbeat=.
	Heartbeat time.Duration
	// ProbeTimeout bounds the liveness check. Default DefaultProbeTimeout.
	ProbeTimeout time.Duration
	// WriteTimeout bounds one socket write. Default DefaultWriteTimeout.
	WriteTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait between reconnect attempts.
	// Defaults DefaultMinBackoff and DefaultMaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// MaxPayload is the largest payload Publish accepts. Default
	// DefaultMaxPayload; at most MaxPayloadLimit. Raise it only as far as
	// the broker's max_message_size.
	MaxPayload int
	// SubscriptionBuffer is how many messages a subscription holds unread.
	// Default DefaultSubscriptionBuffer.
	SubscriptionBuffer int
	// TLS configures TLS (amqps:// URLs; it turns TLS on for amqp:// ones).
	// Nil with amqps:// uses the system roots and the URL's host name.
	TLS *tls.Config
	// ConnectionName is shown in the broker's management UI. Default
	// "eventpub".
	ConnectionName string
}

// Option changes a Config.
type Option func(*Config)

// WithConfig sets every field of c that is not zero, e.g. from a Config
// loaded elsewhere. Fields c leaves zero keep what Open's URL or an earlier
// option set, or else their default; a struct, slice or pointer field that
// c sets is taken whole. Options after it change single fields.
func WithConfig(c Config) Option { return func(dst *Config) { cfgfill.Set(dst, c) } }

// WithExchange sets Config.Exchange.
func WithExchange(name string) Option { return func(c *Config) { c.Exchange = name } }

// WithQueue sets Config.Queue (durable named-queue mode) and, optionally,
// Config.QueueBindings.
func WithQueue(name string, bindings ...string) Option {
	return func(c *Config) { c.Queue, c.QueueBindings = name, bindings }
}

// WithMandatory sets Config.Mandatory.
func WithMandatory(on bool) Option { return func(c *Config) { c.Mandatory = on } }

// WithTransient sets Config.Transient.
func WithTransient(on bool) Option { return func(c *Config) { c.Transient = on } }

// WithConnectTimeout sets Config.ConnectTimeout.
func WithConnectTimeout(d time.Duration) Option { return func(c *Config) { c.ConnectTimeout = d } }

// WithHeartbeat sets Config.Heartbeat.
func WithHeartbeat(d time.Duration) Option { return func(c *Config) { c.Heartbeat = d } }

// WithBackoff sets Config.MinBackoff and Config.MaxBackoff.
func WithBackoff(lo, hi time.Duration) Option {
	return func(c *Config) { c.MinBackoff, c.MaxBackoff = lo, hi }
}

// WithMaxPayload sets Config.MaxPayload.
func WithMaxPayload(n int) Option { return func(c *Config) { c.MaxPayload = n } }

// WithSubscriptionBuffer sets Config.SubscriptionBuffer.
func WithSubscriptionBuffer(n int) Option { return func(c *Config) { c.SubscriptionBuffer = n } }

// WithTLS sets Config.TLS.
func WithTLS(cfg *tls.Config) Option { return func(c *Config) { c.TLS = cfg } }

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	c.Exchange = cmp.Or(c.Exchange, DefaultExchange)
	c.ConnectTimeout = cmp.Or(c.ConnectTimeout, DefaultConnectTimeout)
	c.Heartbeat = cmp.Or(c.Heartbeat, DefaultHeartbeat)
	c.ProbeTimeout = cmp.Or(c.ProbeTimeout, DefaultProbeTimeout)
	c.WriteTimeout = cmp.Or(c.WriteTimeout, DefaultWriteTimeout)
	c.MinBackoff = cmp.Or(c.MinBackoff, DefaultMinBackoff)
	c.MaxBackoff = cmp.Or(c.MaxBackoff, DefaultMaxBackoff)
	c.MaxPayload = cmp.Or(c.MaxPayload, DefaultMaxPayload)
	c.SubscriptionBuffer = cmp.Or(c.SubscriptionBuffer, DefaultSubscriptionBuffer)
	c.ConnectionName = cmp.Or(c.ConnectionName, "eventpub")
	return c
}

// Validate reports every setting that cannot work, after defaults, joined
// with errors.Join.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("eventpub/amqp: "+format, args...))
	}
	if err := validName("Exchange", c.Exchange); err != nil {
		errs = append(errs, err)
	}
	if c.Queue != "" {
		if err := validName("Queue", c.Queue); err != nil {
			errs = append(errs, err)
		}
	} else if len(c.QueueBindings) > 0 {
		bad("QueueBindings are set without a Queue to bind")
	}
	for _, b := range c.QueueBindings {
		if err := validPattern(b); err != nil {
			bad("QueueBindings entry %q: %s", b, strings.TrimPrefix(err.Error(), "eventpub: invalid channel: eventpub/amqp: "))
		}
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"ConnectTimeout", c.ConnectTimeout}, {"Heartbeat", c.Heartbeat}, {"ProbeTimeout", c.ProbeTimeout},
		{"WriteTimeout", c.WriteTimeout}, {"MinBackoff", c.MinBackoff}, {"MaxBackoff", c.MaxBackoff}} {
		if d.v < 0 {
			bad("%s is %v; it must be positive", d.name, d.v)
		}
	}
	if c.Heartbeat > 0 && c.Heartbeat < time.Second {
		bad("Heartbeat is %v; AMQP counts it in whole seconds, so it must be at least 1s", c.Heartbeat)
	}
	if c.MaxBackoff < c.MinBackoff {
		bad("MaxBackoff %v is below MinBackoff %v", c.MaxBackoff, c.MinBackoff)
	}
	if c.MaxPayload < 0 || c.MaxPayload > MaxPayloadLimit {
		bad("MaxPayload is %d; it must be between 1 and 512 MiB (%d bytes, RabbitMQ's largest max_message_size)", c.MaxPayload, MaxPayloadLimit)
	}
	if c.SubscriptionBuffer < 0 || c.SubscriptionBuffer > 65535 {
		bad("SubscriptionBuffer is %d; it must be between 1 and 65535 (the AMQP prefetch count)", c.SubscriptionBuffer)
	}
	return errors.Join(errs...)
}

// validName checks an exchange or queue name: an AMQP short string of at
// most 255 bytes without control characters. Names starting with "amq."
// are the broker's own and it refuses to declare them.
func validName(what, name string) error {
	if len(name) > 255 {
		return fmt.Errorf("eventpub/amqp: %s name is %d bytes, over AMQP's 255", what, len(name))
	}
	for i := 0; i < len(name); i++ {
		if name[i] < 0x20 || name[i] == 0x7f {
			return fmt.Errorf("eventpub/amqp: %s name %q has a control character", what, name)
		}
	}
	return nil
}
