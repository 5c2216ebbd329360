package eventpub

import (
	"time"

	"github.com/eventpub/eventpub/internal/jsonenc"
)

// appendTimestamp writes t as Python's datetime.isoformat() does: the wall
// clock "2006-01-02T15:04:05", then ".ffffff" only when the microseconds are
// not zero; with utc, t in UTC followed by "+00:00".
func appendTimestamp(b []byte, t time.Time, utc bool) []byte {
	if utc {
		t = t.UTC()
	}
	return jsonenc.AppendISOTime(b, t, utc)
}
