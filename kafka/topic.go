package kafka

import (
	"strings"

	"github.com/eventpub/eventpub/transport"
)

// MaxTopicLen is the longest topic name Kafka accepts.
const MaxTopicLen = 249

const hexDigits = "0123456789abcdef"

// topicByte reports the bytes a Kafka topic name may hold.
func topicByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
}

// TopicFor returns the topic that carries channel under mapping m, or an
// error matching transport.ErrInvalidChannel saying why there is none.
func TopicFor(m Mapping, channel string) (string, error) {
	if err := transport.ValidateChannel(channel); err != nil {
		return "", err
	}
	var topic string
	switch m {
	case Escape:
		topic = escape(channel)
	case ColonToDot, KeepNames:
		if m == ColonToDot && strings.IndexByte(channel, '.') >= 0 {
			return "", transport.Invalid(transport.ErrInvalidChannel,
				"channel %s has '.', which the ColonToDot mapping would give back to subscribers as ':'", transport.QuoteChannel(channel))
		}
		topic = channel
		if m == ColonToDot {
			topic = strings.ReplaceAll(channel, ":", ".")
		}
		for i := 0; i < len(topic); i++ {
			if !topicByte(topic[i]) {
				return "", transport.Invalid(transport.ErrInvalidChannel,
					"channel %s has %q at byte %d: a Kafka topic holds only ASCII letters, digits, '.', '_' and '-' (the Escape mapping carries any channel)",
					transport.QuoteChannel(channel), channel[i], i)
			}
		}
	default:
		return "", transport.Invalid(transport.ErrInvalidChannel, "unknown topic mapping %d", int(m))
	}
	switch {
	case len(topic) > MaxTopicLen:
		return "", transport.Invalid(transport.ErrInvalidChannel,
			"channel %s maps to a topic of %d bytes under the %v mapping, over Kafka's limit of %d", transport.QuoteChannel(channel), len(topic), m, MaxTopicLen)
	case topic == "." || topic == "..":
		return "", transport.Invalid(transport.ErrInvalidChannel, "channel %s maps to the topic %q, which Kafka refuses", transport.QuoteChannel(channel), topic)
	}
	return topic, nil
}

// ChannelFor returns the channel that topic carries under mapping m: the
// inverse of TopicFor. ok is false for a topic no channel maps to.
func ChannelFor(m Mapping, topic string) (channel string, ok bool) {
	switch m {
	case Escape:
		ch, ok := unescape(topic)
		if !ok || escape(ch) != topic { // only the one spelling escape makes
			return "", false
		}
		return ch, true
	case ColonToDot:
		return strings.ReplaceAll(topic, ".", ":"), true
	case KeepNames:
		return topic, true
	}
	return "", false
}

// escape is the Escape mapping's channel → topic.
func escape(channel string) string {
	var b strings.Builder
	b.Grow(len(channel) + 8)
	for i := 0; i < len(channel); i++ {
		switch c := channel[i]; {
		case c == ':':
			b.WriteByte('.')
		case c == '_':
			b.WriteString("__")
		case c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9':
			b.WriteByte(c)
		default:
			b.WriteByte('_')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

// unescape is the Escape mapping's topic → channel.
func unescape(topic string) (string, bool) {
	var b strings.Builder
	b.Grow(len(topic))
	for i := 0; i < len(topic); i++ {
		switch c := topic[i]; c {
		case '.':
			b.WriteByte(':')
		case '_':
			if i+1 < len(topic) && topic[i+1] == '_' {
				b.WriteByte('_')
				i++
				continue
			}
			if i+2 >= len(topic) {
				return "", false
			}
			hi, lo := strings.IndexByte(hexDigits, topic[i+1]), strings.IndexByte(hexDigits, topic[i+2])
			if hi < 0 || lo < 0 {
				return "", false
			}
			b.WriteByte(byte(hi<<4 | lo))
			i += 2
		default:
			if !topicByte(c) {
				return "", false
			}
			b.WriteByte(c)
		}
	}
	return b.String(), true
}
