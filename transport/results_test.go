package transport_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/eventpub/eventpub/transport"
)

func TestBatchResults(t *testing.T) {
	res := []error{nil, transport.ErrInvalidChannel}
	wrapped := fmt.Errorf("wrapped: %w", &transport.BatchError{Sent: 1, Results: res, Err: res[1]})
	if got := transport.BatchResults(wrapped, 2); len(got) != 2 || got[1] != transport.ErrInvalidChannel {
		t.Fatalf("BatchResults = %v, want the results", got)
	}
	if transport.BatchResults(wrapped, 3) != nil {
		t.Fatal("results for a batch of another size")
	}
	if transport.BatchResults(errors.New("x"), 2) != nil || transport.BatchResults(nil, 0) != nil {
		t.Fatal("results from an error without them")
	}
}

func TestResultsError(t *testing.T) {
	if err := transport.ResultsError(make([]error, 3)); err != nil {
		t.Fatalf("no failure: %v, want nil", err)
	}
	results := []error{nil, nil, transport.ErrInvalidChannel, nil}
	err := transport.ResultsError(results)
	var be *transport.BatchError
	if !errors.As(err, &be) || be.Sent != 2 || !errors.Is(err, transport.ErrInvalidChannel) || len(be.Results) != 4 {
		t.Fatalf("ResultsError = %#v, want a *BatchError with Sent 2, Err the refusal and the 4 results", err)
	}
}
