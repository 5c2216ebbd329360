package brokertest

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/alicebob/miniredis/v2"
)

// RedisURLEnv names the environment variable that points the tests at a real
// Redis 7, such as redis://127.0.0.1:6379/0.
const RedisURLEnv = "EVENTPUB_REDIS_URL"

// RealRedisURL returns the URL of the real Redis named by EVENTPUB_REDIS_URL,
// or "" when it is not set.
func RealRedisURL() string { return strings.TrimSpace(os.Getenv(RedisURLEnv)) }

// MiniRedis is an in-process miniredis on a loopback port, closed when the
// test ends. Stop and Start take it down and bring it back on the same port.
type MiniRedis struct {
	t  testing.TB
	mu sync.Mutex
	m  *miniredis.Miniredis
	up bool
}

// StartMiniredis starts a miniredis on a free loopback port and closes it in
// t.Cleanup.
func StartMiniredis(t testing.TB) *MiniRedis {
	t.Helper()
	m := miniredis.NewMiniRedis()
	if err := m.Start(); err != nil {
		t.Fatalf("brokertest: start miniredis: %v", err)
	}
	s := &MiniRedis{t: t, m: m, up: true}
	t.Cleanup(func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.up {
			s.m.Close()
			s.up = false
		}
	})
	return s
}

// Addr returns host:port.
func (s *MiniRedis) Addr() string { return s.m.Addr() }

// URL returns redis://host:port/0.
func (s *MiniRedis) URL() string { return "redis://" + s.m.Addr() + "/0" }

// Server returns the miniredis for direct inspection.
func (s *MiniRedis) Server() *miniredis.Miniredis { return s.m }

// Stop closes the server and every client connection. Stopping a stopped
// server does nothing.
func (s *MiniRedis) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.up {
		s.m.Close()
		s.up = false
	}
}

// Start brings a stopped server back on the same port (data is kept).
// Starting a running server does nothing.
func (s *MiniRedis) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.up {
		return
	}
	// miniredis cancels its context on Close and Restart does not renew
	// it: blocking commands (XREAD BLOCK, BLPOP) would then never answer.
	s.m.Ctx, s.m.CtxCancel = context.WithCancel(context.Background())
	if err := s.m.Restart(); err != nil {
		s.t.Fatalf("brokertest: restart miniredis on %s: %v", s.m.Addr(), err)
	}
	s.up = true
}
