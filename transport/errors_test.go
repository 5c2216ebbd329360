package transport_test

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"

	"github.com/eventpub/eventpub/transport"
)

func TestRedactErrorKeepsTheChain(t *testing.T) {
	cause := &fs.PathError{Op: "dial", Path: "redis://:hunter2@db", Err: fs.ErrNotExist}
	err := transport.Unavailable(fmt.Errorf("connect with hunter2: %w", cause))
	red := transport.RedactError(err, "", "hunter2")
	if strings.Contains(red.Error(), "hunter2") {
		t.Fatalf("secret in %q", red)
	}
	if want := strings.ReplaceAll(err.Error(), "hunter2", "xxxxx"); red.Error() != want {
		t.Fatalf("text %q, want %q", red, want)
	}
	if !errors.Is(red, transport.ErrUnavailable) || !errors.Is(red, fs.ErrNotExist) {
		t.Fatalf("errors.Is lost the chain of %v", red)
	}
	var pe *fs.PathError
	if !errors.As(red, &pe) || pe != cause {
		t.Fatalf("errors.As lost the chain of %v", red)
	}
}

func TestRedactErrorUntouched(t *testing.T) {
	err := errors.New("connection refused")
	if got := transport.RedactError(err, "hunter2", ""); got != err {
		t.Fatalf("an error without the secret was replaced: %v", got)
	}
	if transport.RedactError(nil, "x") != nil {
		t.Fatal("nil became an error")
	}
}
