package jsonenc

import (
	"math"
	"strconv"
	"time"
)

// appendFloat appends f in shortest round-trip form for its bitSize (32 or
// 64): plain decimal for decimal exponents −5…15 (".0" on whole numbers),
// exponent form otherwise; NaN and ±Inf as null.
func appendFloat(dst []byte, f float64, bitSize int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	if f == 0 {
		if math.Signbit(f) {
			return append(dst, "-0.0"...)
		}
		return append(dst, "0.0"...)
	}
	var buf [32]byte
	b := strconv.AppendFloat(buf[:0], f, 'e', -1, bitSize) // [-]d[.ddd]e±dd
	if b[0] == '-' {
		dst = append(dst, '-')
		b = b[1:]
	}
	e := len(b) - 1
	for b[e] != 'e' {
		e--
	}
	exp := 0
	for _, c := range b[e+2:] {
		exp = exp*10 + int(c-'0')
	}
	if b[e+1] == '-' {
		exp = -exp
	}
	// The significant digits, without the point: b[0] then b[2:e].
	var digits [24]byte
	n := copy(digits[:], b[:1])
	if e > 1 {
		n += copy(digits[n:], b[2:e])
	}
	d := digits[:n]

	switch {
	case exp >= 0 && exp <= 15:
		if n <= exp+1 {
			dst = append(dst, d...)
			for i := n; i <= exp; i++ {
				dst = append(dst, '0')
			}
			return append(dst, '.', '0')
		}
		dst = append(dst, d[:exp+1]...)
		dst = append(dst, '.')
		return append(dst, d[exp+1:]...)
	case exp < 0 && exp >= -5:
		dst = append(dst, '0', '.')
		for i := -1; i > exp; i-- {
			dst = append(dst, '0')
		}
		return append(dst, d...)
	default:
		dst = append(dst, d[0])
		if n > 1 {
			dst = append(dst, '.')
			dst = append(dst, d[1:]...)
		}
		dst = append(dst, 'e')
		return strconv.AppendInt(dst, int64(exp), 10)
	}
}

// appendTime appends t as a JSON string in Python's isoformat with offset:
// 2026-02-19T13:29:00.123456+00:00, microseconds only when not zero.
func appendTime(dst []byte, t time.Time) []byte {
	dst = append(dst, '"')
	dst = AppendISOTime(dst, t, true)
	return append(dst, '"')
}

// AppendISOTime appends t's wall clock as Python's datetime.isoformat()
// writes it, without quotes: 2026-02-19T13:29:00.123456, the microseconds
// only when not zero. With offset, t's UTC offset follows (+00:00, -05:00).
func AppendISOTime(dst []byte, t time.Time, offset bool) []byte {
	year, month, day := t.Date()
	hour, minute, sec := t.Clock()
	if year >= 0 && year <= 9999 {
		dst = appendPadded(dst, year, 4)
	} else {
		dst = strconv.AppendInt(dst, int64(year), 10)
	}
	dst = append(dst, '-')
	dst = appendPadded(dst, int(month), 2)
	dst = append(dst, '-')
	dst = appendPadded(dst, day, 2)
	dst = append(dst, 'T')
	dst = appendPadded(dst, hour, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, minute, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, sec, 2)
	if us := t.Nanosecond() / 1000; us != 0 {
		dst = append(dst, '.')
		dst = appendPadded(dst, us, 6)
	}
	if !offset {
		return dst
	}
	_, off := t.Zone()
	if off < 0 {
		dst = append(dst, '-')
		off = -off
	} else {
		dst = append(dst, '+')
	}
	dst = appendPadded(dst, off/3600, 2)
	dst = append(dst, ':')
	dst = appendPadded(dst, off/60%60, 2)
	if off%60 != 0 {
		dst = append(dst, ':')
		dst = appendPadded(dst, off%60, 2)
	}
	return dst
}

// appendPadded appends the non-negative n with at least width digits.
func appendPadded(dst []byte, n, width int) []byte {
	var buf [20]byte
	i := len(buf)
	for n > 0 || width > 0 {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		width--
	}
	return append(dst, buf[i:]...)
}
