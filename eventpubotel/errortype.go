package eventpubotel

import (
	"context"
	"errors"

	"github.com/eventpub/eventpub/sendq"
	"github.com/eventpub/eventpub/transport"
)

// The error.type values, in the order errorType tests them. errOther
// (semconv's "_OTHER") is for an error none of them matches.
const (
	errOther = iota
	errQueueFull
	errInvalidChannel
	errPayloadTooLarge
	errAuth
	errConfig
	errUnknownOutcome
	errUnavailable
	errClosed
	errCanceled
	errTimeout
	numErrorTypes
)

var errorTypeNames = [numErrorTypes]string{
	errOther:           "_OTHER",
	errQueueFull:       "queue_full",
	errInvalidChannel:  "invalid_channel",
	errPayloadTooLarge: "payload_too_large",
	errAuth:            "auth",
	errConfig:          "config",
	errUnknownOutcome:  "unknown_outcome",
	errUnavailable:     "unavailable",
	errClosed:          "closed",
	errCanceled:        "canceled",
	errTimeout:         "timeout",
}

// errorType classifies err with errors.Is against eventpub's sentinel
// errors. ErrUnknownOutcome is tested before ErrUnavailable, which it
// matches too.
func errorType(err error) int {
	switch {
	case errors.Is(err, sendq.ErrQueueFull):
		return errQueueFull
	case errors.Is(err, transport.ErrInvalidChannel):
		return errInvalidChannel
	case errors.Is(err, transport.ErrPayloadTooLarge):
		return errPayloadTooLarge
	case errors.Is(err, transport.ErrAuth):
		return errAuth
	case errors.Is(err, transport.ErrConfig):
		return errConfig
	case errors.Is(err, transport.ErrUnknownOutcome):
		return errUnknownOutcome
	case errors.Is(err, transport.ErrUnavailable):
		return errUnavailable
	case errors.Is(err, transport.ErrClosed):
		return errClosed
	case errors.Is(err, context.Canceled):
		return errCanceled
	case errors.Is(err, context.DeadlineExceeded):
		return errTimeout
	}
	return errOther
}

// dropType is the error.type of a dropped message: a drop is an overflow
// policy at work, so an error that says nothing more specific is
// queue_full (the async queue's DropOldest, the memory broker's full
// subscriber buffer).
func dropType(err error) int {
	if t := errorType(err); t != errOther {
		return t
	}
	return errQueueFull
}
