package memory

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/eventpub/eventpub/transport"
)

// Scheme is the URL scheme this package registers.
const Scheme = "memory"

func init() { transport.Register(Scheme, openURL) }

// named holds the process-wide brokers of memory://name URLs.
var named struct {
	sync.Mutex
	m map[string]*Broker
}

// queryKeys are the URL query options, in the order errors list them.
var queryKeys = []string{"buffer", "overflow", "history", "max_payload"}

// openURL opens memory://name?options (see the package doc).
func openURL(ctx context.Context, rawURL string) (transport.Transport, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("memory: cannot parse URL %q", transport.Redact(rawURL))
	}
	shown := transport.RedactURL(u)
	if u.Opaque != "" {
		return nil, fmt.Errorf("memory: URL %q: want memory://name or memory://", shown)
	}
	if u.User != nil {
		return nil, fmt.Errorf("memory: URL %q: user info is not used by the memory driver; remove it", shown)
	}
	if u.Path != "" && u.Path != "/" {
		return nil, fmt.Errorf("memory: URL %q: unexpected path %q; the broker name goes in the host part (memory://name)", shown, u.Path)
	}
	cfg, given, err := parseQuery(u.Query())
	if err != nil {
		return nil, fmt.Errorf("memory: URL %q: %w", shown, err)
	}
	name := u.Host
	if name == "" {
		return newBroker(cfg).Connect(), nil
	}
	named.Lock()
	defer named.Unlock()
	if b := named.m[name]; b != nil {
		for _, k := range given {
			if have, want := cfg.get(k), b.cfg.get(k); have != want {
				return nil, fmt.Errorf("memory: URL %q: broker %q already exists with %s=%s; the URL asks for %s=%s",
					shown, name, k, want, k, have)
			}
		}
		return b.Connect(), nil
	}
	if named.m == nil {
		named.m = map[string]*Broker{}
	}
	b := newBroker(cfg)
	named.m[name] = b
	return b.Connect(), nil
}

// parseQuery reads the URL options into a config and lists the keys given.
func parseQuery(q url.Values) (config, []string, error) {
	cfg := defaultConfig()
	var given []string
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		vs := q[k]
		if len(vs) != 1 {
			return cfg, nil, fmt.Errorf("option %q is given %d times", k, len(vs))
		}
		v := vs[0]
		switch k {
		case "buffer":
			n, err := atoiMin(k, v, 1)
			if err != nil {
				return cfg, nil, err
			}
			cfg.buffer = n
		case "history":
			n, err := atoiMin(k, v, 0)
			if err != nil {
				return cfg, nil, err
			}
			cfg.history = n
		case "max_payload":
			n, err := atoiMin(k, v, 0)
			if err != nil {
				return cfg, nil, err
			}
			cfg.maxPayload = n
		case "overflow":
			switch strings.ToLower(v) {
			case "block":
				cfg.overflow = Block
			case "drop":
				cfg.overflow = Drop
			default:
				return cfg, nil, fmt.Errorf("option overflow=%q: want block or drop", v)
			}
		default:
			return cfg, nil, fmt.Errorf("unknown option %q; known options: %s", k, strings.Join(queryKeys, ", "))
		}
		given = append(given, k)
	}
	return cfg, given, nil
}

func atoiMin(key, v string, least int) (int, error) {
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("option %s=%q: want a whole number", key, v)
	}
	if n < least {
		return 0, fmt.Errorf("option %s=%d: want %d or more", key, n, least)
	}
	return n, nil
}

// get returns the value of a URL option, for comparing configurations.
func (c config) get(key string) string {
	switch key {
	case "buffer":
		return strconv.Itoa(c.buffer)
	case "history":
		return strconv.Itoa(c.history)
	case "max_payload":
		return strconv.Itoa(c.maxPayload)
	case "overflow":
		return c.overflow.String()
	}
	return ""
}
