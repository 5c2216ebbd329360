package mqtt

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"

	"github.com/eventpub/eventpub/transport"
)

// MQTT 5 reason codes the driver classifies (MQTT 5 §2.4).
const (
	rcUnspecified         = 0x80
	rcBadUserOrPassword   = 0x86
	rcNotAuthorized       = 0x87
	rcServerUnavailable   = 0x88
	rcServerBusy          = 0x89
	rcBanned              = 0x8A
	rcBadAuthMethod       = 0x8C
	rcTopicFilterInvalid  = 0x8F
	rcTopicNameInvalid    = 0x90
	rcPacketTooLarge      = 0x95
	rcQuotaExceeded       = 0x97
	rcPayloadFormat       = 0x99
	rcQoSNotSupported     = 0x9B
	rcUseAnotherServer    = 0x9C
	rcServerMoved         = 0x9D
	rcConnectionRateLimit = 0x9F
)

// reasonError classifies a refusal reason code (0x80 and up) from a
// CONNACK, PUBACK, PUBREC or SUBACK. what names the request.
func reasonError(what string, code byte, reason string) error {
	detail := fmt.Sprintf("%s refused with reason code 0x%02X", what, code)
	if reason != "" {
		detail += " (" + reason + ")"
	}
	switch code {
	case rcBadUserOrPassword, rcNotAuthorized, rcBanned, rcBadAuthMethod:
		return transport.Invalid(transport.ErrAuth, "eventpub/mqtt: %s", detail)
	case rcTopicFilterInvalid, rcTopicNameInvalid:
		return transport.Invalid(transport.ErrInvalidChannel, "eventpub/mqtt: %s", detail)
	case rcPacketTooLarge:
		return transport.Invalid(transport.ErrPayloadTooLarge, "eventpub/mqtt: %s", detail)
	case rcServerUnavailable, rcServerBusy, rcQuotaExceeded, rcUseAnotherServer, rcServerMoved, rcConnectionRateLimit:
		return transport.Unavailable(fmt.Errorf("eventpub/mqtt: %s", detail))
	}
	return fmt.Errorf("eventpub/mqtt: %s", detail)
}

// dialError classifies a failure to dial or complete the TLS handshake:
// a certificate the client or server will not accept is ErrAuth (waiting
// does not help), anything else an outage.
func dialError(addr string, err error) error {
	var (
		verify  *tls.CertificateVerificationError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		invalid x509.CertificateInvalidError
		alert   tls.AlertError
	)
	if errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &host) || errors.As(err, &invalid) || errors.As(err, &alert) {
		return transport.Invalid(transport.ErrAuth, "eventpub/mqtt: TLS handshake with %s: %v", addr, err)
	}
	return transport.Unavailable(fmt.Errorf("eventpub/mqtt: connect to %s: %w", addr, err))
}

// callError turns an error from a call on a live connection into the
// driver's classification: the caller's own context ending gives its
// error, anything else means the link failed under the call.
func callError(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return transport.Unavailable(fmt.Errorf("eventpub/mqtt: %s: no acknowledgement in time: %w", what, err))
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return transport.Unavailable(fmt.Errorf("eventpub/mqtt: %s: %w", what, err))
	}
	return transport.Unavailable(fmt.Errorf("eventpub/mqtt: %s: connection lost: %w", what, err))
}

// errClosed is returned by every call after Close.
var errClosed = fmt.Errorf("eventpub/mqtt: %w", transport.ErrClosed)

// errDown is the cause while the transport has never connected.
var errDown = errors.New("eventpub/mqtt: not connected")
