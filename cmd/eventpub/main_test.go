package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/eventpub/eventpub/internal/brokertest"
	"go.uber.org/goleak"
)

// binPath is the eventpub binary built once for this test run.
var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "eventpub-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, "eventpub tests: temp dir:", err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "eventpub")
	args := []string{"build", "-o", binPath}
	if raceEnabled {
		args = append(args, "-race") // the binary is checked for races too
	}
	build := exec.Command("go", append(args, ".")...)
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "eventpub tests: go build:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	goleak.VerifyTestMain(m, append(brokertest.LeakOptions(), goleak.Cleanup(func(code int) {
		os.RemoveAll(dir)
		os.Exit(code)
	}))...)
}
