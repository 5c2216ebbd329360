package faultproxy

import (
	"io"
	"net"
	"testing"
)

func benchTarget(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		io.Copy(c, c)
		c.Close()
	}()
	b.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String()
}

func benchRoundTrip(b *testing.B, addr string, size int) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	msg := make([]byte, size)
	buf := make([]byte, size)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRoundTrip compares an echo round trip through the proxy in Pass
// mode with the same round trip made directly.
func BenchmarkRoundTrip(b *testing.B) {
	for _, size := range []int{64, 32 << 10} {
		name := map[int]string{64: "64B", 32 << 10: "32KiB"}[size]
		b.Run("direct/"+name, func(b *testing.B) { benchRoundTrip(b, benchTarget(b), size) })
		b.Run("proxy/"+name, func(b *testing.B) {
			p, err := New(benchTarget(b))
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			benchRoundTrip(b, p.Addr(), size)
		})
	}
}
