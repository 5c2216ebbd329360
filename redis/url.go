package redis

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/eventpub/eventpub/internal/tlsurl"
	"github.com/eventpub/eventpub/transport"
	goredis "github.com/redis/go-redis/v9"
)

// parseURL turns a redis://, rediss:// or unix:// URL into go-redis
// options, and reports the driver's own sharded=… query value. Its errors
// never contain the password.
func parseURL(rawURL string) (*goredis.Options, bool, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Error's own text quotes the whole URL; its cause names
		// only the bad part (a port, an escape).
		reason := err
		var ue *url.Error
		if errors.As(err, &ue) {
			reason = ue.Err
		}
		return nil, false, fmt.Errorf("eventpub/redis: cannot parse URL %q: %v", transport.Redact(rawURL), reason)
	}
	red := transport.RedactURL(u)
	switch strings.ToLower(u.Scheme) {
	case "redis", "rediss", "unix":
	case "":
		return nil, false, fmt.Errorf("eventpub/redis: URL has no scheme; want redis://, rediss:// or unix://")
	default:
		// Not echoed: an odd URL may hide its password where Redact misses it.
		return nil, false, fmt.Errorf("eventpub/redis: URL has scheme %q; want redis, rediss or unix", u.Scheme)
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme == "unix" && u.Path == "" {
		return nil, false, fmt.Errorf("eventpub/redis: URL %q names no socket path; want unix:///path/redis.sock", red)
	}
	if u.Scheme != "unix" && u.Port() != "" {
		if p, err := strconv.Atoi(u.Port()); err != nil || p < 1 || p > 65535 {
			return nil, false, fmt.Errorf("eventpub/redis: URL %q has a bad port %q", red, u.Port())
		}
	}
	sharded := false
	q := u.Query()
	if v, ok := q["sharded"]; ok {
		b, err := strconv.ParseBool(v[len(v)-1])
		if err != nil {
			return nil, false, fmt.Errorf("eventpub/redis: URL %q: sharded=%q is not true or false", red, v[len(v)-1])
		}
		sharded = b
		q.Del("sharded")
		u.RawQuery = q.Encode()
	}
	var files tlsurl.Files
	for k, v := range q {
		if files.Take(k, v[len(v)-1]) {
			q.Del(k)
		}
	}
	if files.Any() {
		u.RawQuery = q.Encode()
	}
	opts, err := goredis.ParseURL(u.String())
	if err != nil {
		pw, _ := u.User.Password()
		msg := strings.TrimPrefix(transport.RedactError(err, pw).Error(), "redis: ")
		return nil, false, fmt.Errorf("eventpub/redis: URL %q: %s", red, msg)
	}
	if files.Any() {
		// The files turn TLS on, as Config.TLS does for a redis:// URL.
		if opts.TLSConfig == nil {
			opts.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
			if u.Scheme != "unix" {
				opts.TLSConfig.ServerName = u.Hostname()
			}
		}
		if err := files.Apply(opts.TLSConfig, "eventpub/redis"); err != nil {
			return nil, false, err
		}
	}
	return opts, sharded, nil
}
