package amqp

import (
	"strings"

	"github.com/eventpub/eventpub/transport"
)

// A channel name is the AMQP routing key, unchanged: "codeworm:logs" is
// the one-word key "codeworm:logs" and "codeworm.logs" the two words
// "codeworm" and "logs". Binding keys read a word that is exactly "*" or
// "#" as a wildcard, so a channel with such a word could not be
// subscribed to on its own; it is refused with ErrInvalidChannel. '*' and
// '#' inside a longer word ("a*b", "#1") are plain characters.

// validChannel checks name as a channel: transport.ValidateChannel (which
// caps it at 255 bytes, AMQP's short-string limit) and no wildcard word.
func validChannel(name string) error {
	if err := transport.ValidateChannel(name); err != nil {
		return prefixed(err)
	}
	for w := range strings.SplitSeq(name, ".") {
		if w == "*" || w == "#" {
			return transport.Invalid(transport.ErrInvalidChannel,
				"eventpub/amqp: channel %s has the word %q, which AMQP binding keys read as a wildcard",
				transport.QuoteChannel(name), w)
		}
	}
	return nil
}

// validPattern checks a topic pattern: transport.ValidateChannel's rules,
// and '*' or '#' only as whole words, so that a Redis-style glob such as
// "codeworm:*" (which AMQP would match literally) is refused.
func validPattern(p string) error {
	if err := transport.ValidateChannel(p); err != nil {
		return prefixed(err)
	}
	for w := range strings.SplitSeq(p, ".") {
		if w != "*" && w != "#" && strings.ContainsAny(w, "*#") {
			return transport.Invalid(transport.ErrInvalidChannel,
				"eventpub/amqp: pattern %s has the word %q: AMQP wildcards are whole words between dots (\"codeworm.*\", \"#\"), '*' or '#' inside a word match literally",
				transport.QuoteChannel(p), w)
		}
	}
	return nil
}

// prefixed puts the package prefix on a transport.ValidateChannel error.
func prefixed(err error) error {
	msg := strings.TrimPrefix(err.Error(), transport.ErrInvalidChannel.Error()+": ")
	return transport.Invalid(transport.ErrInvalidChannel, "eventpub/amqp: %s", msg)
}

// topicMatch reports whether routing key key matches binding pattern p, as
// a topic exchange decides: '*' is one word, '#' zero or more.
func topicMatch(p, key string) bool {
	return matchWords(strings.Split(p, "."), strings.Split(key, "."))
}

func matchWords(p, k []string) bool {
	for len(p) > 0 {
		switch p[0] {
		case "#":
			for i := 0; i <= len(k); i++ {
				if matchWords(p[1:], k[i:]) {
					return true
				}
			}
			return false
		case "*":
			if len(k) == 0 {
				return false
			}
		default:
			if len(k) == 0 || k[0] != p[0] {
				return false
			}
		}
		p, k = p[1:], k[1:]
	}
	return len(k) == 0
}

// errNoChannels is returned by Subscribe with no channel.
var errNoChannels = transport.Invalid(transport.ErrInvalidChannel, "eventpub/amqp: Subscribe needs at least one channel")
