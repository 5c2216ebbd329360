package mqtt

import (
	"strings"

	"github.com/eventpub/eventpub/transport"
)

// checkTopic applies the rules for a channel name used as an MQTT topic:
// transport.ValidateChannel first, then MQTT's own. A topic may not hold
// the wildcards '+' or '#' (they are filter syntax) nor start with '$'
// (the server's reserved topics, such as $SYS). Every other name is a
// valid topic as written: "codeworm:logs" is one topic level, and '/'
// separates levels.
func checkTopic(name string) error {
	if err := transport.ValidateChannel(name); err != nil {
		return err
	}
	if i := strings.IndexAny(name, "+#"); i >= 0 {
		return transport.Invalid(transport.ErrInvalidChannel,
			"channel %s has the MQTT wildcard %q at byte %d; wildcards belong in SubscribePattern filters", transport.QuoteChannel(name), name[i], i)
	}
	if name[0] == '$' {
		return transport.Invalid(transport.ErrInvalidChannel,
			"channel %s starts with '$', which MQTT reserves for server topics", transport.QuoteChannel(name))
	}
	return nil
}

// checkFilter applies the rules for an MQTT topic filter (a pattern):
// transport.ValidateChannel, then '#' only as the whole last level and '+'
// only as a whole level. Filters starting with '$' are allowed ($SYS/#,
// $share/group/filter).
func checkFilter(f string) error {
	if err := transport.ValidateChannel(f); err != nil {
		return err
	}
	levels := strings.Split(f, "/")
	for i, l := range levels {
		if strings.Contains(l, "#") && (l != "#" || i != len(levels)-1) {
			return transport.Invalid(transport.ErrInvalidChannel,
				"filter %s: '#' must be a whole level and the last one (as in \"a/#\")", transport.QuoteChannel(f))
		}
		if strings.Contains(l, "+") && l != "+" {
			return transport.Invalid(transport.ErrInvalidChannel,
				"filter %s: '+' must be a whole level (as in \"a/+/c\")", transport.QuoteChannel(f))
		}
	}
	if strings.HasPrefix(f, "$share/") && len(levels) < 3 {
		return transport.Invalid(transport.ErrInvalidChannel,
			"filter %s: a shared subscription is $share/GROUP/FILTER", transport.QuoteChannel(f))
	}
	return nil
}

// matches reports whether topic matches filter by MQTT's rules: '+' is one
// level, '#' the rest (including none), and wildcards at the first level
// do not match topics starting with '$'. A $share/GROUP/ prefix is ignored.
func matches(filter, topic string) bool {
	if rest, ok := strings.CutPrefix(filter, "$share/"); ok {
		if _, f, ok := strings.Cut(rest, "/"); ok {
			filter = f
		}
	}
	if filter == topic {
		return true
	}
	if strings.HasPrefix(topic, "$") && (strings.HasPrefix(filter, "+") || strings.HasPrefix(filter, "#")) {
		return false
	}
	for {
		fl, frest, fmore := strings.Cut(filter, "/")
		if fl == "#" {
			return true
		}
		tl, trest, tmore := strings.Cut(topic, "/")
		if fl != "+" && fl != tl {
			return false
		}
		if !fmore || !tmore {
			// "a/#" also matches "a": the '#' stands for no level.
			return fmore == tmore || (fmore && frest == "#")
		}
		filter, topic = frest, trest
	}
}
