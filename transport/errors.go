package transport

import (
	"errors"
	"strings"
)

// ErrConfig: the broker refused the driver's settings (a database index
// the server does not have, a TLS setting it cannot use, …). It is neither
// an outage (ErrUnavailable) nor refused credentials (ErrAuth): retrying
// does not help until the configuration changes.
var ErrConfig = errors.New("eventpub: configuration refused")

// RedactError returns err with each non-empty secret in its text replaced
// by "xxxxx", for errors whose text may quote a password or token (a
// client library echoing its connection string, say). The result keeps
// err's chain: errors.Is and errors.As see err and everything it wraps, so
// classifying still works. Only the returned error's own text is cleaned:
// code that pulls an inner error out with errors.As and prints that sees
// the inner error's text. RedactError returns err itself when no secret
// occurs in its text, and nil for nil.
func RedactError(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := msg
	for _, s := range secrets {
		if s != "" {
			clean = strings.ReplaceAll(clean, s, "xxxxx")
		}
	}
	if clean == msg {
		return err
	}
	return &redactedError{msg: clean, err: err}
}

// redactedError shows a cleaned text and unwraps to the original error.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
