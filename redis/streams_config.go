package redis

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/eventpub/eventpub/transport"
)

// Mode says what Publish and Subscribe do on Redis.
type Mode int

const (
	// ModePubSub (the default) publishes with PUBLISH and subscribes with
	// SUBSCRIBE: live only, nothing kept, no headers. CodeWorm's wire.
	ModePubSub Mode = iota
	// ModeStreams appends each message to a Redis stream per channel
	// (XADD) and reads streams (XREAD, or XREADGROUP with a consumer
	// group): persistent, replayable, with headers.
	ModeStreams
	// ModeDual publishes each message both ways in one round trip
	// (PUBLISH then XADD, pipelined): pub/sub subscribers such as
	// CodeWorm's dashboard keep receiving the payload live, and the stream
	// keeps a replayable history with the headers. Subscribe reads the
	// stream; SubscribePattern uses pub/sub.
	ModeDual
)

// String returns the mode's URL name: pubsub, streams or dual.
func (m Mode) String() string {
	switch m {
	case ModePubSub:
		return "pubsub"
	case ModeStreams:
		return "streams"
	case ModeDual:
		return "dual"
	}
	return "Mode(" + strconv.Itoa(int(m)) + ")"
}

// Where a stream subscription starts (StreamsConfig.Start).
const (
	// StartAll reads every entry the stream still holds, then new ones.
	StartAll = "0"
	// StartNew reads only entries added after Subscribe returns.
	StartNew = "$"
)

// DefaultStreamMaxLen is the default cap of each stream: XADD trims it to
// about this many entries (MAXLEN ~), so the oldest go first.
const DefaultStreamMaxLen = 100000

// The fields of a stream entry the driver writes: the payload under
// FieldPayload and each header under HeaderFieldPrefix + its name. Values
// are the exact bytes.
const (
	FieldPayload      = "payload"
	HeaderFieldPrefix = "h:"
)

// StreamsConfig configures ModeStreams and ModeDual. Zero fields take the
// defaults.
type StreamsConfig struct {
	// MaxLen caps each stream at about this many entries (XADD MAXLEN ~
	// N; Redis trims whole macro nodes, so a few more may remain).
	// Default DefaultStreamMaxLen; -1: no cap.
	MaxLen int64
	// Prefix is put before a channel name to make its stream key. Default
	// none: the key is the channel name, so on a Cluster a stream lives on
	// the shard owning the channel's slot, as SPUBLISH does.
	Prefix string
	// Start says where a Subscription begins: StartAll (default: replay
	// what the stream holds, then new entries), StartNew, or an entry ID
	// ("1700000000000-0"; entries after it). With a Group it is where a
	// group the driver creates begins; an existing group keeps its place.
	Start string
	// Group, when set, reads with XREADGROUP in this consumer group and
	// acknowledges (XACK) what the caller took, so a restarted subscriber
	// or bridge resumes where it stopped. The driver creates the group
	// (XGROUP CREATE … MKSTREAM) when it is missing.
	Group string
	// Consumer names this reader within Group. Keep it stable across
	// restarts: a consumer's unacknowledged entries are delivered to it
	// again when it comes back. Default: the host name.
	Consumer string
}

// WithStreams switches to ModeStreams with c (zero fields take defaults).
// It sets the whole StreamsConfig, replacing what the URL said.
func WithStreams(c StreamsConfig) Option {
	return func(dst *Config) { dst.Mode, dst.Streams = ModeStreams, c }
}

// WithDual switches to ModeDual with c (zero fields take defaults).
// It sets the whole StreamsConfig, replacing what the URL said.
func WithDual(c StreamsConfig) Option {
	return func(dst *Config) { dst.Mode, dst.Streams = ModeDual, c }
}

func (c StreamsConfig) withDefaults() StreamsConfig {
	if c.MaxLen == 0 {
		c.MaxLen = DefaultStreamMaxLen
	}
	if c.Start == "" {
		c.Start = StartAll
	}
	if c.Group != "" && c.Consumer == "" {
		c.Consumer, _ = os.Hostname()
		if c.Consumer == "" {
			c.Consumer = "eventpub"
		}
	}
	return c
}

var streamID = regexp.MustCompile(`^[0-9]{1,20}(-[0-9]{1,20})?$`)

// validateStreams reports every Streams and Mode problem.
func (c Config) validateStreams() []error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("eventpub/redis: "+format, args...))
	}
	s := c.Streams
	switch c.Mode {
	case ModePubSub:
		if s != (StreamsConfig{}) {
			bad("Streams settings are set but Mode is pubsub; use WithStreams or WithDual (URL mode=streams or mode=dual)")
		}
		return errs
	case ModeStreams, ModeDual:
	default:
		bad("Mode is %d; want ModePubSub, ModeStreams or ModeDual", int(c.Mode))
		return errs
	}
	s = s.withDefaults()
	if s.MaxLen < -1 {
		bad("Streams.MaxLen is %d; want a positive cap, 0 for the default or -1 for none", s.MaxLen)
	}
	if s.Start != StartAll && s.Start != StartNew && !streamID.MatchString(s.Start) {
		bad("Streams.Start is %q; want %q (all), %q (new) or an entry ID such as 1700000000000-0", s.Start, StartAll, StartNew)
	}
	if s.Consumer != "" && s.Group == "" {
		bad("Streams.Consumer %q is set without a Group", s.Consumer)
	}
	if strings.ContainsAny(s.Group+s.Consumer, "\x00\r\n") {
		bad("Streams.Group and Consumer must not hold NUL, CR or LF")
	}
	return errs
}

// streamParams are the URL query parameters of streams and dual mode.
var streamParams = []string{"mode", "maxlen", "prefix", "start", "group", "consumer"}

// takeStreamParams removes the streams parameters from rawURL's query and
// returns the rest of the URL, and an option setting what they said (nil
// when there were none). A URL it cannot parse is returned as is for
// parseURL to report.
func takeStreamParams(rawURL string) (string, Option, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.RawQuery == "" {
		return rawURL, nil, nil
	}
	q := u.Query()
	found := false
	for _, k := range streamParams {
		if _, ok := q[k]; ok {
			found = true
		}
	}
	if !found {
		return rawURL, nil, nil
	}
	red := transport.RedactURL(u)
	last := func(k string) (string, bool) {
		v, ok := q[k]
		if !ok {
			return "", false
		}
		return v[len(v)-1], true
	}
	mode := ModePubSub
	var sc StreamsConfig
	if v, ok := last("mode"); ok {
		switch strings.ToLower(v) {
		case "pubsub":
		case "streams", "stream":
			mode = ModeStreams
		case "dual":
			mode = ModeDual
		default:
			return "", nil, fmt.Errorf("eventpub/redis: URL %q: mode=%q; want pubsub, streams or dual", red, v)
		}
	}
	if v, ok := last("maxlen"); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < -1 {
			return "", nil, fmt.Errorf("eventpub/redis: URL %q: maxlen=%q; want a number of entries (or -1: no cap)", red, v)
		}
		sc.MaxLen = n
	}
	sc.Prefix, _ = last("prefix")
	if v, ok := last("start"); ok {
		switch strings.ToLower(v) {
		case "all", "0":
			sc.Start = StartAll
		case "new", "$":
			sc.Start = StartNew
		default:
			sc.Start = v // checked by Validate
		}
	}
	sc.Group, _ = last("group")
	sc.Consumer, _ = last("consumer")
	for _, k := range streamParams {
		q.Del(k)
	}
	u.RawQuery = q.Encode()
	return u.String(), func(c *Config) { c.Mode, c.Streams = mode, sc }, nil
}
