package transport

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// Opener builds a Transport from a URL whose scheme it registered. It gets
// the URL as written, so a driver may accept forms net/url does not parse,
// such as NATS's comma-separated server lists.
type Opener func(ctx context.Context, rawURL string) (Transport, error)

var (
	regMu   sync.RWMutex
	openers = map[string]Opener{}
)

// Register makes a URL scheme (such as "redis") open with opener. Drivers
// call it from init. It panics if the scheme is empty, opener is nil or the
// scheme is already registered, as database/sql.Register does.
func Register(scheme string, opener Opener) {
	scheme = strings.ToLower(scheme)
	if scheme == "" || opener == nil {
		panic("transport: Register needs a scheme and an opener")
	}
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := openers[scheme]; dup {
		panic("transport: Register called twice for scheme " + scheme)
	}
	openers[scheme] = opener
}

// Schemes returns the registered URL schemes, sorted.
func Schemes() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	out := make([]string, 0, len(openers))
	for s := range openers {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// Open returns a Transport for rawURL using the driver registered for its
// scheme. The driver's package must be imported (often as _). Errors never
// contain the URL's password.
func Open(ctx context.Context, rawURL string) (Transport, error) {
	scheme, _, ok := strings.Cut(rawURL, "://")
	if !ok || !validScheme(scheme) {
		return nil, fmt.Errorf("eventpub: URL has no scheme (want scheme://…); registered schemes: %s",
			strings.Join(Schemes(), ", "))
	}
	regMu.RLock()
	opener := openers[strings.ToLower(scheme)]
	regMu.RUnlock()
	if opener == nil {
		known := Schemes()
		list := strings.Join(known, ", ")
		if len(known) == 0 {
			list = "none (import a driver package, e.g. _ \"github.com/eventpub/eventpub/memory\")"
		}
		return nil, fmt.Errorf("eventpub: unknown URL scheme %q; registered schemes: %s", scheme, list)
	}
	return opener(ctx, rawURL)
}

// validScheme reports whether s is a URL scheme: a letter, then letters,
// digits, '+', '-' or '.'.
func validScheme(s string) bool {
	for i, c := range s {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (i == 0 || !(c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return s != ""
}

// Redact returns rawURL with any password or token in its user info
// replaced by "xxxxx", for use in errors and logs. A string that does not
// parse as a URL is cut back to its scheme.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		if i := strings.Index(rawURL, "://"); i >= 0 {
			return rawURL[:i+3] + "…"
		}
		return "…"
	}
	return RedactURL(u)
}

// RedactURL is Redact for a parsed URL. It also hides query values whose
// names suggest secrets (password, token, nkey, seed, creds).
func RedactURL(u *url.URL) string {
	c := *u
	if c.User != nil {
		if _, has := c.User.Password(); has {
			c.User = url.UserPassword(c.User.Username(), "xxxxx")
		} else if c.User.Username() != "" && (c.Scheme == "nats" || c.Scheme == "tls") {
			// nats://TOKEN@host carries a token as the user name.
			c.User = url.User("xxxxx")
		}
	}
	if c.RawQuery != "" {
		q := c.Query()
		for k := range q {
			lk := strings.ToLower(k)
			for _, s := range []string{"pass", "token", "secret", "nkey", "seed", "cred"} {
				if strings.Contains(lk, s) {
					q.Set(k, "xxxxx")
				}
			}
		}
		c.RawQuery = q.Encode()
	}
	return c.String()
}
