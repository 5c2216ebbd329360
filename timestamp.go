package eventpub

import "time"

// appendTimestamp writes t as Python's datetime.isoformat() does: the wall
// clock "2006-01-02T15:04:05", then ".ffffff" only when the microseconds are
// not zero; with utc, t in UTC followed by "+00:00".
func appendTimestamp(b []byte, t time.Time, utc bool) []byte {
	if utc {
		t = t.UTC()
	}
	year, month, day := t.Date()
	hour, min, sec := t.Clock()
	b = appendInt(b, year, 4)
	b = append(b, '-')
	b = appendInt(b, int(month), 2)
	b = append(b, '-')
	b = appendInt(b, day, 2)
	b = append(b, 'T')
	b = appendInt(b, hour, 2)
	b = append(b, ':')
	b = appendInt(b, min, 2)
	b = append(b, ':')
	b = appendInt(b, sec, 2)
	if us := t.Nanosecond() / 1000; us != 0 {
		b = append(b, '.')
		b = appendInt(b, us, 6)
	}
	if utc {
		b = append(b, "+00:00"...)
	}
	return b
}

// appendInt writes a non-negative n zero-padded to width digits.
func appendInt(b []byte, n, width int) []byte {
	var tmp [20]byte
	i := len(tmp)
	for n >= 10 || width > 1 {
		i--
		tmp[i] = byte('0' + n%10)
		n /= 10
		width--
	}
	i--
	tmp[i] = byte('0' + n)
	return append(b, tmp[i:]...)
}
