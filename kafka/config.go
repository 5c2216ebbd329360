package kafka

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/eventpub/eventpub/internal/cfgfill"
)

// Defaults used where a Config field is left zero. They are applied in one
// place, Config.setDefaults.
const (
	DefaultClientID       = "eventpub"
	DefaultConnectTimeout = 2 * time.Second
	DefaultPublishTimeout = 10 * time.Second
	DefaultPartitions     = 1
	// DefaultReplicationFactor -1 lets the broker choose
	// (default.replication.factor).
	DefaultReplicationFactor = -1
	// DefaultMaxRecordBatchBytes is franz-go's and Kafka's max.message.bytes
	// default.
	DefaultMaxRecordBatchBytes = 1_000_012
	// DefaultSubscriptionBuffer is how many messages a Subscription holds
	// for a slow reader before its consumer stops fetching.
	DefaultSubscriptionBuffer = 4096
	// DefaultPort is used for a broker given without a port.
	DefaultPort = "9092"
)

// Mapping says how channel names become Kafka topic names, which may hold
// only ASCII letters, digits, '.', '_' and '-', at most 249 of them.
type Mapping int

const (
	// Escape (the default) carries every valid channel name: ASCII
	// letters, digits and '-' stay, ':' becomes '.', '_' becomes "__" and
	// every other byte becomes '_' and two lower-case hex digits ("." is
	// "_2e", "é" is "_c3_a9"). So "codeworm:events" is the topic
	// "codeworm.events", and each topic maps back to exactly one channel.
	// A channel whose topic would be longer than 249 bytes is refused.
	Escape Mapping = iota
	// ColonToDot turns ':' into '.' and refuses, with ErrInvalidChannel,
	// every channel holding '.' (it would come back as ':') or a byte a
	// topic cannot hold, as the NATS driver's ColonToDot does.
	ColonToDot
	// KeepNames uses the channel name as the topic unchanged and refuses
	// every channel that is not a valid topic name (':' included).
	KeepNames
)

// String returns the mapping's name as the URL parameter mapping= spells it.
func (m Mapping) String() string {
	switch m {
	case Escape:
		return "escape"
	case ColonToDot:
		return "dots"
	case KeepNames:
		return "keep"
	}
	return fmt.Sprintf("Mapping(%d)", int(m))
}

// From says where a Subscription starts reading a topic.
type From int

const (
	// FromEnd (the default) delivers what is published after Subscribe
	// returns.
	FromEnd From = iota
	// FromStart first replays everything the topic still holds.
	FromStart
)

// SASLMechanism names how credentials are sent.
type SASLMechanism int

const (
	// SASLPlain sends the user name and password as they are (SASL
	// PLAIN): use it over TLS.
	SASLPlain SASLMechanism = iota
	// SASLScramSHA256 is SCRAM-SHA-256: the password never crosses the wire.
	SASLScramSHA256
	// SASLScramSHA512 is SCRAM-SHA-512.
	SASLScramSHA512
)

// String returns the mechanism's name as the URL parameter sasl= spells it.
func (m SASLMechanism) String() string {
	switch m {
	case SASLPlain:
		return "plain"
	case SASLScramSHA256:
		return "scram-sha-256"
	case SASLScramSHA512:
		return "scram-sha-512"
	}
	return fmt.Sprintf("SASLMechanism(%d)", int(m))
}

// Config holds every setting of the driver. The zero value (with Brokers
// set) is a valid configuration with the defaults above.
type Config struct {
	// Brokers are the seed brokers, host:port. Open fills it from its URL.
	Brokers []string
	// ClientID is the client id the brokers log. Default "eventpub".
	ClientID string
	// Mapping turns channel names into topic names. Default Escape.
	Mapping Mapping

	// RequireTopics makes the driver use only topics that exist: a channel
	// whose topic is missing gives ErrInvalidChannel. By default a missing
	// topic is created on first use with Partitions and ReplicationFactor.
	RequireTopics bool
	// Partitions of a topic the driver creates. Default 1.
	Partitions int32
	// ReplicationFactor of a topic the driver creates. Default -1: the
	// broker's default.replication.factor.
	ReplicationFactor int16

	// From says where a Subscription starts. Default FromEnd. FromStart
	// replays each topic first, which makes the transport Persistent.
	From From
	// Group, when set, makes every Subscription a member of this consumer
	// group: it resumes after the last message an earlier member handed
	// out (From applies only when the group has no offset yet), and
	// Subscriptions sharing the group split the partitions between them
	// instead of each receiving every message.
	Group string
	// SubscriptionBuffer is how many messages a Subscription holds for a
	// slow reader; past it the consumer stops fetching (nothing is lost).
	// Default 4096.
	SubscriptionBuffer int

	// MaxRecordBatchBytes is the producer's largest record batch; one
	// message (payload, channel name as key, headers and framing) must
	// fit in it. Default 1 000 012, Kafka's default max.message.bytes.
	// Raise it only with the topics' max.message.bytes.
	MaxRecordBatchBytes int32
	// PublishTimeout bounds a Publish whose context has no deadline, and
	// is franz-go's record delivery timeout. Default 10 s.
	PublishTimeout time.Duration
	// ConnectTimeout bounds one dial (and TLS handshake) to one broker,
	// and each background check of whether any broker answers. Default 2 s.
	ConnectTimeout time.Duration

	// User and Password authenticate with SASL (also kafka://user:pass@…).
	User, Password string
	// SASL is the mechanism used when User is set. Default SASLPlain.
	SASL SASLMechanism
	// TLS, when set, is used for every broker connection.
	TLS *tls.Config
	// Dial, when set, opens every TCP connection (before TLS) instead of
	// a net.Dialer, e.g. to go through a proxy. addr is the broker's
	// address as the cluster advertises it.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// String describes the configuration without its password.
func (c Config) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "kafka.Config{Brokers:%v ClientID:%q Mapping:%v", c.Brokers, c.ClientID, c.Mapping)
	if c.User != "" {
		fmt.Fprintf(&b, " User:%q Password:xxxxx SASL:%v", c.User, c.SASL)
	}
	fmt.Fprintf(&b, " TLS:%v RequireTopics:%v From:%d Group:%q}", c.TLS != nil, c.RequireTopics, c.From, c.Group)
	return b.String()
}

// GoString is String, so %#v does not print the password either.
func (c Config) GoString() string { return c.String() }

// Option changes a Config.
type Option func(*Config)

// WithConfig sets every field of c that is not zero, e.g. from a Config
// loaded elsewhere. Fields c leaves zero keep what Open's URL or an earlier
// option set, or else their default; a struct, slice or pointer field that
// c sets is taken whole. Options after it change single fields.
func WithConfig(c Config) Option { return func(dst *Config) { cfgfill.Set(dst, c) } }

// WithTopicMapping sets how channel names become topics (default Escape).
func WithTopicMapping(m Mapping) Option { return func(c *Config) { c.Mapping = m } }

// WithRequireTopics makes a channel whose topic does not exist an error
// (ErrInvalidChannel) instead of creating the topic.
func WithRequireTopics() Option { return func(c *Config) { c.RequireTopics = true } }

// WithTopicCreation sets the partitions and replication factor of topics
// the driver creates (0 keeps the default).
func WithTopicCreation(partitions int32, replicationFactor int16) Option {
	return func(c *Config) { c.Partitions, c.ReplicationFactor = partitions, replicationFactor }
}

// WithFrom sets where Subscriptions start (default FromEnd).
func WithFrom(f From) Option { return func(c *Config) { c.From = f } }

// WithGroup makes Subscriptions members of a consumer group (see Config.Group).
func WithGroup(group string) Option { return func(c *Config) { c.Group = group } }

// WithSubscriptionBuffer sets Config.SubscriptionBuffer (default 4096).
func WithSubscriptionBuffer(n int) Option { return func(c *Config) { c.SubscriptionBuffer = n } }

// WithMaxRecordBatchBytes sets Config.MaxRecordBatchBytes.
func WithMaxRecordBatchBytes(n int32) Option { return func(c *Config) { c.MaxRecordBatchBytes = n } }

// WithPublishTimeout sets Config.PublishTimeout (default 10 s).
func WithPublishTimeout(d time.Duration) Option { return func(c *Config) { c.PublishTimeout = d } }

// WithConnectTimeout sets Config.ConnectTimeout (default 2 s).
func WithConnectTimeout(d time.Duration) Option { return func(c *Config) { c.ConnectTimeout = d } }

// WithClientID sets the client id the brokers log.
func WithClientID(id string) Option { return func(c *Config) { c.ClientID = id } }

// WithSASL authenticates with user and password using mechanism m.
func WithSASL(m SASLMechanism, user, password string) Option {
	return func(c *Config) { c.SASL, c.User, c.Password = m, user, password }
}

// WithTLS uses cfg for every broker connection.
func WithTLS(cfg *tls.Config) Option { return func(c *Config) { c.TLS = cfg } }

// WithDialer opens every TCP connection with dial (see Config.Dial).
func WithDialer(dial func(ctx context.Context, network, addr string) (net.Conn, error)) Option {
	return func(c *Config) { c.Dial = dial }
}

func (c *Config) setDefaults() {
	c.ClientID = cmp.Or(c.ClientID, DefaultClientID)
	c.Partitions = cmp.Or(c.Partitions, DefaultPartitions)
	c.ReplicationFactor = cmp.Or(c.ReplicationFactor, DefaultReplicationFactor)
	c.SubscriptionBuffer = cmp.Or(c.SubscriptionBuffer, DefaultSubscriptionBuffer)
	c.MaxRecordBatchBytes = cmp.Or(c.MaxRecordBatchBytes, DefaultMaxRecordBatchBytes)
	c.PublishTimeout = cmp.Or(c.PublishTimeout, DefaultPublishTimeout)
	c.ConnectTimeout = cmp.Or(c.ConnectTimeout, DefaultConnectTimeout)
}

// minBatchBytes leaves room for a message of some size beside the framing.
const minBatchBytes = 1024

// Validate reports every setting that cannot work, joined, each naming
// the setting. It never prints the password.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("eventpub/kafka: "+format, args...))
	}
	if len(c.Brokers) == 0 {
		bad("no broker given")
	}
	for _, b := range c.Brokers {
		if host, port, err := net.SplitHostPort(b); err != nil || host == "" || port == "" {
			bad("broker %q is not host:port", b)
		}
	}
	if c.Mapping != Escape && c.Mapping != ColonToDot && c.Mapping != KeepNames {
		bad("unknown Mapping %d", c.Mapping)
	}
	if c.Partitions < 1 {
		bad("Partitions %d must be at least 1", c.Partitions)
	}
	if c.ReplicationFactor < -1 || c.ReplicationFactor == 0 {
		bad("ReplicationFactor %d must be at least 1, or -1 for the broker's default", c.ReplicationFactor)
	}
	if c.From != FromEnd && c.From != FromStart {
		bad("unknown From %d", c.From)
	}
	if c.Group != "" && strings.ContainsFunc(c.Group, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		bad("Group %q has a control character", c.Group)
	}
	if c.SubscriptionBuffer < 1 {
		bad("SubscriptionBuffer %d must be at least 1", c.SubscriptionBuffer)
	}
	if c.MaxRecordBatchBytes < minBatchBytes {
		bad("MaxRecordBatchBytes %d is under %d", c.MaxRecordBatchBytes, minBatchBytes)
	}
	if c.PublishTimeout < time.Second {
		bad("PublishTimeout %v is under 1s (franz-go's least record delivery timeout)", c.PublishTimeout)
	}
	if c.ConnectTimeout < 0 {
		bad("ConnectTimeout %v is negative", c.ConnectTimeout)
	}
	if c.Password != "" && c.User == "" {
		bad("a password needs a user name")
	}
	if c.SASL != SASLPlain && c.SASL != SASLScramSHA256 && c.SASL != SASLScramSHA512 {
		bad("unknown SASL mechanism %d", c.SASL)
	}
	return errors.Join(errs...)
}

// brokerList names the brokers, for errors.
func (c *Config) brokerList() string { return strings.Join(c.Brokers, ",") }
