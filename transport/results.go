package transport

import "errors"

// BatchResults returns the per-message results err carries (a
// *BatchError's Results) for a batch of n messages, or nil when it carries
// none for that many.
func BatchResults(err error, n int) []error {
	var be *BatchError
	if errors.As(err, &be) && len(be.Results) == n {
		return be.Results
	}
	return nil
}
