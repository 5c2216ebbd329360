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

// ResultsError is the error of a batch whose messages' fates are all in
// results (nil for each one sent): nil when none failed, else a
// *BatchError with these Results, Sent counting the messages before the
// first failure and Err that failure.
func ResultsError(results []error) error {
	sent := 0
	for sent < len(results) && results[sent] == nil {
		sent++
	}
	if sent == len(results) {
		return nil
	}
	return &BatchError{Sent: sent, Results: results, Err: results[sent]}
}
