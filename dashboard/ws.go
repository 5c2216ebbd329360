package dashboard

import (
	"context"
	"net/http"
	"time"

	"github.com/coder/websocket"
)

// Reasons a client is dropped.
const (
	reasonSlow    = "too slow: its buffer is full"
	reasonClosing = "the relay is closing"
	reasonStuck   = "a write took longer than the write timeout"
)

// serveWS streams frames to one WebSocket client and answers its pings.
func (r *Relay) serveWS(w http.ResponseWriter, req *http.Request) {
	if !r.track() {
		http.Error(w, reasonClosing, http.StatusServiceUnavailable)
		return
	}
	defer r.wg.Done()
	// The Origin was checked by guard, against --allow-origin too.
	conn, err := websocket.Accept(w, req, &websocket.AcceptOptions{
		InsecureSkipVerify: true,
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		return // Accept answered the request
	}
	conn.SetReadLimit(4096)
	c := newClient(r.base, r.cfg.clientBuffer)
	defer c.cancel()
	if !r.hub.join(c) {
		_ = conn.Close(websocket.StatusGoingAway, reasonClosing)
		return
	}
	defer r.hub.leave(c)

	done := make(chan struct{})
	go func() {
		defer close(done)
		defer c.cancel()
		for {
			// The read ends when the connection closes, below at the latest.
			typ, data, err := conn.Read(context.Background())
			if err != nil {
				return
			}
			if typ == websocket.MessageText && string(data) == "ping" {
				c.send(framePong)
			}
		}
	}()

	for c.ctx.Err() == nil {
		select {
		case <-c.ctx.Done():
		case f := <-c.out:
			// The watchdog (Relay.watchLoop) cancels c.ctx, ending the
			// write, when it takes longer than the write timeout.
			c.writing.Store(time.Now().UnixNano())
			err := conn.Write(c.ctx, websocket.MessageText, f)
			c.writing.Store(0)
			if err != nil {
				c.cancel()
			}
		}
	}
	switch reason := c.dropReason(); reason {
	case reasonClosing:
		_ = conn.Close(websocket.StatusGoingAway, reason)
	case "":
		_ = conn.CloseNow()
	default:
		r.cfg.logger.Warn("dashboard: client disconnected", "remote", req.RemoteAddr, "reason", reason)
		_ = conn.Close(websocket.StatusTryAgainLater, reason)
	}
	_ = conn.CloseNow()
	<-done
}
