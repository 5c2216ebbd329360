package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/eventpub/eventpub/transport"
	goredis "github.com/redis/go-redis/v9"
)

// Errors specific to Redis. Both also carry the server's reply text.
var (
	// ErrPermission: the ACL user may not run the command on this channel
	// (a NOPERM reply). It also matches transport.ErrAuth. Other channels
	// may still work.
	ErrPermission = errors.New("redis: permission denied")
	// ErrAuth: Redis refused the user name or password (WRONGPASS, NOAUTH).
	// It also matches transport.ErrAuth, not transport.ErrUnavailable: it is
	// no outage to wait out. The password is never in its text.
	ErrAuth = errors.New("redis: authentication failed")
)

// kind classifies an error from go-redis.
type kind int

const (
	kindOther   kind = iota // a Redis reply error
	kindNetwork             // the connection failed: mark the broker down
	kindBusy                // Redis answered it cannot serve now (LOADING…)
)

// mapErr turns an error from go-redis into the transport's classification.
// ctx's own error wins; network errors mark the broker down.
func (t *Transport) mapErr(ctx context.Context, err error) error { return t.mapErrOp(ctx, err, "") }

// mapErrOp is mapErr naming the refused operation in permission errors,
// as Redis does not always name the channel.
func (t *Transport) mapErrOp(ctx context.Context, err error, op string) error {
	if err == nil {
		return nil
	}
	if ctx != nil && ctx.Err() != nil {
		// The caller gave up; if the connection failed too (a read that
		// hit the caller's deadline on a stalled link), Redis is marked
		// down all the same, so the next calls fail fast.
		if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) &&
			!errors.Is(err, goredis.ErrClosed) && classify(err) == kindNetwork {
			t.markDown(fmt.Errorf("%s: %w", t.addr, t.scrub(err)))
		}
		return ctx.Err()
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		// A deadline inside go-redis (dial attempt) with a live caller ctx
		// means Redis did not answer in time.
		if ctx == nil || ctx.Err() == nil {
			cause := fmt.Errorf("%s: %w", t.addr, t.scrub(err))
			t.markDown(cause)
			return transport.Unavailable(cause)
		}
		return err
	}
	if errors.Is(err, goredis.ErrClosed) {
		if t.closed.Load() {
			return transport.ErrClosed
		}
		return fmt.Errorf("%w: the go-redis client was closed by its owner", transport.ErrClosed)
	}
	cause := fmt.Errorf("%s: %w", t.addr, t.scrub(err))
	switch classify(err) {
	case kindNetwork:
		t.markDown(cause)
		return transport.Unavailable(cause)
	case kindBusy:
		return transport.Unavailable(cause)
	}
	msg := t.scrub(err).Error()
	switch {
	case strings.HasPrefix(msg, "NOPERM"):
		if op != "" {
			op += ": "
		}
		return &sentinelError{sentinels: []error{ErrPermission, transport.ErrAuth}, msg: ErrPermission.Error() + ": " + op + t.addr + ": " + msg}
	case strings.HasPrefix(msg, "WRONGPASS"), strings.HasPrefix(msg, "NOAUTH"),
		strings.Contains(msg, "invalid password"), strings.Contains(msg, "invalid username-password"):
		return &sentinelError{sentinels: []error{ErrAuth, transport.ErrAuth}, msg: ErrAuth.Error() + ": " + t.addr + ": " + msg}
	case strings.Contains(msg, "invalid bulk length"), strings.Contains(msg, "max bulk"):
		return transport.Invalid(transport.ErrPayloadTooLarge, "%s: %s", t.addr, msg)
	}
	return cause
}

// classify says whether err is a Redis reply or a failure to talk to Redis.
func classify(err error) kind {
	var rerr goredis.Error
	if errors.As(err, &rerr) {
		msg := rerr.Error()
		for _, p := range []string{"LOADING", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "BUSY "} {
			if strings.HasPrefix(msg, p) {
				return kindBusy
			}
		}
		return kindOther
	}
	// Every other error comes from the connection: dial, TLS, I/O, EOF,
	// timeouts, pool timeouts.
	return kindNetwork
}

// scrub returns err, or an error with the same text less the password
// when the text contains it. Classification is done on the original.
func (t *Transport) scrub(err error) error {
	if err == nil || t.secret == "" || !strings.Contains(err.Error(), t.secret) {
		return err
	}
	return errors.New(strings.ReplaceAll(err.Error(), t.secret, "xxxxx"))
}

// sentinelError matches each of its sentinels with errors.Is.
type sentinelError struct {
	sentinels []error
	msg       string
}

func (e *sentinelError) Error() string   { return e.msg }
func (e *sentinelError) Unwrap() []error { return e.sentinels }
