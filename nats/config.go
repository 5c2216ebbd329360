package nats

import (
	"cmp"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/eventpub/eventpub/internal/cfgfill"
	"github.com/eventpub/eventpub/transport"
	"github.com/nats-io/nats.go/jetstream"
)

// Defaults used where a Config field is left zero. They are applied in one
// place, Config.setDefaults.
const (
	DefaultName           = "eventpub"
	DefaultConnectTimeout = 2 * time.Second
	DefaultReconnectWait  = 250 * time.Millisecond
	DefaultPublishTimeout = 5 * time.Second
	// DefaultSubscriptionBuffer is how many messages a Subscription holds
	// for a slow reader when Config.SubscriptionBuffer is zero.
	DefaultSubscriptionBuffer = 4096

	DefaultStream     = "EVENTPUB"
	DefaultMaxAge     = 24 * time.Hour
	DefaultMaxBytes   = 1 << 30 // 1 GiB
	DefaultReplicas   = 1
	DefaultMaxPending = 4096
)

// DefaultSubBuffer is the old name of DefaultSubscriptionBuffer.
//
// Deprecated: use DefaultSubscriptionBuffer.
const DefaultSubBuffer = DefaultSubscriptionBuffer

// Mapping says how channel names become NATS subjects.
type Mapping int

const (
	// KeepNames uses the channel name as the subject unchanged, so
	// "codeworm:events" is the subject "codeworm:events" (one token) and the
	// same channel names work on Redis and on NATS.
	KeepNames Mapping = iota
	// ColonToDot turns every ':' into '.', so "codeworm:events" becomes
	// "codeworm.events" and subscribers may use "codeworm.>". Received
	// subjects map back ('.' to ':'), so a channel name holding '.' is
	// refused with ErrInvalidChannel: it would not come back as sent.
	ColonToDot
)

// Config holds every setting of the driver. The zero value is a core-NATS
// transport with the defaults above; set JetStream for JetStream mode.
type Config struct {
	// Servers are the server URLs (nats://host:port or tls://host:port).
	// Open fills it from its URL; New ignores it.
	Servers []string
	// Name is the client name the server shows. Default "eventpub".
	Name string
	// Mapping turns channel names into subjects. Default KeepNames.
	Mapping Mapping

	// Flush makes a core-mode Publish wait until the server has processed
	// the message (one round trip) instead of returning once nats.go has
	// buffered it. JetStream mode always waits for the stream's ack.
	Flush bool
	// PublishTimeout bounds a Publish that waits (Flush or JetStream ack)
	// when its context has no deadline. Default 5 s. On connections Open
	// makes it also bounds one socket write: nats.go writes holding the
	// lock every publish needs, so on a link that stalls with the
	// connection still open a core Publish can block for up to
	// PublishTimeout whatever its context (twice that when its own write
	// is the next to stall), after which the connection reconnects and
	// Publish fails fast with ErrUnavailable.
	PublishTimeout time.Duration

	// ReconnectBuffer is how many bytes of core-mode publishes nats.go keeps
	// while it reconnects, sent once it is back. 0 (the default) keeps none:
	// a Publish while the connection is down fails at once with
	// ErrUnavailable, so the caller (or eventpub's async queue) decides what
	// to hold. A positive value makes Publish succeed while down until that
	// many bytes wait, then fail with ErrUnavailable; buffered messages are
	// lost if the process ends first. JetStream mode never buffers: an ack
	// cannot come while the connection is down.
	ReconnectBuffer int
	// ConnectTimeout bounds one attempt to reach one server (dial and
	// handshake). Default 2 s. Open's context can shorten the first
	// attempt only; every reconnect gets the whole ConnectTimeout.
	ConnectTimeout time.Duration
	// ReconnectWait is the pause between reconnect rounds (nats.go adds
	// jitter). Default 250 ms. Reconnecting never gives up until Close.
	ReconnectWait time.Duration

	// SubscriptionBuffer is how many messages a Subscription holds for a
	// slow reader. Past it, core mode drops messages (at most once) and
	// JetStream mode pauses delivery. Default 4096.
	SubscriptionBuffer int

	// Token authenticates with a token (also nats://TOKEN@host).
	Token string
	// User and Password authenticate with a user name and password (also
	// nats://user:pass@host).
	User, Password string
	// NKeySeedFile is a file holding an NKey user seed (SU…).
	NKeySeedFile string
	// CredentialsFile is a .creds file holding a user JWT and its seed.
	CredentialsFile string
	// TLS, when set, is used for the connection (tls:// URLs without it use
	// the system roots).
	TLS *tls.Config

	// JetStream, when set, switches to JetStream mode: publishes are stored
	// in a stream and acknowledged, subscribers can replay.
	JetStream *JetStreamConfig
}

// JetStreamConfig configures JetStream mode. Zero fields take the defaults.
type JetStreamConfig struct {
	// Stream is the stream that stores the channels. Default "EVENTPUB".
	// If it exists its settings are kept; only missing subjects are added.
	Stream string
	// Subjects are subjects (wildcards allowed) the stream captures from the
	// start. A channel whose subject no stream captures is added to Stream
	// the first time it is used, unless FixedSubjects is set.
	Subjects []string
	// FixedSubjects stops the driver from adding subjects to the stream:
	// a channel that no stream captures gives ErrInvalidChannel.
	FixedSubjects bool
	// Retention of a stream the driver creates. Default limits-based.
	Retention jetstream.RetentionPolicy
	// MaxAge of a stream the driver creates. Default 24 h.
	MaxAge time.Duration
	// MaxBytes of a stream the driver creates. Default 1 GiB.
	MaxBytes int64
	// Replicas of a stream the driver creates. Default 1.
	Replicas int
	// Storage of a stream the driver creates. Default file storage.
	Storage jetstream.StorageType
	// Duplicates is the de-duplication window for message ids. Default:
	// the server's (2 minutes).
	Duplicates time.Duration
	// Start says where a Subscription starts. Default StartAll, as for any
	// JetStream consumer: it replays what the stream holds for the channel,
	// then delivers new messages, which is what makes JetStream mode
	// Persistent. StartNew gives pub/sub behaviour (new messages only).
	Start Start
	// MaxPending caps acks awaited at once by Publish, PublishBatch and
	// the batches StartBatch has started, all together (eventpub's async
	// queue keeps up to 4096 in flight); a send past it waits a moment for
	// acks, then fails with transport.ErrUnavailable. Default 4096.
	MaxPending int
}

// Start says where a JetStream subscription begins.
type Start int

const (
	// StartAll replays every message the stream still holds, then new ones.
	StartAll Start = iota
	// StartNew delivers only messages published after Subscribe.
	StartNew
)

// Option changes a Config.
type Option func(*Config)

// WithConfig sets every field of c that is not zero, e.g. from a Config
// loaded elsewhere. Fields c leaves zero keep what Open's URL or an earlier
// option set, or else their default; a struct, slice or pointer field that
// c sets is taken whole. Options after it change single fields.
func WithConfig(c Config) Option { return func(dst *Config) { cfgfill.Set(dst, c) } }

// WithJetStream switches to JetStream mode with c (zero fields take defaults).
func WithJetStream(c JetStreamConfig) Option { return func(dst *Config) { dst.JetStream = &c } }

// WithSubjectMapping sets how channel names become subjects.
func WithSubjectMapping(m Mapping) Option { return func(c *Config) { c.Mapping = m } }

// WithFlush makes core-mode Publish wait until the server has the message.
func WithFlush() Option { return func(c *Config) { c.Flush = true } }

// WithReconnectBuffer keeps up to n bytes of core-mode publishes while
// reconnecting (see Config.ReconnectBuffer); 0 keeps none.
func WithReconnectBuffer(n int) Option { return func(c *Config) { c.ReconnectBuffer = n } }

// WithPublishTimeout sets Config.PublishTimeout (default 5 s).
func WithPublishTimeout(d time.Duration) Option { return func(c *Config) { c.PublishTimeout = d } }

// WithConnectTimeout sets Config.ConnectTimeout (default 2 s).
func WithConnectTimeout(d time.Duration) Option { return func(c *Config) { c.ConnectTimeout = d } }

// WithReconnectWait sets Config.ReconnectWait (default 250 ms).
func WithReconnectWait(d time.Duration) Option { return func(c *Config) { c.ReconnectWait = d } }

// WithSubscriptionBuffer sets Config.SubscriptionBuffer (default 4096).
func WithSubscriptionBuffer(n int) Option { return func(c *Config) { c.SubscriptionBuffer = n } }

// WithName sets the client name the server shows.
func WithName(name string) Option { return func(c *Config) { c.Name = name } }

// WithToken authenticates with a token.
func WithToken(token string) Option { return func(c *Config) { c.Token = token } }

// WithUserPassword authenticates with a user name and password.
func WithUserPassword(user, password string) Option {
	return func(c *Config) { c.User, c.Password = user, password }
}

// WithNKeySeed authenticates with the NKey user seed in file.
func WithNKeySeed(file string) Option { return func(c *Config) { c.NKeySeedFile = file } }

// WithCredentials authenticates with a .creds file (user JWT and seed).
func WithCredentials(file string) Option { return func(c *Config) { c.CredentialsFile = file } }

// WithTLS uses cfg for TLS connections.
func WithTLS(cfg *tls.Config) Option { return func(c *Config) { c.TLS = cfg } }

func (c *Config) setDefaults() {
	c.Name = cmp.Or(c.Name, DefaultName)
	c.PublishTimeout = cmp.Or(c.PublishTimeout, DefaultPublishTimeout)
	c.ConnectTimeout = cmp.Or(c.ConnectTimeout, DefaultConnectTimeout)
	c.ReconnectWait = cmp.Or(c.ReconnectWait, DefaultReconnectWait)
	c.SubscriptionBuffer = cmp.Or(c.SubscriptionBuffer, DefaultSubscriptionBuffer)
	if c.JetStream != nil {
		// A copy of its own: the caller's JetStreamConfig (one option or
		// Config used for several transports) is never written to.
		js := new(JetStreamConfig)
		*js = *c.JetStream
		c.JetStream = js
		js.Stream = cmp.Or(js.Stream, DefaultStream)
		js.MaxAge = cmp.Or(js.MaxAge, DefaultMaxAge)
		js.MaxBytes = cmp.Or(js.MaxBytes, DefaultMaxBytes)
		js.Replicas = cmp.Or(js.Replicas, DefaultReplicas)
		js.MaxPending = cmp.Or(js.MaxPending, DefaultMaxPending)
	}
}

// Validate reports every setting that cannot work, each naming the
// setting, joined with errors.Join; nil when all are fine.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("eventpub/nats: "+format, args...)) }
	if c.Mapping != KeepNames && c.Mapping != ColonToDot {
		bad("unknown Mapping %d", c.Mapping)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"PublishTimeout", c.PublishTimeout}, {"ConnectTimeout", c.ConnectTimeout}, {"ReconnectWait", c.ReconnectWait}} {
		if d.v < 0 {
			bad("%s %v is negative", d.name, d.v)
		}
	}
	if c.ReconnectBuffer < 0 {
		bad("ReconnectBuffer %d is negative (0 disables it)", c.ReconnectBuffer)
	}
	if c.SubscriptionBuffer < 0 {
		bad("SubscriptionBuffer %d is negative", c.SubscriptionBuffer)
	}
	if c.Token != "" && (c.User != "" || c.Password != "") {
		bad("give a token or a user and password, not both")
	}
	if c.Password != "" && c.User == "" {
		bad("a password needs a user name")
	}
	if c.NKeySeedFile != "" && c.CredentialsFile != "" {
		bad("give an NKey seed file or a credentials file, not both")
	}
	if js := c.JetStream; js != nil {
		if js.Stream != "" && !validStreamName(js.Stream) {
			bad("stream name %q must be non-empty without spaces, '.', '*', '>', '/' or '\\'", js.Stream)
		}
		if js.MaxAge < 0 || js.MaxBytes < -1 || js.Duplicates < 0 {
			bad("JetStream MaxAge, MaxBytes and Duplicates must not be negative")
		}
		if js.Replicas < 0 || js.Replicas > 5 {
			bad("JetStream Replicas %d is not between 1 and 5 (0 means 1)", js.Replicas)
		}
		if js.Start != StartNew && js.Start != StartAll {
			bad("unknown JetStream Start %d", js.Start)
		}
		if js.MaxPending < 0 {
			bad("JetStream MaxPending %d is negative", js.MaxPending)
		}
		for _, s := range js.Subjects {
			if err := transport.ValidateChannel(s); err != nil {
				bad("JetStream subject: %w", err)
			} else if err := validSubject(s, true); err != nil {
				bad("JetStream subject %s: %v", transport.QuoteChannel(s), err)
			}
		}
	}
	return errors.Join(errs...)
}

func validStreamName(s string) bool {
	if s == "" || len(s) > 255 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c <= ' ', c == 0x7f, c == '.', c == '*', c == '>', c == '/', c == '\\':
			return false
		}
	}
	return true
}

// GoString is what %#v prints: the Config with Password and Token masked.
func (c Config) GoString() string {
	type plain Config // without this method
	p := plain(c)
	if p.Password != "" {
		p.Password = "xxxxx"
	}
	if p.Token != "" {
		p.Token = "xxxxx"
	}
	s := fmt.Sprintf("%#v", p)
	return "nats.Config" + s[strings.IndexByte(s, '{'):]
}
