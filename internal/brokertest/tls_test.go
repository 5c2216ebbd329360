package brokertest

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"testing"
)

func TestNewTLSServerCertificateVerifiesOnlyAgainstItsCA(t *testing.T) {
	f := NewTLS(t)
	leaf, err := x509.ParseCertificate(f.Server.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"127.0.0.1", "localhost"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: f.Pool, DNSName: host}); err != nil {
			t.Errorf("server certificate does not verify for %s: %v", host, err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: NewTLS(t).Pool, DNSName: "127.0.0.1"}); err == nil {
		t.Error("server certificate verifies against another NewTLS CA")
	}
	if got := f.ClientConfig().RootCAs; !got.Equal(f.Pool) {
		t.Error("ClientConfig does not trust the CA pool")
	}
	pair, err := tls.LoadX509KeyPair(f.CertFile, f.KeyFile)
	if err != nil {
		t.Fatalf("CertFile/KeyFile do not load: %v", err)
	}
	if !pair.Leaf.Equal(leaf) {
		t.Error("CertFile holds a different certificate from Server")
	}
	caPEM, err := os.ReadFile(f.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	if pool := x509.NewCertPool(); !pool.AppendCertsFromPEM(caPEM) || !pool.Equal(f.Pool) {
		t.Error("CAFile does not hold the CA in Pool")
	}
}
