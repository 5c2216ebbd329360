package redis

import (
	"cmp"
	"crypto/tls"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/eventpub/eventpub/internal/cfgfill"
)

// Defaults of Config's fields; a zero field takes its default.
const (
	// DefaultTimeout is the dial, read and write timeout (CodeWorm uses 2 s).
	DefaultTimeout = 2 * time.Second
	// DefaultMaxPipeline caps the commands sent in one automatic pipeline.
	DefaultMaxPipeline = 256
	// DefaultMaxPayload is the default payload limit: 8 MiB. Redis accepts
	// bulk strings up to 512 MiB, but its default output-buffer limit for
	// pub/sub clients (32 MiB hard, 8 MiB soft for 60 s) disconnects
	// subscribers that are sent much more, so larger payloads are refused.
	DefaultMaxPayload = 8 << 20
	// MaxPayloadLimit is the largest MaxPayload accepted: Redis's
	// proto-max-bulk-len default of 512 MiB.
	MaxPayloadLimit = 512 << 20
	// DefaultMinBackoff and DefaultMaxBackoff bound the background health
	// check that runs while Redis is unreachable.
	DefaultMinBackoff = 50 * time.Millisecond
	DefaultMaxBackoff = 2 * time.Second
	// DefaultSubscriptionBuffer is how many received messages a
	// subscription holds before reading from Redis pauses. Redis itself
	// disconnects a subscriber that falls far behind
	// (client-output-buffer-limit pubsub); what it held then is lost.
	DefaultSubscriptionBuffer = 1024
)

// Config holds the driver settings. The zero value means "all defaults";
// options set its fields. Timeouts and PoolSize shape the client that
// [Open] builds; a client passed to [New] keeps its own.
type Config struct {
	// DialTimeout bounds connecting to Redis. Default DefaultTimeout.
	DialTimeout time.Duration
	// ReadTimeout bounds waiting for a reply. Default DefaultTimeout.
	ReadTimeout time.Duration
	// WriteTimeout bounds sending a command. Default DefaultTimeout.
	WriteTimeout time.Duration
	// PoolSize is the client's connection pool size; 0 keeps go-redis's
	// default (10 per GOMAXPROCS).
	PoolSize int
	// Sharded publishes with SPUBLISH and subscribes with SSUBSCRIBE
	// (Redis 7+; on a Cluster a channel lives on the shard owning its slot).
	Sharded bool
	// PipelineConns is how many connections Publish streams on for a
	// standalone server, or how many go-redis pipelines may be in flight
	// at once otherwise (at most 64). Fewer means larger pipelines.
	// Default: GOMAXPROCS/2, at least 1 and at most 4.
	PipelineConns int
	// MaxPipeline caps the commands in one automatic pipeline.
	// Default DefaultMaxPipeline.
	MaxPipeline int
	// MaxPayload is the largest payload Publish accepts, in bytes.
	// Default DefaultMaxPayload; at most MaxPayloadLimit.
	MaxPayload int
	// MinBackoff and MaxBackoff bound the background health check's
	// exponential backoff while Redis is down. Defaults DefaultMinBackoff
	// and DefaultMaxBackoff.
	MinBackoff, MaxBackoff time.Duration
	// SubscriptionBuffer is how many messages a subscription buffers.
	// Default DefaultSubscriptionBuffer.
	SubscriptionBuffer int
	// TLS configures TLS for a rediss:// URL given to Open (e.g. RootCAs
	// for a private CA, client certificates). Nil uses the system roots
	// and the URL's host name. Setting it with a redis:// URL turns TLS on.
	TLS *tls.Config
	// Mode selects pub/sub (the default), Redis Streams or both; see Mode.
	Mode Mode
	// Streams configures ModeStreams and ModeDual.
	Streams StreamsConfig
}

// Option changes a Config.
type Option func(*Config)

// WithConfig sets every field of c that is not zero, e.g. from a Config
// loaded elsewhere. Fields c leaves zero keep what Open's URL or an earlier
// option set, or else their default; a struct, slice or pointer field that
// c sets is taken whole. Options after it change single fields.
func WithConfig(c Config) Option { return func(dst *Config) { cfgfill.Set(dst, c) } }

// WithConnectTimeout sets Config.DialTimeout, the bound on connecting to
// Redis.
func WithConnectTimeout(d time.Duration) Option { return func(c *Config) { c.DialTimeout = d } }

// WithDialTimeout sets Config.DialTimeout.
//
// Deprecated: use WithConnectTimeout.
func WithDialTimeout(d time.Duration) Option { return WithConnectTimeout(d) }

// WithReadTimeout sets Config.ReadTimeout.
func WithReadTimeout(d time.Duration) Option { return func(c *Config) { c.ReadTimeout = d } }

// WithWriteTimeout sets Config.WriteTimeout.
func WithWriteTimeout(d time.Duration) Option { return func(c *Config) { c.WriteTimeout = d } }

// WithPoolSize sets Config.PoolSize.
func WithPoolSize(n int) Option { return func(c *Config) { c.PoolSize = n } }

// WithSharded sets Config.Sharded: SPUBLISH and SSUBSCRIBE instead of
// PUBLISH and SUBSCRIBE.
func WithSharded(on bool) Option { return func(c *Config) { c.Sharded = on } }

// WithPipelineConns sets Config.PipelineConns.
func WithPipelineConns(n int) Option { return func(c *Config) { c.PipelineConns = n } }

// WithMaxPipeline sets Config.MaxPipeline.
func WithMaxPipeline(n int) Option { return func(c *Config) { c.MaxPipeline = n } }

// WithMaxPayload sets Config.MaxPayload.
func WithMaxPayload(n int) Option { return func(c *Config) { c.MaxPayload = n } }

// WithBackoff sets Config.MinBackoff and Config.MaxBackoff.
func WithBackoff(lo, hi time.Duration) Option {
	return func(c *Config) { c.MinBackoff, c.MaxBackoff = lo, hi }
}

// WithSubscriptionBuffer sets Config.SubscriptionBuffer.
func WithSubscriptionBuffer(n int) Option { return func(c *Config) { c.SubscriptionBuffer = n } }

// WithTLS sets Config.TLS: TLS settings for the connection.
func WithTLS(c *tls.Config) Option { return func(cfg *Config) { cfg.TLS = c } }

// WithTLSConfig sets Config.TLS.
//
// Deprecated: use WithTLS.
func WithTLSConfig(c *tls.Config) Option { return WithTLS(c) }

// withDefaults returns c with every zero field set to its default.
func (c Config) withDefaults() Config {
	c.DialTimeout = cmp.Or(c.DialTimeout, DefaultTimeout)
	c.ReadTimeout = cmp.Or(c.ReadTimeout, DefaultTimeout)
	c.WriteTimeout = cmp.Or(c.WriteTimeout, DefaultTimeout)
	c.MinBackoff = cmp.Or(c.MinBackoff, DefaultMinBackoff)
	c.MaxBackoff = cmp.Or(c.MaxBackoff, DefaultMaxBackoff)
	c.PipelineConns = cmp.Or(c.PipelineConns, min(max(runtime.GOMAXPROCS(0)/2, 1), 4))
	c.MaxPipeline = cmp.Or(c.MaxPipeline, DefaultMaxPipeline)
	c.MaxPayload = cmp.Or(c.MaxPayload, DefaultMaxPayload)
	c.SubscriptionBuffer = cmp.Or(c.SubscriptionBuffer, DefaultSubscriptionBuffer)
	if c.Mode != ModePubSub {
		c.Streams = c.Streams.withDefaults()
	}
	return c
}

// Validate reports every setting that is out of range, after defaults.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("eventpub/redis: "+format, args...)) }
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"DialTimeout", c.DialTimeout}, {"ReadTimeout", c.ReadTimeout}, {"WriteTimeout", c.WriteTimeout},
		{"MinBackoff", c.MinBackoff}, {"MaxBackoff", c.MaxBackoff}} {
		if d.v < 0 {
			bad("%s is %v; it must be positive", d.name, d.v)
		}
	}
	if c.MaxBackoff < c.MinBackoff {
		bad("MaxBackoff %v is below MinBackoff %v", c.MaxBackoff, c.MinBackoff)
	}
	if c.PoolSize < 0 {
		bad("PoolSize is %d; it must be 0 (default) or more", c.PoolSize)
	}
	if c.PipelineConns < 0 || c.PipelineConns > 64 {
		bad("PipelineConns is %d; it must be between 1 and 64", c.PipelineConns)
	}
	if c.MaxPipeline < 0 {
		bad("MaxPipeline is %d; it must be positive", c.MaxPipeline)
	}
	if c.MaxPayload < 0 || c.MaxPayload > MaxPayloadLimit {
		bad("MaxPayload is %d; it must be between 1 and %d (Redis's proto-max-bulk-len)", c.MaxPayload, MaxPayloadLimit)
	}
	if c.SubscriptionBuffer < 0 {
		bad("SubscriptionBuffer is %d; it must be positive", c.SubscriptionBuffer)
	}
	errs = append(errs, c.validateStreams()...)
	return errors.Join(errs...)
}
