package redis_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/redis"
	"github.com/eventpub/eventpub/transport"
)

// An ACL user that may only publish to codeworm:* on a test-owned server.
func TestACL(t *testing.T) {
	const pw = "s3cret-pw-7731"
	srv := brokertest.StartRedisServer(t)
	if out, err := srv.Do("ACL", "SETUSER", "pub", "on", ">"+pw, "resetchannels", "&codeworm:*", "+publish", "+ping"); err != nil {
		t.Fatalf("ACL SETUSER: %v %s", err, out)
	}
	good := "redis://pub:" + pw + "@" + srv.Addr() + "/0"

	t.Run("AllowedChannel", func(t *testing.T) {
		tr := open(t, good)
		if err := tr.Publish(ctx5(t), transport.Message{Channel: chanName("codeworm"), Payload: []byte("x")}); err != nil {
			t.Fatalf("publish to codeworm:*: %v", err)
		}
		if strings.Contains(tr.String(), pw) {
			t.Fatalf("String() shows the password: %s", tr.String())
		}
	})

	t.Run("ForbiddenChannel", func(t *testing.T) {
		tr := open(t, good)
		err := tr.Publish(ctx5(t), transport.Message{Channel: "other:events", Payload: []byte("x")})
		if !errors.Is(err, redis.ErrPermission) || !errors.Is(err, transport.ErrAuth) {
			t.Fatalf("publish to other:events: %v, want ErrPermission", err)
		}
		if errors.Is(err, transport.ErrUnavailable) {
			t.Fatalf("a permission error must not mark the broker unavailable: %v", err)
		}
		if !strings.Contains(err.Error(), "other:events") || strings.Contains(err.Error(), pw) {
			t.Fatalf("error should name the channel and hide the password: %v", err)
		}
		// The transport is still usable for allowed channels.
		if err := tr.Publish(ctx5(t), transport.Message{Channel: "codeworm:ok", Payload: []byte("x")}); err != nil {
			t.Fatalf("allowed publish after a refused one: %v", err)
		}
		t.Logf("forbidden: %v", err)
	})

	t.Run("ForbiddenInTheMiddleOfABatch", func(t *testing.T) {
		tr := open(t, good)
		msgs := []transport.Message{
			{Channel: "codeworm:a", Payload: []byte("1")},
			{Channel: "other:b", Payload: []byte("2")},
			{Channel: "codeworm:c", Payload: []byte("3")},
		}
		err := tr.PublishBatch(ctx5(t), msgs)
		var be *transport.BatchError
		if !errors.As(err, &be) || be.Sent != 1 || len(be.Results) != 3 {
			t.Fatalf("PublishBatch = %#v, want a BatchError with Sent 1 and 3 results", err)
		}
		if be.Results[0] != nil || !errors.Is(be.Results[1], redis.ErrPermission) || be.Results[2] != nil {
			t.Fatalf("results %v: want [nil, ErrPermission, nil]", be.Results)
		}
	})

	t.Run("WrongPassword", func(t *testing.T) {
		const wrong = "not-the-pw-9911"
		tr := open(t, "redis://pub:"+wrong+"@"+srv.Addr()+"/0")
		err := tr.Publish(ctx5(t), transport.Message{Channel: "codeworm:x", Payload: []byte("x")})
		if !errors.Is(err, redis.ErrAuth) || !errors.Is(err, transport.ErrAuth) || errors.Is(err, transport.ErrUnavailable) {
			t.Fatalf("wrong password: %v, want ErrAuth (transport.ErrAuth, not ErrUnavailable)", err)
		}
		for _, s := range []string{err.Error(), tr.String()} {
			if strings.Contains(s, wrong) || strings.Contains(s, pw) {
				t.Fatalf("password leaked: %s", s)
			}
		}
		if err := tr.Ping(ctx5(t)); !errors.Is(err, redis.ErrAuth) {
			t.Fatalf("Ping with a wrong password: %v", err)
		}
		t.Logf("wrong password: %v", err)
	})
}
