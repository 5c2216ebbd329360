package kafka

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestFromURL(t *testing.T) {
	var c Config
	err := c.fromURL("kafka://alice:hunter2@a:9093,b/?mapping=dots&create=false&partitions=3&replication=2&from=start&group=g1&buffer=10&max_batch_bytes=2000000&publish_timeout=3s&connect_timeout=1s&client_id=svc&sasl=scram-sha-512")
	if err != nil {
		t.Fatal(err)
	}
	want := Config{Brokers: []string{"a:9093", "b:9092"}, ClientID: "svc", Mapping: ColonToDot, RequireTopics: true,
		Partitions: 3, ReplicationFactor: 2, From: FromStart, Group: "g1", SubscriptionBuffer: 10,
		MaxRecordBatchBytes: 2_000_000, PublishTimeout: 3 * time.Second, ConnectTimeout: time.Second,
		User: "alice", Password: "hunter2", SASL: SASLScramSHA512}
	if fmt.Sprint(c) != fmt.Sprint(want) || c.Password != want.Password || c.PublishTimeout != want.PublishTimeout ||
		c.Partitions != 3 || c.ReplicationFactor != 2 || c.MaxRecordBatchBytes != 2_000_000 || c.SubscriptionBuffer != 10 {
		t.Fatalf("fromURL gave %+v\nwant %+v", c, want)
	}
}

func TestFromURLErrorsHideSecrets(t *testing.T) {
	cases := map[string]string{
		"nats://u:hunter2@a:1":                  "scheme must be kafka",
		"kafka://u:hunter2@":                    "names no broker",
		"kafka://u:hunter2@a:1/topic":           "has no path",
		"kafka://u:hunter2@a:99999":             "is not host:port",
		"kafka://u:hunter2@a:1?mapping=x":       "escape, dots or keep",
		"kafka://u:hunter2@a:1?from=middle":     "end or start",
		"kafka://u:hunter2@a:1?nope=1":          `unknown parameter "nope"`,
		"kafka://u:hunter2@a:1?partitions=many": "partitions=",
		"kafka://u:hunter2@a:1?sasl=gssapi":     "plain, scram-sha-256 or scram-sha-512",
		"kafka://u:hunter2@a:1?tls_cert=x":      "tls_cert and tls_key go together",
	}
	for raw, want := range cases {
		var c Config
		err := c.fromURL(raw)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("fromURL(%q) = %v, want it to say %q", raw, err, want)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("fromURL(%q) leaks the password: %v", raw, err)
		}
	}
}

func TestValidateJoinsEveryProblem(t *testing.T) {
	c := Config{Brokers: []string{"nohost"}, Mapping: 9, Partitions: -1, ReplicationFactor: 0,
		From: 5, SubscriptionBuffer: -1, MaxRecordBatchBytes: 10, PublishTimeout: time.Millisecond,
		ConnectTimeout: -1, Password: "hunter2", SASL: 7}
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate accepted a broken config")
	}
	for _, want := range []string{`broker "nohost"`, "unknown Mapping 9", "Partitions -1", "ReplicationFactor 0",
		"unknown From 5", "SubscriptionBuffer -1", "MaxRecordBatchBytes 10", "PublishTimeout 1ms",
		"ConnectTimeout -1ns", "a password needs a user name", "unknown SASL mechanism 7"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error does not mention %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Errorf("Validate leaks the password: %v", err)
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		if !strings.HasPrefix(line, "eventpub/kafka: ") {
			t.Errorf("error line without the package prefix: %q", line)
		}
	}
	ok := Config{Brokers: []string{"a:9092"}}
	ok.setDefaults()
	if err := ok.Validate(); err != nil {
		t.Fatalf("defaults do not validate: %v", err)
	}
}

func TestConfigFormatsHidePassword(t *testing.T) {
	c := Config{Brokers: []string{"a:9092"}, User: "alice", Password: "hunter2"}
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		if s := fmt.Sprintf(f, c); strings.Contains(s, "hunter2") || !strings.Contains(s, "alice") {
			t.Errorf("Sprintf(%q) = %s", f, s)
		}
		if s := fmt.Sprintf(f, &c); strings.Contains(s, "hunter2") {
			t.Errorf("Sprintf(%q, &c) = %s", f, s)
		}
	}
	wrapped := c.scrub(errors.New("auth failed for alice/hunter2"))
	if strings.Contains(wrapped.Error(), "hunter2") {
		t.Fatalf("scrub left the password: %v", wrapped)
	}
}
