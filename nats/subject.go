package nats

import (
	"errors"
	"strings"
	"sync/atomic"
	"unsafe"

	"github.com/eventpub/eventpub/transport"
)

// maxSubjectLen keeps a publish line well under the server's default 4 KiB
// control-line limit, past which the server drops the connection.
const maxSubjectLen = 1024

// subject returns the subject for channel, or ErrInvalidChannel saying why
// the channel cannot be one. A channel seen before is looked up, not
// checked again.
func (t *Transport) subject(channel string) (string, error) {
	if e := t.subjects.lookup(channel); e != nil {
		return e.subject, nil
	}
	return t.newSubject(channel)
}

// lookup returns the cache's entry for channel, or nil.
func (c *subjectCache) lookup(channel string) *subjectEntry {
	if channel == "" {
		return nil
	}
	e := c[subjectSlot(channel)].Load()
	if e == nil || len(e.channel) != len(channel) {
		return nil
	}
	// A caller usually passes the same string each time: its bytes need
	// no comparing then.
	if unsafe.StringData(e.channel) != unsafe.StringData(channel) && e.channel != channel {
		return nil
	}
	return e
}

// newSubject is subject for a channel not in the cache: it checks and
// maps the channel, and keeps it when its slot is free.
func (t *Transport) newSubject(channel string) (string, error) {
	subj, err := t.mapSubject(channel)
	if err == nil {
		t.subjects[subjectSlot(channel)].CompareAndSwap(nil, &subjectEntry{channel: channel, subject: subj})
	}
	return subj, err
}

// subjectCache holds channels already checked and mapped. A slot is filled
// once and kept: the cache stays small whatever the channels, costs no
// allocation after the first use of a channel, and a channel whose slot
// another holds is simply checked on each publish.
type subjectCache [64]atomic.Pointer[subjectEntry]

type subjectEntry struct{ channel, subject string }

// subjectSlot picks the slot of a non-empty channel: cheap, and apart for
// names that differ in length or in their last byte.
func subjectSlot(ch string) int {
	n := len(ch)
	return (n ^ int(ch[n-1])<<2) & (len(subjectCache{}) - 1)
}

// mapSubject checks channel and maps it to its subject.
func (t *Transport) mapSubject(channel string) (string, error) {
	if err := transport.ValidateChannel(channel); err != nil {
		return "", err
	}
	subj := channel
	if t.cfg.Mapping == ColonToDot {
		if strings.IndexByte(channel, '.') >= 0 {
			return "", transport.Invalid(transport.ErrInvalidChannel,
				"channel %s has '.', which ColonToDot would give back to subscribers as ':'", transport.QuoteChannel(channel))
		}
		subj = strings.ReplaceAll(channel, ":", ".")
	}
	if err := validSubject(subj, false); err != nil {
		return "", transport.Invalid(transport.ErrInvalidChannel, "channel %s: %v", transport.QuoteChannel(channel), err)
	}
	return subj, nil
}

// pattern returns the subject for a subscription pattern: like subject, but
// '*' and '>' tokens are wildcards.
func (t *Transport) pattern(p string) (string, error) {
	if err := transport.ValidateChannel(p); err != nil {
		return "", err
	}
	subj := p
	if t.cfg.Mapping == ColonToDot {
		subj = strings.ReplaceAll(p, ":", ".")
	}
	if err := validSubject(subj, true); err != nil {
		return "", transport.Invalid(transport.ErrInvalidChannel, "pattern %s: %v", transport.QuoteChannel(p), err)
	}
	return subj, nil
}

// channel turns a received subject back into a channel name.
func (t *Transport) channel(subj string) string {
	if t.cfg.Mapping == ColonToDot {
		return strings.ReplaceAll(subj, ".", ":")
	}
	return subj
}

var (
	errEmpty     = errors.New("is empty")
	errSpace     = errors.New("has white space or a control character")
	errWildcard  = errors.New("has '*' or '>', which NATS reads as wildcards")
	errEmptyTok  = errors.New("has an empty token (leading, trailing or doubled '.')")
	errTooLong   = errors.New("is longer than 1024 bytes")
	errBadWild   = errors.New("has '*' or '>' inside a token (wildcards must be whole tokens)")
	errFullWLast = errors.New("has '>' before the last token")
)

// special marks the bytes validSubject must look at: control characters,
// space, DEL, the wildcards and the token separator.
var special = func() (t [256]bool) {
	for c := 0; c <= ' '; c++ {
		t[c] = true
	}
	t[0x7f], t['*'], t['>'], t['.'] = true, true, true, true
	return t
}()

// validSubject checks a subject; wild allows whole-token '*' and a final '>'.
func validSubject(s string, wild bool) error {
	if s == "" {
		return errEmpty
	}
	if len(s) > maxSubjectLen {
		return errTooLong
	}
	// Most subjects are one plain run: skip it in a tight loop. The bytes
	// skipped hold no '.', so the first token simply goes on past them.
	i := 0
	for i < len(s) && !special[s[i]] {
		i++
	}
	if i == len(s) {
		return nil
	}
	tokStart := 0
	for ; i <= len(s); i++ {
		if i < len(s) {
			c := s[i]
			if !special[c] {
				continue
			}
			switch {
			case c <= ' ' || c == 0x7f:
				return errSpace
			case (c == '*' || c == '>') && !wild:
				return errWildcard
			case c != '.':
				continue
			}
		}
		tok := s[tokStart:i]
		if tok == "" {
			return errEmptyTok
		}
		if wild && len(tok) > 1 && strings.ContainsAny(tok, "*>") {
			return errBadWild
		}
		if wild && tok == ">" && i < len(s) {
			return errFullWLast
		}
		tokStart = i + 1
	}
	return nil
}

// subjectMatches reports whether subject subj is matched by filter, which may
// hold '*' and '>' wildcards.
func subjectMatches(filter, subj string) bool {
	for {
		ft, frest, fmore := strings.Cut(filter, ".")
		st, srest, smore := strings.Cut(subj, ".")
		switch {
		case ft == ">":
			return true
		case ft != "*" && ft != st:
			return false
		case !fmore || !smore:
			return fmore == smore
		}
		filter, subj = frest, srest
	}
}
