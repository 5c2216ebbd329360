package kafka_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/eventpub/eventpub/kafka"
	"github.com/eventpub/eventpub/transport"
)

func TestTopicMapping(t *testing.T) {
	cases := []struct {
		m              kafka.Mapping
		channel, topic string
	}{
		{kafka.Escape, "codeworm:events", "codeworm.events"},
		{kafka.Escape, "job_done", "job__done"},
		{kafka.Escape, "a.b", "a_2eb"},
		{kafka.Escape, "été", "_c3_a9t_c3_a9"},
		{kafka.Escape, "with space", "with_20space"},
		{kafka.ColonToDot, "codeworm:events", "codeworm.events"},
		{kafka.ColonToDot, "svc_logs-1", "svc_logs-1"},
		{kafka.KeepNames, "svc.logs", "svc.logs"},
	}
	for _, c := range cases {
		topic, err := kafka.TopicFor(c.m, c.channel)
		if err != nil || topic != c.topic {
			t.Errorf("TopicFor(%v, %q) = %q, %v; want %q", c.m, c.channel, topic, err, c.topic)
			continue
		}
		if back, ok := kafka.ChannelFor(c.m, topic); !ok || back != c.channel {
			t.Errorf("ChannelFor(%v, %q) = %q, %v; want %q", c.m, topic, back, ok, c.channel)
		}
	}
	refused := []struct {
		m       kafka.Mapping
		channel string
		why     string
	}{
		{kafka.ColonToDot, "a.b", "would give back to subscribers as ':'"},
		{kafka.ColonToDot, "été", "a Kafka topic holds only"},
		{kafka.KeepNames, "a:b", "a Kafka topic holds only"},
		{kafka.Escape, strings.Repeat("é", 42), "over Kafka's limit of 249"},
		{kafka.ColonToDot, ":", "which Kafka refuses"},
		{kafka.Escape, "", "empty"},
	}
	for _, c := range refused {
		_, err := kafka.TopicFor(c.m, c.channel)
		if !errors.Is(err, transport.ErrInvalidChannel) || !strings.Contains(err.Error(), c.why) {
			t.Errorf("TopicFor(%v, %q) = %v, want ErrInvalidChannel saying %q", c.m, c.channel, err, c.why)
		}
	}
	for _, topic := range []string{"a_2", "a_zz", "a_3a", "a_", "bad topic"} {
		if ch, ok := kafka.ChannelFor(kafka.Escape, topic); ok {
			t.Errorf("ChannelFor(Escape, %q) = %q: no channel maps to that topic", topic, ch)
		}
	}
}

// FuzzEscapeRoundTrip: every channel Escape accepts maps to a valid topic
// that maps back to it.
func FuzzEscapeRoundTrip(f *testing.F) {
	for _, s := range []string{"codeworm:events", "a_b.c", "été", "__", "_2e", "x-y"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, channel string) {
		topic, err := kafka.TopicFor(kafka.Escape, channel)
		if err != nil {
			if !errors.Is(err, transport.ErrInvalidChannel) {
				t.Fatalf("TopicFor(%q) = %v", channel, err)
			}
			return
		}
		if len(topic) > kafka.MaxTopicLen || strings.Trim(topic, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != "" {
			t.Fatalf("TopicFor(%q) = %q is no valid topic", channel, topic)
		}
		if back, ok := kafka.ChannelFor(kafka.Escape, topic); !ok || back != channel {
			t.Fatalf("ChannelFor(%q) = %q, %v; want %q", topic, back, ok, channel)
		}
	})
}
