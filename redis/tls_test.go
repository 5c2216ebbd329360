package redis_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/redis"
	"github.com/eventpub/eventpub/transport"
)

// testCA is a throwaway certificate authority.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// serverFiles writes a certificate for 127.0.0.1/localhost signed by ca and
// its key as PEM files, and returns their paths.
func (ca *testCA) serverFiles(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "redis-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func TestTLS(t *testing.T) {
	ca := newCA(t, "eventpub test CA")
	certFile, keyFile := ca.serverFiles(t)
	srv := brokertest.StartRedisServerTLS(t, certFile, keyFile, "--tls-auth-clients", "no")
	url := "rediss://" + srv.TLSAddr() + "/0"

	t.Run("RoundTrip", func(t *testing.T) {
		tr := open(t, url, redis.WithTLSConfig(&tls.Config{RootCAs: ca.pool, MinVersion: tls.VersionTLS12}))
		ch := chanName("tls")
		sub, err := tr.Subscribe(ctx5(t), ch)
		if err != nil {
			t.Fatalf("Subscribe over TLS: %v", err)
		}
		defer sub.Close()
		if err := tr.Publish(ctx5(t), transport.Message{Channel: ch, Payload: []byte("secret sauce")}); err != nil {
			t.Fatalf("Publish over TLS: %v", err)
		}
		if m := next(t, sub); string(m.Payload) != "secret sauce" {
			t.Fatalf("got %q", m.Payload)
		}
	})

	t.Run("WrongCA", func(t *testing.T) {
		other := newCA(t, "some other CA")
		tr := open(t, url, redis.WithTLSConfig(&tls.Config{RootCAs: other.pool, MinVersion: tls.VersionTLS12}))
		err := tr.Publish(ctx5(t), transport.Message{Channel: "c", Payload: []byte("x")})
		if !errors.Is(err, transport.ErrUnavailable) {
			t.Fatalf("Publish with the wrong CA: %v, want ErrUnavailable", err)
		}
		if !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("error does not say the certificate is the problem: %v", err)
		}
		t.Logf("wrong CA: %v", err)
	})

	t.Run("SystemRootsRejectPrivateCA", func(t *testing.T) {
		tr := open(t, url)
		err := tr.Ping(ctx5(t))
		if err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("Ping with system roots to a private CA: %v", err)
		}
	})
}
