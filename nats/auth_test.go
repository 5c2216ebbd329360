package nats_test

import (
	"crypto/tls"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/nats"
	"github.com/eventpub/eventpub/transport"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"
)

// roundTrip checks tr can publish and receive one message.
func roundTrip(t *testing.T, tr *nats.Transport) {
	t.Helper()
	ch := "auth-" + unique()
	sub, err := tr.Subscribe(ctxT(t), ch)
	if err != nil {
		t.Fatalf("Subscribe: %v", err)
	}
	defer sub.Close()
	if err := tr.Publish(ctxT(t), transport.Message{Channel: ch, Payload: []byte("ok")}); err != nil {
		t.Fatalf("Publish: %v", err)
	}
	if m, err := sub.Next(ctxT(t)); err != nil || string(m.Payload) != "ok" {
		t.Fatalf("Next: %q, %v", m.Payload, err)
	}
}

// refused checks that opening fails with ErrAuth and hides secret.
func refused(t *testing.T, secret, url string, opts ...nats.Option) {
	t.Helper()
	tr, err := nats.Open(ctxT(t), url, opts...)
	if err == nil {
		_ = tr.Close()
		t.Fatalf("Open(%s) with wrong credentials succeeded", transport.Redact(url))
	}
	if !errors.Is(err, nats.ErrAuth) || !errors.Is(err, transport.ErrAuth) || errors.Is(err, transport.ErrUnavailable) || errors.Is(err, nats.ErrPermission) {
		t.Fatalf("Open with wrong credentials: %v, want nats.ErrAuth and transport.ErrAuth, not ErrUnavailable", err)
	}
	if secret != "" && strings.Contains(err.Error(), secret) {
		t.Fatalf("error leaks the secret: %v", err)
	}
	t.Logf("refused as expected: %v", err)
}

func TestTokenAuth(t *testing.T) {
	srv := brokertest.StartNATS(t, func(o *server.Options) { o.Authorization = "s3cr3t-token" })
	host := strings.TrimPrefix(srv.URL(), "nats://")
	roundTrip(t, open(t, "nats://s3cr3t-token@"+host))
	roundTrip(t, open(t, srv.URL(), nats.WithToken("s3cr3t-token")))
	refused(t, "wr0ng-token", "nats://wr0ng-token@"+host)
	refused(t, "", srv.URL())
}

func TestUserPasswordAuth(t *testing.T) {
	srv := brokertest.StartNATS(t, func(o *server.Options) { o.Username, o.Password = "alice", "pa55word" })
	host := strings.TrimPrefix(srv.URL(), "nats://")
	roundTrip(t, open(t, "nats://alice:pa55word@"+host))
	roundTrip(t, open(t, srv.URL(), nats.WithUserPassword("alice", "pa55word")))
	refused(t, "hunter2", "nats://alice:hunter2@"+host)
	refused(t, "hunter2", srv.URL(), nats.WithUserPassword("alice", "hunter2"))
}

func TestNKeyAuth(t *testing.T) {
	good, goodFile := nkeyUser(t)
	_, badFile := nkeyUser(t)
	srv := brokertest.StartNATS(t, func(o *server.Options) { o.Nkeys = []*server.NkeyUser{{Nkey: good}} })
	roundTrip(t, open(t, srv.URL(), nats.WithNKeySeed(goodFile)))
	roundTrip(t, open(t, srv.URL()+"?nkey="+goodFile))
	seed, _ := os.ReadFile(badFile)
	refused(t, strings.TrimSpace(string(seed)), srv.URL(), nats.WithNKeySeed(badFile))
	if _, err := nats.Open(ctxT(t), srv.URL(), nats.WithNKeySeed(filepath.Join(t.TempDir(), "missing"))); err == nil ||
		!strings.Contains(err.Error(), "NKey seed file") {
		t.Fatalf("missing seed file: %v, want an error naming it", err)
	}
	if _, err := nats.Open(ctxT(t), srv.URL(), nats.WithCredentials(filepath.Join(t.TempDir(), "missing.creds"))); err == nil ||
		!strings.Contains(err.Error(), "credentials file") {
		t.Fatalf("missing credentials file: %v, want an error naming it", err)
	}
}

// nkeyUser makes a user NKey and writes its seed to a file.
func nkeyUser(t *testing.T) (pub, seedFile string) {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ = kp.PublicKey()
	seed, _ := kp.Seed()
	seedFile = filepath.Join(t.TempDir(), "user.nk")
	if err := os.WriteFile(seedFile, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	return pub, seedFile
}

func TestTLS(t *testing.T) {
	certs := brokertest.NewTLS(t)
	srv := brokertest.StartNATS(t, func(o *server.Options) {
		o.TLSConfig = &tls.Config{Certificates: []tls.Certificate{certs.Server}, MinVersion: tls.VersionTLS12}
		o.TLS = true
		o.TLSTimeout = 2
	})
	if !strings.HasPrefix(srv.URL(), "tls://") {
		t.Fatalf("URL %q is not tls://", srv.URL())
	}
	for _, mode := range []string{"core", "jetstream"} {
		t.Run(mode, func(t *testing.T) {
			opts := []nats.Option{nats.WithTLS(certs.ClientConfig())}
			if mode == "jetstream" {
				opts = append(opts, nats.WithJetStream(nats.JetStreamConfig{}))
			}
			tr := open(t, srv.URL(), opts...)
			roundTrip(t, tr)
			if !tr.Conn().TLSRequired() {
				t.Fatal("connection is not TLS")
			}
		})
	}
	roundTrip(t, open(t, srv.URL()+"?tls_ca="+certs.CAFile))
	// The system roots do not know the throwaway CA.
	refused(t, "", srv.URL())
}
