// Package tlsurl reads the TLS file parameters every driver's URL accepts
// (tls_ca, tls_cert, tls_key) and loads them into a tls.Config, so the
// drivers parse and check them the same way.
package tlsurl

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// Files are the TLS file parameters of a URL.
type Files struct {
	CA   string // tls_ca: PEM file of the CA certificates to trust
	Cert string // tls_cert: PEM file of the client certificate
	Key  string // tls_key: PEM file of the client certificate's key
}

// Take records v when key is tls_ca, tls_cert or tls_key and reports
// whether it was.
func (f *Files) Take(key, v string) bool {
	switch key {
	case "tls_ca":
		f.CA = v
	case "tls_cert":
		f.Cert = v
	case "tls_key":
		f.Key = v
	default:
		return false
	}
	return true
}

// Any reports whether the URL named any of the files.
func (f Files) Any() bool { return f.CA != "" || f.Cert != "" || f.Key != "" }

// Apply loads the files into cfg: tls_ca replaces cfg.RootCAs, tls_cert
// and tls_key (which go together) set cfg.Certificates. Errors start with
// prefix (e.g. "eventpub/nats") and name the parameter and file.
func (f Files) Apply(cfg *tls.Config, prefix string) error {
	if f.CA != "" {
		pem, err := os.ReadFile(f.CA)
		if err != nil {
			return fmt.Errorf("%s: tls_ca: %w", prefix, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("%s: tls_ca %q holds no PEM certificate", prefix, f.CA)
		}
		cfg.RootCAs = pool
	}
	if (f.Cert == "") != (f.Key == "") {
		return fmt.Errorf("%s: tls_cert and tls_key go together", prefix)
	}
	if f.Cert != "" {
		cert, err := tls.LoadX509KeyPair(f.Cert, f.Key)
		if err != nil {
			return fmt.Errorf("%s: tls_cert/tls_key: %w", prefix, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return nil
}

// Config returns a new tls.Config (TLS 1.2 at least) with the files
// loaded, as Apply does.
func (f Files) Config(prefix string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if err := f.Apply(cfg, prefix); err != nil {
		return nil, err
	}
	return cfg, nil
}
