package nats

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/eventpub/eventpub/transport"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ErrAuth reports that the server refused the credentials or the TLS
// handshake failed. It is a configuration error, not an outage: retrying
// with the same settings will not help. Its text never holds the secret.
var ErrAuth = errors.New("eventpub/nats: authentication or TLS handshake failed")

// scrubbed keeps an error's identity for errors.Is but shows a cleaned text.
type scrubbed struct {
	msg string
	err error
}

func (s *scrubbed) Error() string { return s.msg }
func (s *scrubbed) Unwrap() error { return s.err }

// scrub removes every secret the configuration holds from err's text.
func (c *Config) scrub(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := msg
	for _, secret := range []string{c.Password, c.Token} {
		if len(secret) >= 1 {
			clean = strings.ReplaceAll(clean, secret, "xxxxx")
		}
	}
	if strings.Contains(clean, "://") {
		clean = redactURLs(clean)
	}
	if clean == msg {
		return err
	}
	return &scrubbed{msg: clean, err: err}
}

// redactURLs redacts the user info of every URL-looking word in s.
func redactURLs(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		if j := strings.Index(w, "://"); j >= 0 && strings.Contains(w[j:], "@") {
			words[i] = transport.Redact(strings.Trim(w, `"',;()[]`))
		}
	}
	return strings.Join(words, " ")
}

// isAuthErr reports errors that come from credentials or TLS settings.
func isAuthErr(err error) bool {
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var certInvalid x509.CertificateInvalidError
	switch {
	case errors.Is(err, natsgo.ErrAuthorization), errors.Is(err, natsgo.ErrAuthExpired),
		errors.Is(err, natsgo.ErrAuthRevoked), errors.Is(err, natsgo.ErrAccountAuthExpired),
		errors.Is(err, natsgo.ErrSecureConnRequired), errors.Is(err, natsgo.ErrSecureConnWanted),
		errors.Is(err, natsgo.ErrNkeysNotSupported), errors.Is(err, natsgo.ErrClientCertOrRootCAsRequired),
		errors.As(err, &unknownAuthority), errors.As(err, &hostname), errors.As(err, &certInvalid):
		return true
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "authorization") || strings.Contains(msg, "authentication") ||
		strings.Contains(msg, "tls: ") || strings.Contains(msg, "certificate")
}

// classify maps an error from nats.go to the transport sentinels.
func (t *Transport) classify(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ctx != nil && ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return ctx.Err()
	}
	err = t.cfg.scrub(err)
	var apiErr *jetstream.APIError
	switch {
	case errors.Is(err, natsgo.ErrMaxPayload):
		return transport.Invalid(transport.ErrPayloadTooLarge, "payload over the server's max_payload of %d bytes", t.nc.MaxPayload())
	case errors.Is(err, natsgo.ErrBadSubject):
		return transport.Invalid(transport.ErrInvalidChannel, "%v", err)
	case errors.Is(err, natsgo.ErrConnectionClosed) && t.closed.Load():
		return transport.ErrClosed
	case errors.Is(err, jetstream.ErrJetStreamNotEnabled), errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount):
		return fmt.Errorf("eventpub/nats: JetStream mode needs a server (and account) with JetStream enabled: %w", err)
	case isAuthErr(err):
		return fmt.Errorf("%w: %v", ErrAuth, err)
	case errors.Is(err, natsgo.ErrConnectionClosed), errors.Is(err, natsgo.ErrNoServers),
		errors.Is(err, natsgo.ErrReconnectBufExceeded), errors.Is(err, natsgo.ErrDisconnected),
		errors.Is(err, natsgo.ErrConnectionReconnecting), errors.Is(err, natsgo.ErrStaleConnection),
		errors.Is(err, natsgo.ErrTimeout), errors.Is(err, natsgo.ErrNoResponders),
		errors.Is(err, natsgo.ErrConnectionDraining), errors.Is(err, natsgo.ErrSlowConsumer),
		errors.Is(err, jetstream.ErrNoStreamResponse), errors.Is(err, jetstream.ErrAsyncPublishTimeout),
		errors.Is(err, jetstream.ErrTooManyStalledMsgs), errors.Is(err, context.DeadlineExceeded), errors.Is(err, io.EOF):
		return transport.Unavailable(err)
	case errors.As(err, &apiErr) && (apiErr.Code == 503 || apiErr.Code == 408 || apiErr.Code == 500):
		return transport.Unavailable(err)
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return transport.Unavailable(err)
	}
	return err
}
