package amqp

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/eventpub/eventpub/transport"
	amqp091 "github.com/rabbitmq/amqp091-go"
)

// Errors specific to AMQP.
var (
	// ErrAuth: the broker refused the user name or password, the vhost, or
	// the TLS handshake failed. It also matches transport.ErrAuth, never
	// transport.ErrUnavailable. The password is never in its text.
	ErrAuth = errors.New("eventpub/amqp: authentication failed")
	// ErrPermission: the broker refused an operation on a resource
	// (ACCESS_REFUSED: no write permission on the exchange, no configure
	// permission for the queue, a reserved "amq." name). It also matches
	// transport.ErrAuth.
	ErrPermission = errors.New("eventpub/amqp: access refused")
	// ErrUnroutable: with Mandatory, the broker returned the message
	// because no queue is bound to receive it. It is permanent: sending
	// again does not help until a queue is bound.
	ErrUnroutable = errors.New("eventpub/amqp: message unroutable (no queue bound for its routing key)")
)

// sentinelError matches each of its sentinels with errors.Is.
type sentinelError struct {
	sentinels []error
	msg       string
}

func (e *sentinelError) Error() string    { return e.msg }
func (e *sentinelError) GoString() string { return fmt.Sprintf("amqp.Error(%q)", e.msg) }
func (e *sentinelError) Unwrap() []error  { return e.sentinels }

func authErr(cause error, where string) error {
	return &sentinelError{sentinels: []error{ErrAuth, transport.ErrAuth, cause}, msg: ErrAuth.Error() + ": " + where + ": " + cause.Error()}
}

func permErr(cause error, op string) error {
	return &sentinelError{sentinels: []error{ErrPermission, transport.ErrAuth, cause}, msg: ErrPermission.Error() + ": " + op + ": " + cause.Error()}
}

func unroutable(channel string) error {
	return &sentinelError{sentinels: []error{ErrUnroutable},
		msg: fmt.Sprintf("%s: channel %s", ErrUnroutable, transport.QuoteChannel(channel))}
}

// scrub returns err with the password masked in its text, keeping its
// chain (transport.RedactError). Passwords under 3 bytes are left alone:
// masking them would mangle ordinary words.
func (t *Transport) scrub(err error) error {
	if len(t.ep.password) < 3 {
		return err
	}
	return transport.RedactError(err, t.ep.password)
}

// isAuthDial reports errors of a connection attempt that come from the
// credentials, the vhost or TLS settings.
func isAuthDial(err error) bool {
	var aerr *amqp091.Error
	if errors.As(err, &aerr) && (aerr.Code == amqp091.AccessRefused || aerr.Code == amqp091.NotAllowed) {
		return true
	}
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var certInvalid x509.CertificateInvalidError
	var recordHeader tls.RecordHeaderError
	return errors.As(err, &unknownAuthority) || errors.As(err, &hostname) || errors.As(err, &certInvalid) ||
		errors.As(err, &recordHeader) || strings.Contains(err.Error(), "tls: ")
}

// classify maps an error from amqp091-go to the transport sentinels; op
// names the operation for permission errors.
func (t *Transport) classify(ctx context.Context, err error, op string) error {
	if err == nil {
		return nil
	}
	if ctx != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	if t.closed.Load() {
		return transport.ErrClosed
	}
	if strings.HasPrefix(err.Error(), "eventpub") {
		return err // classified already
	}
	err = t.scrub(err)
	var aerr *amqp091.Error
	if errors.As(err, &aerr) {
		switch aerr.Code {
		case amqp091.AccessRefused:
			return permErr(err, op)
		case amqp091.NotAllowed:
			return authErr(err, t.ep.redacted)
		case amqp091.ContentTooLarge:
			return transport.Invalid(transport.ErrPayloadTooLarge, "eventpub/amqp: %s: %v", op, err)
		case amqp091.PreconditionFailed:
			if strings.Contains(aerr.Reason, "message size") {
				return transport.Invalid(transport.ErrPayloadTooLarge, "eventpub/amqp: %s: %v (raise the broker's max_message_size or lower MaxPayload)", op, err)
			}
			return fmt.Errorf("eventpub/amqp: %s: %w", op, err)
		case amqp091.NotFound, amqp091.ResourceLocked, amqp091.NotImplemented,
			amqp091.SyntaxError, amqp091.CommandInvalid, amqp091.InvalidPath:
			return fmt.Errorf("eventpub/amqp: %s: %w", op, err)
		}
		// Connection-level and resource errors (CONNECTION_FORCED, frame
		// errors, INTERNAL_ERROR, "channel/connection is not open"): the
		// link is gone or the broker cannot serve now.
		return transport.Unavailable(fmt.Errorf("eventpub/amqp: %s: %s: %w", t.ep.redacted, op, err))
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, context.DeadlineExceeded) {
		return transport.Unavailable(fmt.Errorf("eventpub/amqp: %s: %s: %w", t.ep.redacted, op, err))
	}
	return fmt.Errorf("eventpub/amqp: %s: %w", op, err)
}
