package redis

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// The little of RESP2 that the publish connections speak: PUBLISH /
// SPUBLISH requests, AUTH and SELECT at connect time, and the integer,
// status and error replies they get.

// replyError is an error reply from Redis. It is a goredis.Error, so the
// driver's error mapping treats it like one go-redis returns.
type replyError string

func (e replyError) Error() string { return string(e) }

// RedisError marks replyError as a Redis reply (see goredis.Error).
func (replyError) RedisError() {}

var _ goredis.Error = replyError("")

// errProtocol reports a reply the publish connection did not expect; the
// connection is closed.
var errProtocol = errors.New("eventpub/redis: unexpected reply on the publish connection")

// publishHeader returns the start of a PUBLISH or SPUBLISH request.
func publishHeader(sharded bool) []byte {
	if sharded {
		return []byte("*3\r\n$8\r\nSPUBLISH\r\n")
	}
	return []byte("*3\r\n$7\r\nPUBLISH\r\n")
}

// appendBulk appends s as a RESP bulk string.
func appendBulk[S string | []byte](buf []byte, s S) []byte {
	buf = append(buf, '$')
	buf = appendLen(buf, len(s))
	buf = append(buf, '\r', '\n')
	buf = append(buf, s...)
	return append(buf, '\r', '\n')
}

// appendLen appends n in decimal; up to 9999 without strconv's general
// path, as most payloads are that small.
func appendLen(buf []byte, n int) []byte {
	switch {
	case n < 0 || n > 9999:
		return strconv.AppendInt(buf, int64(n), 10)
	case n < 10:
		return append(buf, byte('0'+n))
	case n < 100:
		return append(buf, byte('0'+n/10), byte('0'+n%10))
	case n < 1000:
		return append(buf, byte('0'+n/100), byte('0'+n/10%10), byte('0'+n%10))
	}
	return append(buf, byte('0'+n/1000), byte('0'+n/100%10), byte('0'+n/10%10), byte('0'+n%10))
}

// appendCommand appends a request of bulk-string arguments.
func appendCommand(buf []byte, args ...string) []byte {
	buf = append(buf, '*')
	buf = strconv.AppendInt(buf, int64(len(args)), 10)
	buf = append(buf, '\r', '\n')
	for _, a := range args {
		buf = appendBulk(buf, a)
	}
	return buf
}

// parseReply reads one reply line: nil for an integer or status reply, a
// replyError for an error reply, errProtocol for anything else.
func parseReply(line []byte) error {
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return errProtocol
	}
	switch line[0] {
	case ':', '+':
		return nil
	case '-':
		return replyError(line[1 : len(line)-2])
	}
	return errProtocol
}

// readReply reads one reply from r. A read error leaves in r what it
// holds of the reply, so that reading can go on after the reader extends
// a deadline that passed (lowat.go).
func readReply(r *bufio.Reader) (error, error) {
	for {
		buf, _ := r.Peek(r.Buffered())
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			rep := parseReply(buf[:i+1])
			if rep == errProtocol {
				return nil, errProtocol
			}
			_, _ = r.Discard(i + 1)
			return rep, nil
		}
		if len(buf) == r.Size() {
			return nil, bufio.ErrBufferFull
		}
		if _, err := r.Peek(len(buf) + 1); err != nil {
			return nil, err
		}
	}
}

// readBuffered appends to reps the replies r holds whole already, so
// reading them does not block, and consumes them. It scans the buffer
// itself: the replies to PUBLISH are a few bytes each.
func readBuffered(r *bufio.Reader, reps []error) ([]error, error) {
	b, _ := r.Peek(r.Buffered())
	start := 0
	for i := 0; i < len(b); i++ {
		if b[i] != '\n' {
			continue
		}
		rep := parseReply(b[start : i+1])
		if rep == errProtocol {
			return reps, errProtocol
		}
		reps = append(reps, rep)
		start = i + 1
	}
	_, _ = r.Discard(start)
	return reps, nil
}

// handshake sends AUTH and SELECT as opts say, and checks their replies.
func handshake(c net.Conn, opts *goredis.Options, timeout time.Duration) error {
	var buf []byte
	n := 0
	if opts.Password != "" {
		if opts.Username != "" {
			buf = appendCommand(buf, "AUTH", opts.Username, opts.Password)
		} else {
			buf = appendCommand(buf, "AUTH", opts.Password)
		}
		n++
	}
	if opts.DB != 0 {
		buf = appendCommand(buf, "SELECT", strconv.Itoa(opts.DB))
		n++
	}
	if n == 0 {
		return nil
	}
	if timeout > 0 {
		if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
			return err
		}
	}
	if _, err := c.Write(buf); err != nil {
		return err
	}
	r := bufio.NewReaderSize(c, 512)
	var first error
	for range n {
		rep, err := readReply(r)
		if err != nil {
			return err
		}
		if rep != nil && first == nil {
			first = rep
		}
	}
	if first != nil {
		return first
	}
	if r.Buffered() != 0 {
		return fmt.Errorf("%w after AUTH/SELECT", errProtocol)
	}
	return c.SetDeadline(time.Time{})
}
