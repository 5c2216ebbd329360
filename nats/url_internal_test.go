package nats

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventpub/eventpub/transport"
)

func TestParseURL(t *testing.T) {
	cases := []struct {
		url     string
		servers []string
		check   func(t *testing.T, c Config)
	}{
		{"nats://localhost", []string{"nats://localhost:4222"}, nil},
		{"nats://user:hunter2@h1:4222", []string{"nats://h1:4222"}, func(t *testing.T, c Config) {
			if c.User != "user" || c.Password != "hunter2" || c.Token != "" {
				t.Errorf("user/password not taken: %+v", c)
			}
		}},
		{"nats://s3cr3t@h1:4222", []string{"nats://h1:4222"}, func(t *testing.T, c Config) {
			if c.Token != "s3cr3t" || c.User != "" {
				t.Errorf("token not taken: %+v", c)
			}
		}},
		{"nats://a:4222,b:4223,c", []string{"nats://a:4222", "nats://b:4223", "nats://c:4222"}, nil},
		{"nats://a:4222,nats://b:4223, nats://c:4224", []string{"nats://a:4222", "nats://b:4223", "nats://c:4224"}, nil},
		{"tls://h:4443", []string{"tls://h:4443"}, func(t *testing.T, c Config) {
			if c.TLS == nil {
				t.Error("tls:// did not turn TLS on")
			}
		}},
		{"nats://[::1]:4222", []string{"nats://[::1]:4222"}, nil},
		{"nats://h?jetstream=EVENTS&subjects=codeworm.>,x&replicas=3&max_age=1h&max_bytes=1024&start=new&mapping=dots&flush=true&reconnect_buffer=65536&name=svc&publish_timeout=3s",
			[]string{"nats://h:4222"}, func(t *testing.T, c Config) {
				js := c.JetStream
				if js == nil || js.Stream != "EVENTS" || !slices.Equal(js.Subjects, []string{"codeworm.>", "x"}) ||
					js.Replicas != 3 || js.MaxAge != time.Hour || js.MaxBytes != 1024 || js.Start != StartNew {
					t.Errorf("JetStream parameters not taken: %+v", js)
				}
				if c.Mapping != ColonToDot || !c.Flush || c.ReconnectBuffer != 65536 || c.Name != "svc" || c.PublishTimeout != 3*time.Second {
					t.Errorf("parameters not taken: %+v", c)
				}
			}},
		{"nats://h?jetstream=true", []string{"nats://h:4222"}, func(t *testing.T, c Config) {
			c.setDefaults()
			if c.JetStream == nil || c.JetStream.Stream != DefaultStream {
				t.Errorf("jetstream=true: %+v", c.JetStream)
			}
		}},
	}
	for _, tc := range cases {
		u, err := parseURL(tc.url)
		if err != nil {
			t.Fatalf("parseURL(%q): %v", tc.url, err)
		}
		var c Config
		if err := c.fromURL(u); err != nil {
			t.Fatalf("fromURL(%q): %v", tc.url, err)
		}
		if !slices.Equal(c.Servers, tc.servers) {
			t.Errorf("%q: servers %q, want %q", tc.url, c.Servers, tc.servers)
		}
		if tc.check != nil {
			tc.check(t, c)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("%q: Validate: %v", tc.url, err)
		}
	}
}

// TestOptionsKeepURLSettings: a single-setting option changes that setting
// alone, after the URL; WithConfig sets the fields its Config sets and
// keeps the URL's for the rest.
func TestOptionsKeepURLSettings(t *testing.T) {
	u, err := parseURL("nats://user:pw@h:4222?jetstream=EVENTS&mapping=dots")
	if err != nil {
		t.Fatal(err)
	}
	var c Config
	if err := c.fromURL(u); err != nil {
		t.Fatal(err)
	}
	base := c
	for _, o := range []Option{WithPublishTimeout(time.Second), WithConnectTimeout(3 * time.Second),
		WithReconnectWait(time.Millisecond), WithSubscriptionBuffer(7)} {
		o(&c)
	}
	if c.PublishTimeout != time.Second || c.ConnectTimeout != 3*time.Second || c.ReconnectWait != time.Millisecond || c.SubscriptionBuffer != 7 {
		t.Errorf("options not applied: %+v", c)
	}
	if c.JetStream == nil || c.JetStream.Stream != "EVENTS" || c.Mapping != ColonToDot || c.User != "user" || c.Password != "pw" {
		t.Errorf("options dropped settings from the URL: %+v", c)
	}
	merged := base
	WithConfig(Config{PublishTimeout: time.Second, User: "other", Password: "pw2"})(&merged)
	if merged.PublishTimeout != time.Second || merged.User != "other" || merged.Password != "pw2" {
		t.Errorf("WithConfig did not set the fields its Config sets: %+v", merged)
	}
	if merged.JetStream == nil || merged.JetStream.Stream != "EVENTS" || merged.Mapping != ColonToDot || !slices.Equal(merged.Servers, base.Servers) {
		t.Errorf("WithConfig dropped URL settings its Config leaves zero: %+v", merged)
	}
	WithConfig(Config{Servers: []string{"nats://other:4222"}})(&merged)
	if !slices.Equal(merged.Servers, []string{"nats://other:4222"}) {
		t.Errorf("WithConfig did not set Servers: %v", merged.Servers)
	}
}

func TestParseURLErrorsHideSecrets(t *testing.T) {
	for _, raw := range []string{
		"redis://u:hunter2@h",                           // wrong scheme
		"nats://u:hunter2@h/path",                       // a path
		"nats://u:hunter2@h?bogus=1",                    // unknown parameter
		"nats://u:hunter2@h?replicas=many",              // bad value
		"nats://u:hunter2@a:1,,b:2",                     // empty server
		"nats://hunter2@h?start=sometimes",              // bad value, token user
		"nats://u:hunter2@h?jetstream=a.b",              // bad stream name (Validate)
		"nats://u:hunter2@h:99999999999x",               // unparsable
		"nats://u:hunter2@h?mapping=sideways",           // bad mapping
		"nats://u:hunter2@h?jetstream=false&subjects=x", // JetStream both off and on
		"nats://h?token=hunter2&replicas=many",          // bad value beside a token
	} {
		u, err := parseURL(raw)
		if err == nil {
			var c Config
			if err = c.fromURL(u); err == nil {
				c.setDefaults()
				err = c.Validate()
			}
		}
		if err == nil {
			t.Errorf("%q accepted", raw)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%q: error leaks the secret: %v", raw, err)
		}
	}
}

func TestValidSubject(t *testing.T) {
	good := []string{"codeworm:events", "a.b.c", "événements-日本", "x_y-z", "$SYS.x"}
	for _, s := range good {
		if err := validSubject(s, false); err != nil {
			t.Errorf("validSubject(%q) = %v, want nil", s, err)
		}
	}
	bad := map[string]error{
		"": errEmpty, "a b": errSpace, "a\tb": errSpace, "a\x00b": errSpace, "a\x7fb": errSpace,
		"a*": errWildcard, ">": errWildcard, "a..b": errEmptyTok, ".a": errEmptyTok, "a.": errEmptyTok,
		strings.Repeat("x", maxSubjectLen+1): errTooLong,
	}
	for s, want := range bad {
		if err := validSubject(s, false); !errors.Is(err, want) {
			t.Errorf("validSubject(%.20q) = %v, want %v", s, err, want)
		}
	}
	for s, want := range map[string]error{"a.*": nil, "a.>": nil, "*.b.>": nil, "a*.b": errBadWild, "a.>.b": errFullWLast} {
		if err := validSubject(s, true); !errors.Is(err, want) {
			t.Errorf("validSubject(%q, wild) = %v, want %v", s, err, want)
		}
	}
}

// TestValidSubjectEveryOffset puts each special byte, and some plain ones,
// at every offset of subjects of 1 to 41 bytes: validSubject must agree with
// what the byte means there.
func TestValidSubjectEveryOffset(t *testing.T) {
	var bytes []byte
	for c := 0; c < 256; c++ {
		if special[c] {
			bytes = append(bytes, byte(c))
		}
	}
	bytes = append(bytes, '!', ')', '+', '=', '?', 0x7e, 0x80, 0xff, 'a', ':')
	for n := 1; n <= 41; n++ {
		for _, c := range bytes {
			for at := 0; at < n; at++ {
				b := []byte(strings.Repeat("codeworm", 6)[:n])
				b[at] = c
				// A '.' inside separates two tokens; any other special
				// byte, or a '.' at either end, makes the subject invalid.
				wantErr := special[c] && (c != '.' || at == 0 || at == n-1)
				if err := validSubject(string(b), false); (err != nil) != wantErr {
					t.Fatalf("validSubject(%q): %v", b, err)
				}
			}
		}
	}
}

func TestSubjectMapping(t *testing.T) {
	keep := &Transport{cfg: Config{Mapping: KeepNames}}
	dots := &Transport{cfg: Config{Mapping: ColonToDot}}
	if s, err := keep.subject("codeworm:events"); err != nil || s != "codeworm:events" {
		t.Errorf("KeepNames: %q, %v", s, err)
	}
	if s, err := dots.subject("codeworm:events"); err != nil || s != "codeworm.events" {
		t.Errorf("ColonToDot: %q, %v", s, err)
	}
	if got := dots.channel("codeworm.events"); got != "codeworm:events" {
		t.Errorf("ColonToDot reverse: %q", got)
	}
	if _, err := dots.subject("app.events"); !errors.Is(err, transport.ErrInvalidChannel) || !strings.Contains(err.Error(), `"app.events"`) {
		t.Errorf("ColonToDot app.events: %v, want ErrInvalidChannel naming the channel", err)
	}
	_, err := dots.subject("a::b")
	if !errors.Is(err, transport.ErrInvalidChannel) || !strings.Contains(err.Error(), `"a::b"`) {
		t.Errorf("ColonToDot a::b: %v, want ErrInvalidChannel naming the channel", err)
	}
	if p, err := dots.pattern("codeworm:>"); err != nil || p != "codeworm.>" {
		t.Errorf("ColonToDot pattern: %q, %v", p, err)
	}
}

func TestSubjectMatches(t *testing.T) {
	cases := []struct {
		filter, subj string
		want         bool
	}{
		{"a.b", "a.b", true}, {"a.b", "a.c", false}, {"a.*", "a.b", true}, {"a.*", "a.b.c", false},
		{"a.>", "a.b.c", true}, {"a.>", "a", false}, {">", "x", true}, {"a", "a.b", false}, {"a.b", "a", false},
		{"codeworm:events", "codeworm:events", true}, {"*", "codeworm:events", true},
	}
	for _, c := range cases {
		if got := subjectMatches(c.filter, c.subj); got != c.want {
			t.Errorf("subjectMatches(%q, %q) = %v, want %v", c.filter, c.subj, got, c.want)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	bad := []Config{
		{Token: "t", User: "u"},
		{Password: "p"},
		{ReconnectBuffer: -1},
		{NKeySeedFile: "a", CredentialsFile: "b"},
		{Mapping: 7},
		{JetStream: &JetStreamConfig{Replicas: 9}},
		{JetStream: &JetStreamConfig{Stream: "a b"}},
		{JetStream: &JetStreamConfig{Subjects: []string{"a..b"}}},
	}
	for _, c := range bad {
		c.setDefaults()
		if err := c.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil, want an error", c)
		}
	}
	var c Config
	c.JetStream = &JetStreamConfig{}
	c.setDefaults()
	if err := c.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
	js := c.JetStream
	if js.Stream != "EVENTPUB" || js.MaxAge != 24*time.Hour || js.MaxBytes != 1<<30 || js.Replicas != 1 || js.Start != StartAll {
		t.Errorf("JetStream defaults: %+v", js)
	}
	if c.ReconnectBuffer != 0 || c.PublishTimeout != DefaultPublishTimeout || c.Name != "eventpub" {
		t.Errorf("defaults: %+v", c)
	}
}

// TestValidateJoinsEveryProblem: Validate names every bad setting, not
// only the first.
func TestValidateJoinsEveryProblem(t *testing.T) {
	c := Config{PublishTimeout: -time.Second, ReconnectBuffer: -1, Password: "pw",
		JetStream: &JetStreamConfig{Replicas: 9, Subjects: []string{"a b", ""}}}
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate accepted a bad Config")
	}
	for _, want := range []string{"PublishTimeout", "ReconnectBuffer", "password needs a user", "Replicas 9", `JetStream subject "a b"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error does not name %q: %v", want, err)
		}
	}
	if !errors.Is(err, transport.ErrInvalidChannel) {
		t.Errorf("bad JetStream subject does not match ErrInvalidChannel: %v", err)
	}
}
