package redis

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/eventpub/eventpub/transport"
	goredis "github.com/redis/go-redis/v9"
)

// Every error of this package starts with "eventpub/redis: ", names the
// server (password masked) and gives the cause. Three kinds are worded and
// classified apart:
//
//   - cannot reach: the connection failed (refused, DNS, timeout, reset);
//     matches transport.ErrUnavailable and wraps the cause.
//   - refused the credentials: a wrong password or user, or a TLS
//     certificate that does not verify; matches ErrAuth and
//     transport.ErrAuth.
//   - refused the settings: Redis answered but will not take the
//     configuration (a database index it does not have); matches
//     transport.ErrConfig.

// Errors specific to Redis. Both also carry the server's reply text.
var (
	// ErrPermission: the ACL user may not run the command on this channel
	// (a NOPERM reply). It also matches transport.ErrAuth. Other channels
	// may still work.
	ErrPermission = errors.New("eventpub/redis: permission denied")
	// ErrAuth: Redis refused the user name or password (WRONGPASS, NOAUTH),
	// or the server's TLS certificate did not verify. It also matches
	// transport.ErrAuth, not transport.ErrUnavailable: it is no outage to
	// wait out. The password is never in its text.
	ErrAuth = errors.New("eventpub/redis: authentication failed")
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
			t.markDown(t.scrub(err))
		}
		return ctx.Err()
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		// A deadline inside go-redis (dial attempt) with a live caller ctx
		// means Redis did not answer in time.
		if ctx == nil || ctx.Err() == nil {
			cause := t.scrub(err)
			t.markDown(cause)
			return t.unavailable(cause)
		}
		return err
	}
	if errors.Is(err, goredis.ErrClosed) {
		if t.closed.Load() {
			return transport.ErrClosed
		}
		return fmt.Errorf("%w: the go-redis client was closed by its owner", transport.ErrClosed)
	}
	if certErr(err) {
		return &classified{is: []error{ErrAuth, transport.ErrAuth}, cause: t.scrub(err),
			msg: fmt.Sprintf("eventpub/redis: %s: TLS: the server's certificate was refused: %s", t.addr, t.scrub(err))}
	}
	switch classify(err) {
	case kindNetwork:
		cause := t.scrub(err)
		t.markDown(cause)
		return t.unavailable(cause)
	case kindBusy:
		return t.unavailable(t.scrub(err))
	}
	msg := t.scrub(err).Error()
	switch {
	case strings.HasPrefix(msg, "NOPERM"):
		if op != "" {
			op += ": "
		}
		return &classified{is: []error{ErrPermission, transport.ErrAuth}, cause: t.scrub(err),
			msg: ErrPermission.Error() + ": " + op + t.addr + ": " + msg}
	case strings.HasPrefix(msg, "WRONGPASS"), strings.HasPrefix(msg, "NOAUTH"),
		strings.Contains(msg, "invalid password"), strings.Contains(msg, "invalid username-password"),
		strings.Contains(msg, "without any password configured"):
		return &classified{is: []error{ErrAuth, transport.ErrAuth}, cause: t.scrub(err),
			msg: fmt.Sprintf("eventpub/redis: %s refused the credentials: %s", t.addr, msg)}
	case strings.Contains(msg, "DB index is out of range"), strings.Contains(msg, "invalid DB index"),
		strings.Contains(msg, "SELECT is not allowed"):
		return &classified{is: []error{transport.ErrConfig}, cause: t.scrub(err),
			msg: fmt.Sprintf("eventpub/redis: %s refused the settings (check the database number in the URL): %s", t.addr, msg)}
	case strings.Contains(msg, "invalid bulk length"), strings.Contains(msg, "max bulk"):
		return transport.Invalid(transport.ErrPayloadTooLarge, "eventpub/redis: %s: %s", t.addr, msg)
	}
	return &classified{cause: t.scrub(err), msg: fmt.Sprintf("eventpub/redis: %s: %s", t.addr, msg)}
}

// unavailable returns the error for a Redis that cannot be reached now
// because of cause (already scrubbed): it matches
// transport.ErrUnavailable and cause.
func (t *Transport) unavailable(cause error) error {
	msg := "eventpub/redis: cannot reach " + t.addr
	if cause != nil {
		msg += ": " + cause.Error()
	}
	return &classified{is: []error{transport.ErrUnavailable}, cause: cause, msg: msg}
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

// certErr reports a TLS certificate that did not verify: a settings
// problem (wrong CA, wrong host name), not an outage.
func certErr(err error) bool {
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	return errors.As(err, &unknownAuthority) || errors.As(err, &hostname) ||
		errors.As(err, &invalid) || errors.As(err, &verify)
}

// scrub returns err with the password masked in its text; errors.Is and
// errors.As still see the original. Classification is done on the original.
func (t *Transport) scrub(err error) error { return transport.RedactError(err, t.secret) }

// classified is an error of this package: its own text, and it matches
// each of is and the cause with errors.Is.
type classified struct {
	is    []error
	cause error
	msg   string
}

func (e *classified) Error() string { return e.msg }
func (e *classified) Unwrap() []error {
	if e.cause == nil {
		return e.is
	}
	return append(e.is[:len(e.is):len(e.is)], e.cause)
}
