package dashboard

import (
	"context"
	"net/http"
	"time"
)

// sseKeepAlive is how often an idle event stream gets a comment line, so
// that proxies keep it open.
const sseKeepAlive = 15 * time.Second

// serveSSE streams the same frames as the WebSocket as Server-Sent Events,
// one "data:" event per frame.
func (r *Relay) serveSSE(w http.ResponseWriter, req *http.Request) {
	if !r.track() {
		http.Error(w, reasonClosing, http.StatusServiceUnavailable)
		return
	}
	defer r.wg.Done()
	c := newClient(r.base, r.cfg.clientBuffer)
	defer c.cancel()
	defer context.AfterFunc(req.Context(), c.cancel)()
	if !r.hub.join(c) {
		http.Error(w, reasonClosing, http.StatusServiceUnavailable)
		return
	}
	defer r.hub.leave(c)

	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	if rc.Flush() != nil {
		return
	}
	keep := time.NewTicker(sseKeepAlive)
	defer keep.Stop()
	buf := make([]byte, 0, 4096)
	for {
		buf = buf[:0]
		select {
		case <-c.ctx.Done():
			if reason := c.dropReason(); reason != "" && reason != reasonClosing {
				r.cfg.logger.Warn("dashboard: event-stream client disconnected", "remote", req.RemoteAddr, "reason", reason)
			}
			return
		case <-keep.C:
			buf = append(buf, ": keep-alive\n\n"...)
		case f := <-c.out:
			buf = appendEvent(buf, f)
			// Send what else is waiting in the same write.
			for more := true; more && len(buf) < 64<<10; {
				select {
				case f := <-c.out:
					buf = appendEvent(buf, f)
				default:
					more = false
				}
			}
		}
		_ = rc.SetWriteDeadline(time.Now().Add(r.cfg.writeTimeout))
		if _, err := w.Write(buf); err != nil {
			return
		}
		if rc.Flush() != nil {
			return
		}
	}
}

// appendEvent appends frame as one event. Frames are JSON without raw
// newlines, so one data line holds each.
func appendEvent(dst, frame []byte) []byte {
	dst = append(dst, "data: "...)
	dst = append(dst, frame...)
	return append(dst, '\n', '\n')
}
