package kafka

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/eventpub/eventpub/transport"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ErrAuth reports that a broker refused the credentials, the TLS handshake
// failed, or an ACL refused the topic. It is a configuration error, not an
// outage. An error that matches it with errors.Is also matches
// transport.ErrAuth, never transport.ErrUnavailable. Its text never holds
// the password.
var ErrAuth = errors.New("eventpub/kafka: not authorized (SASL, TLS or ACL)")

// errDown is the cause given while no broker answers.
var errDown = errors.New("eventpub/kafka: no broker answers (checking again in the background)")

// authError matches ErrAuth, transport.ErrAuth and its cause.
type authError struct {
	msg   string
	cause error
}

func (e *authError) Error() string   { return e.msg }
func (e *authError) Unwrap() []error { return []error{ErrAuth, transport.ErrAuth, e.cause} }

// scrubbed keeps an error's identity for errors.Is but shows a cleaned text.
type scrubbed struct {
	msg string
	err error
}

func (s *scrubbed) Error() string { return s.msg }
func (s *scrubbed) Unwrap() error { return s.err }

// scrub removes the password from err's text.
func (c *Config) scrub(err error) error {
	if err == nil || c.Password == "" {
		return err
	}
	msg := err.Error()
	if !strings.Contains(msg, c.Password) {
		return err
	}
	return &scrubbed{msg: strings.ReplaceAll(msg, c.Password, "xxxxx"), err: err}
}

// isAuthErr reports errors that come from credentials, TLS or ACLs.
func isAuthErr(err error) bool {
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var certInvalid x509.CertificateInvalidError
	switch {
	case errors.Is(err, kerr.SaslAuthenticationFailed), errors.Is(err, kerr.UnsupportedSaslMechanism),
		errors.Is(err, kerr.IllegalSaslState), errors.Is(err, kerr.TopicAuthorizationFailed),
		errors.Is(err, kerr.ClusterAuthorizationFailed), errors.Is(err, kerr.GroupAuthorizationFailed),
		errors.As(err, &unknownAuthority), errors.As(err, &hostname), errors.As(err, &certInvalid):
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "tls: ") || strings.Contains(msg, "x509: ")
}

// isOutage reports errors a working broker would not give: the link or
// the cluster is down, or busy for a while.
func isOutage(err error) bool {
	var netErr net.Error
	var kErr *kerr.Error
	switch {
	case errors.Is(err, kgo.ErrRecordTimeout), errors.Is(err, kgo.ErrRecordRetries),
		errors.Is(err, kgo.ErrMaxBuffered), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, net.ErrClosed), errors.Is(err, errDown),
		errors.As(err, &netErr):
		return true
	case errors.As(err, &kErr):
		return kErr.Retriable || kErr == kerr.NotEnoughReplicas || kErr == kerr.NotEnoughReplicasAfterAppend
	}
	return strings.Contains(err.Error(), "unable to dial") || strings.Contains(err.Error(), "connection refused")
}

// classify maps an error from franz-go to the transport sentinels. ctx is
// the caller's context (nil when there is none).
func (t *Transport) classify(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ctx != nil && ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return ctx.Err()
	}
	for _, known := range []error{transport.ErrUnavailable, transport.ErrInvalidChannel,
		transport.ErrPayloadTooLarge, transport.ErrAuth, transport.ErrClosed} {
		if errors.Is(err, known) {
			return err // classified already
		}
	}
	err = t.cfg.scrub(err)
	switch {
	case t.closed.Load() && errors.Is(err, kgo.ErrClientClosed):
		return transport.ErrClosed
	case errors.Is(err, kerr.MessageTooLarge), errors.Is(err, kerr.RecordListTooLarge):
		return transport.Invalid(transport.ErrPayloadTooLarge, "%v (limit %d bytes)", err, t.maxPayload())
	case errors.Is(err, kerr.InvalidTopicException), errors.Is(err, kerr.UnknownTopicOrPartition) && t.cfg.RequireTopics:
		return transport.Invalid(transport.ErrInvalidChannel, "%v", err)
	case isAuthErr(err):
		return &authError{msg: ErrAuth.Error() + ": " + err.Error(), cause: err}
	case errors.Is(err, context.Canceled):
		// A record failed because the driver saw the cluster go down.
		return transport.Unavailable(errDown)
	case isOutage(err):
		return transport.Unavailable(err)
	}
	return fmt.Errorf("eventpub/kafka: %w", err)
}
