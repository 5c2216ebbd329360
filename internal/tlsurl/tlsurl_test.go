package tlsurl_test

import (
	"crypto/tls"
	"errors"
	"io/fs"
	"strings"
	"testing"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/internal/tlsurl"
)

func TestTakeOnlyTLSKeys(t *testing.T) {
	var f tlsurl.Files
	for _, k := range []string{"tls", "ca", "tls_cafile", "name"} {
		if f.Take(k, "x") {
			t.Errorf("Take(%q) took a parameter that is not a TLS file", k)
		}
	}
	if f.Any() {
		t.Fatalf("Any after no TLS keys: %+v", f)
	}
	if !f.Take("tls_ca", "a") || !f.Take("tls_cert", "b") || !f.Take("tls_key", "c") || f != (tlsurl.Files{CA: "a", Cert: "b", Key: "c"}) {
		t.Fatalf("Take did not record the three files: %+v", f)
	}
}

func TestConfigLoadsFiles(t *testing.T) {
	certs := brokertest.NewTLS(t)
	cfg, err := tlsurl.Files{CA: certs.CAFile, Cert: certs.CertFile, Key: certs.KeyFile}.Config("eventpub/x")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinVersion != tls.VersionTLS12 || len(cfg.Certificates) != 1 || !cfg.RootCAs.Equal(certs.Pool) {
		t.Fatalf("config does not hold the CA and the key pair: %+v", cfg)
	}
}

func TestConfigErrorsNameTheParameter(t *testing.T) {
	certs := brokertest.NewTLS(t)
	for _, c := range []struct {
		f    tlsurl.Files
		want string
	}{
		{tlsurl.Files{CA: certs.CAFile + ".missing"}, "eventpub/x: tls_ca: "},
		{tlsurl.Files{CA: certs.KeyFile}, "eventpub/x: tls_ca \"" + certs.KeyFile + "\" holds no PEM certificate"},
		{tlsurl.Files{Cert: certs.CertFile}, "eventpub/x: tls_cert and tls_key go together"},
		{tlsurl.Files{Cert: certs.CertFile, Key: certs.CAFile}, "eventpub/x: tls_cert/tls_key: "},
	} {
		_, err := c.f.Config("eventpub/x")
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("Config(%+v) = %v, want an error starting %q", c.f, err, c.want)
		}
	}
	if _, err := (tlsurl.Files{CA: certs.CAFile + ".missing"}).Config("eventpub/x"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing CA file does not keep its cause: %v", err)
	}
}
