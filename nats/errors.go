package nats

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/eventpub/eventpub/transport"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ErrAuth reports that the server refused the credentials or the TLS
// handshake failed. It is a configuration error, not an outage: retrying
// with the same settings will not help. Its text never holds the secret.
// An error that matches it with errors.Is also matches transport.ErrAuth,
// and never transport.ErrUnavailable.
var ErrAuth = errors.New("eventpub/nats: authentication or TLS handshake failed")

// ErrPermission reports that the server's permissions for this user refuse
// a publish or subscription on a subject. Other subjects may still work. An
// error that matches it also matches transport.ErrAuth, never ErrAuth or
// transport.ErrUnavailable.
var ErrPermission = errors.New("eventpub/nats: permission denied")

// authError is a refused credential or permission: it matches
// transport.ErrAuth, its cause, and ErrAuth for refused credentials or
// ErrPermission for a refused subject.
type authError struct {
	msg   string
	creds bool // the credentials or TLS settings were refused
	cause error
}

func (e *authError) Error() string { return e.msg }

func (e *authError) Unwrap() []error {
	if e.creds {
		return []error{ErrAuth, transport.ErrAuth, e.cause}
	}
	return []error{ErrPermission, transport.ErrAuth, e.cause}
}

// credsErr reports refused credentials or TLS settings; where says on
// which servers ("" for none). cause must be scrubbed already.
func credsErr(where string, cause error) error {
	msg := ErrAuth.Error()
	if where != "" {
		msg += " on " + where
	}
	return &authError{msg: msg + ": " + cause.Error(), creds: true, cause: cause}
}

// permissionRe finds the operation and subject in the server's
// "Permissions Violation for Publish to "subj"" error.
var permissionRe = regexp.MustCompile(`(?i)permissions violation for (publish|subscription) to "([^"]*)"`)

// permissionViolation returns the operation and subject of a permissions
// violation the server reported, or ok false when err is not one.
func permissionViolation(err error) (op, subject string, ok bool) {
	if err == nil || !errors.Is(err, natsgo.ErrPermissionViolation) {
		return "", "", false
	}
	m := permissionRe.FindStringSubmatch(err.Error())
	if m == nil {
		return "", "", false
	}
	return strings.ToLower(m[1]), m[2], true
}

// permissionErr reports a permissions violation of kind op ("publish" or
// "subscription") on one of subjects (a subject ending in ">" matches as a
// pattern) that the server sent after before was the connection's last
// error. nats.go learns of a refused publish or subscription only from an
// asynchronous -ERR, which it keeps as the last error, so callers check
// after a round trip. It returns nil when there is none.
func (t *Transport) permissionErr(before error, op string, subjects ...string) error {
	le := t.nc.LastError()
	if le == nil || le == before {
		return nil
	}
	kind, subj, ok := permissionViolation(le)
	if !ok || kind != op || !slices.ContainsFunc(subjects, func(s string) bool {
		return s == subj || (strings.HasSuffix(s, ">") && subjectMatches(s, subj))
	}) {
		return nil
	}
	what := "publish to"
	if op == "subscription" {
		what = "subscribe to"
	}
	return &authError{
		msg:   fmt.Sprintf("%s: the server does not permit this user to %s subject %s", transport.ErrAuth, what, transport.QuoteChannel(subj)),
		cause: le,
	}
}

// scrub masks every secret the configuration holds, and the user info of
// any URL, in err's text; errors.Is and errors.As still see err.
func (c *Config) scrub(err error) error {
	if err == nil {
		return nil
	}
	secrets := []string{c.Password, c.Token}
	if msg := err.Error(); strings.Contains(msg, "://") {
		secrets = append(secrets, urlSecrets(msg)...)
	}
	return transport.RedactError(err, secrets...)
}

// urlSecrets returns the password (or, for a user name alone, the token)
// of every URL-looking word in s.
func urlSecrets(s string) []string {
	var out []string
	for _, w := range strings.Fields(s) {
		j := strings.Index(w, "://")
		if j < 0 || !strings.Contains(w[j:], "@") {
			continue
		}
		u, err := url.Parse(strings.Trim(w, `"',;()[]`))
		if err != nil || u.User == nil {
			continue
		}
		if pw, ok := u.User.Password(); ok {
			out = append(out, pw)
		} else {
			out = append(out, u.User.Username())
		}
	}
	return out
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
	if errors.Is(err, transport.ErrUnknownOutcome) {
		return err // classified already; it may also match ctx.Err()
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
	case t.closed.Load() && (errors.Is(err, natsgo.ErrConnectionClosed) ||
		// nats.go flattens some wrapped errors to text, e.g. "error
		// creating async reply handler: nats: connection closed".
		strings.Contains(err.Error(), natsgo.ErrConnectionClosed.Error())):
		return transport.ErrClosed
	case errors.Is(err, jetstream.ErrJetStreamPublisherClosed):
		// Close dropped the ack of a publish still in flight.
		return transport.ErrClosed
	case errors.Is(err, jetstream.ErrJetStreamNotEnabled), errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount):
		return fmt.Errorf("eventpub/nats: JetStream mode needs a server (and account) with JetStream enabled: %w", err)
	case errors.Is(err, natsgo.ErrPermissionViolation):
		return &authError{msg: transport.ErrAuth.Error() + ": " + err.Error(), cause: err}
	case isAuthErr(err):
		return credsErr("", err)
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
