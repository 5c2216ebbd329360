package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

func init() {
	commands["version"] = command{"print the module version and the Go version it was built with", runVersion}
}

// runVersion prints "eventpub VERSION (MODULE, go1.x, os/arch)" with the
// version debug.ReadBuildInfo gives: a release tag for a binary built by
// go install module@version, a pseudo-version from the VCS for a build in
// a checkout, "(devel)" when neither is known. The VCS revision follows
// when the build recorded one.
func runVersion(_ context.Context, args []string, stdout, _ io.Writer) error {
	fs := newFlags("version", "", stdout)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("version takes no arguments, got %q", fs.Arg(0))
	}
	_, err := fmt.Fprintln(stdout, versionLine())
	return err
}

// versionLine describes this binary's build.
func versionLine() string {
	version, module, rev := "(unknown)", "github.com/eventpub/eventpub", ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if bi.Main.Version != "" {
			version = bi.Main.Version
		}
		if bi.Main.Path != "" {
			module = bi.Main.Path
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				rev = ", revision " + s.Value[:12]
			}
		}
	}
	return fmt.Sprintf("eventpub %s (%s%s, %s, %s/%s)", version, module, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
