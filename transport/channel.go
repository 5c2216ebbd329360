package transport

import (
	"fmt"
	"unicode/utf8"
)

// MaxChannelLen is the longest channel name, in bytes, that every driver
// accepts. It is the AMQP routing-key limit, and well under what Redis,
// NATS, MQTT and Kafka (after mapping) carry.
const MaxChannelLen = 255

// ValidateChannel checks name against the rules every driver applies before
// anything reaches its broker: not empty, at most MaxChannelLen bytes, valid
// UTF-8, and no control characters (U+0000–U+001F, U+007F–U+009F). A driver
// adds its broker's own rules after these (NATS refuses spaces and
// wildcards, for one). The error matches ErrInvalidChannel and quotes the
// name cut to a readable length.
func ValidateChannel(name string) error {
	// The common name is short printable ASCII: one pass settles it.
	if name != "" && len(name) <= MaxChannelLen {
		i := 0
		for i < len(name) && name[i] >= 0x20 && name[i] < 0x7f {
			i++
		}
		if i == len(name) {
			return nil
		}
	}
	switch {
	case name == "":
		return Invalid(ErrInvalidChannel, "channel name is empty")
	case len(name) > MaxChannelLen:
		return Invalid(ErrInvalidChannel, "channel %s is %d bytes, over the limit of %d", QuoteChannel(name), len(name), MaxChannelLen)
	case !utf8.ValidString(name):
		return Invalid(ErrInvalidChannel, "channel %s is not valid UTF-8", QuoteChannel(name))
	}
	for i, r := range name {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) {
			return Invalid(ErrInvalidChannel, "channel %s has control character %U at byte %d", QuoteChannel(name), r, i)
		}
	}
	return nil
}

// quoteLimit is how many bytes of a name QuoteChannel shows.
const quoteLimit = 64

// QuoteChannel returns name quoted for an error message, cut to its first
// 64 bytes (on a rune boundary when it is valid UTF-8) with the full length
// noted, so an error about a huge name stays readable.
func QuoteChannel(name string) string {
	if len(name) <= quoteLimit {
		return fmt.Sprintf("%q", name)
	}
	cut := quoteLimit
	for cut > quoteLimit-utf8.UTFMax && !utf8.RuneStart(name[cut]) {
		cut--
	}
	return fmt.Sprintf("%q… (%d bytes)", name[:cut], len(name))
}
