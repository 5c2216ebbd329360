package mqtt

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestFromURL(t *testing.T) {
	cases := []struct {
		url  string
		want func(c Config) bool
	}{
		{"mqtt://localhost", func(c Config) bool { return c.Server == "mqtt://localhost:1883" && c.TLS == nil }},
		{"mqtts://broker.example", func(c Config) bool { return c.Server == "mqtts://broker.example:8883" && c.TLS != nil }},
		{"mqtt://[::1]:1884/", func(c Config) bool { return c.Server == "mqtt://[::1]:1884" }},
		{"mqtt://u:p%40ss@h:1", func(c Config) bool { return c.Username == "u" && c.Password == "p@ss" }},
		{"mqtt://h?qos=0", func(c Config) bool { return c.QoS.level() == 0 }},
		{"mqtt://h?qos=2", func(c Config) bool { return c.QoS.level() == 2 }},
		{"mqtt://h", func(c Config) bool { return c.QoS.level() == 1 }},
		{"mqtt://h?client_id=svc-1&clean=false&session_expiry=10m", func(c Config) bool {
			return c.ClientID == "svc-1" && c.KeepSession && c.SessionExpiry == 10*time.Minute
		}},
		{"mqtt://h?retain=true&keepalive=30s&connect_timeout=1s&publish_timeout=3s&buffer=10", func(c Config) bool {
			return c.Retain && c.KeepAlive == 30*time.Second && c.ConnectTimeout == time.Second && c.PublishTimeout == 3*time.Second && c.SubscriptionBuffer == 10
		}},
	}
	for _, tc := range cases {
		var c Config
		if err := c.fromURL(tc.url); err != nil {
			t.Errorf("%s: %v", tc.url, err)
			continue
		}
		if !tc.want(c) {
			t.Errorf("%s gave %s", tc.url, c)
		}
	}
}

func TestFromURLErrors(t *testing.T) {
	cases := map[string]string{
		"http://h":                        "scheme must be mqtt or mqtts",
		"mqtt://":                         "names no server",
		"mqtt://h/topic":                  "has no path",
		"mqtt://h:99999":                  "want host:port",
		"mqtt://h?qos=3":                  "want 0, 1 or 2",
		"mqtt://h?clean=maybe":            "parameter clean",
		"mqtt://h?bogus=1":                `unknown parameter "bogus"`,
		"mqtt://h?tls_cert=a.pem":         "tls_cert and tls_key go together",
		"mqtt://h?tls_ca=/does/not/exist": "tls_ca",
		"mqtt://u:hunter2@h?qos=9":        "want 0, 1 or 2",
	}
	for url, want := range cases {
		var c Config
		err := c.fromURL(url)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "eventpub/mqtt: ") {
			t.Errorf("%s: error %v, want one starting eventpub/mqtt: and saying %q", url, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: error %q shows the password", url, err)
		}
	}
}

// TestValidateJoinsEveryProblem checks Validate lists each bad field.
func TestValidateJoinsEveryProblem(t *testing.T) {
	c := Config{
		Server: "mqtt://h:1", QoS: QoS(7), KeepSession: true, Password: "pw",
		ConnectTimeout: -1, KeepAlive: 70000 * time.Second, SubscriptionBuffer: -2,
		ReconnectWait: time.Minute, MaxReconnectWait: time.Second,
	}
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate accepted a bad Config")
	}
	for _, want := range []string{"QoS level 6", "KeepSession needs a ClientID", "Password needs a Username",
		"ConnectTimeout -1ns is negative", "KeepAlive", "SubscriptionBuffer -2", "ReconnectWait 1m0s is over MaxReconnectWait"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error lacks %q:\n%v", want, err)
		}
	}
	if n := len(err.(interface{ Unwrap() []error }).Unwrap()); n != 7 {
		t.Errorf("Validate joined %d errors, want 7:\n%v", n, err)
	}
	if err := (&Config{Server: "mqtt://h:1"}).Validate(); err != nil {
		t.Errorf("a minimal Config: %v", err)
	}
	if err := (&Config{}).Validate(); err == nil || !strings.Contains(err.Error(), "Server is empty") {
		t.Errorf("an empty Config: %v", err)
	}
}

// TestConfigHidesPassword checks %v, %+v, %#v and %s of a Config.
func TestConfigHidesPassword(t *testing.T) {
	c := Config{Server: "mqtt://h:1", Username: "u", Password: "hunter2"}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(verb, c); strings.Contains(s, "hunter2") || !strings.Contains(s, "xxxxx") {
			t.Errorf("%s of a Config: %s", verb, s)
		}
		if s := fmt.Sprintf(verb, &c); strings.Contains(s, "hunter2") {
			t.Errorf("%s of a *Config: %s", verb, s)
		}
	}
}

func TestReasonErrors(t *testing.T) {
	for code, want := range map[byte]string{0x86: "not authorized", 0x87: "not authorized", 0x90: "invalid channel",
		0x95: "payload too large", 0x97: "broker unavailable", 0x83: "eventpub/mqtt: publish refused with reason code 0x83"} {
		if err := reasonError("publish", code, ""); !strings.Contains(err.Error(), want) {
			t.Errorf("reason 0x%02X: %v, want %q", code, err, want)
		}
	}
	if err := reasonError("publish", 0x83, ""); errors.Unwrap(err) != nil {
		t.Errorf("an unclassified refusal should be a plain permanent error, got %#v", err)
	}
}
