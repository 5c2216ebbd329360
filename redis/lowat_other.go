//go:build !linux

package redis

import "net"

// rcvLowat does nothing off Linux: the reader wakes at every byte.
type rcvLowat struct{}

func newRcvLowat(net.Conn) *rcvLowat { return &rcvLowat{} }

func (*rcvLowat) set(int)           {}
func (*rcvLowat) reading(bool)      {}
func (*rcvLowat) nudge() bool       { return false }
func (*rcvLowat) resume(error) bool { return false }
