package eventpub_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLowerPackagesDoNotImportTheRoot: the queue, the observer, the
// drivers, the bridge and the tee sit below package eventpub; none of them
// (nor anything they import) may import it, so the import graph has no
// edge that runs back up.
func TestLowerPackagesDoNotImportTheRoot(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH, so go list cannot be run:", err)
	}
	pkgs := []string{"./sendq", "./observe", "./transport", "./bridge", "./tee",
		"./redis", "./nats", "./amqp", "./mqtt", "./kafka", "./memory", "./dashboard", "./eventpubotel",
		"./internal/backoff", "./internal/bufpool"}
	args := append([]string{"list", "-deps", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`}, pkgs...)
	out, err := exec.Command(goBin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	const root = "github.com/eventpub/eventpub"
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < len(pkgs) {
		t.Fatalf("go list listed %d packages, fewer than the %d asked for:\n%s", len(lines), len(pkgs), out)
	}
	for _, line := range lines {
		f := strings.Fields(line)
		if f[0] == root {
			t.Errorf("the root package is among the dependencies of %v", pkgs)
		}
		for _, imp := range f[1:] {
			if imp == root {
				t.Errorf("%s imports the root package %s", f[0], root)
			}
		}
	}
}

// TestOtelAdapterUsesTheAPIOnly: package eventpubotel depends on the
// OpenTelemetry API alone; the program picks the SDK and the exporters.
func TestOtelAdapterUsesTheAPIOnly(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH, so go list cannot be run:", err)
	}
	out, err := exec.Command(goBin, "list", "-deps", "./eventpubotel").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	api := 0
	for _, pkg := range strings.Fields(string(out)) {
		switch {
		case strings.HasPrefix(pkg, "go.opentelemetry.io/otel/sdk"),
			strings.HasPrefix(pkg, "go.opentelemetry.io/otel/exporters"),
			strings.HasPrefix(pkg, "github.com/prometheus/"):
			t.Errorf("eventpubotel depends on %s", pkg)
		case strings.HasPrefix(pkg, "go.opentelemetry.io/otel"):
			api++
		}
	}
	if api == 0 {
		t.Fatalf("go list -deps ./eventpubotel lists no OpenTelemetry package:\n%s", out)
	}
}
