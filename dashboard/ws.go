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
	cw := &corkWriter{ResponseWriter: w, timeout: r.cfg.writeTimeout}
	conn, err := websocket.Accept(cw, req, &websocket.AcceptOptions{
		InsecureSkipVerify: true,
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		return // Accept answered the request
	}
	conn.SetReadLimit(4096)
	c := newClient(r.base, r.cfg.clientBuffer)
	defer c.cancel()
	if cw.conn != nil {
		// A write blocked on a client that reads nothing ends only when
		// its connection is cut.
		c.kill = func() { _ = cw.conn.Conn.Close() }
	}
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
			if err := r.writeFrames(conn, cw.conn, c, f); err != nil {
				// A write that gathered frames has its own deadline (see
				// corkConn); one that outlasted it is a stuck client,
				// dropped and counted as the watchdog would have.
				if cw.conn != nil && cw.conn.stuck() {
					r.hub.dropSlow(c, reasonStuck)
				}
				c.cancel()
			}
		}
	}
	if cw.conn != nil {
		_ = cw.conn.uncork()
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

// writeFrames writes f and the frames queued behind it, gathered into one
// write to the network when there are several.
func (r *Relay) writeFrames(conn *websocket.Conn, cc *corkConn, c *client, f []byte) error {
	n := len(c.out)
	if n > 0 && cc != nil {
		cc.cork()
	}
	// The watchdog (Relay.watchLoop) drops the client, cutting its
	// connection and so ending the write, when it takes longer than the
	// write timeout; a write without a context deadline costs less.
	c.writing.Store(time.Now().UnixNano())
	defer c.writing.Store(0)
	for {
		if err := conn.Write(context.Background(), websocket.MessageText, f); err != nil {
			return err
		}
		if n == 0 {
			break
		}
		n--
		f = <-c.out
	}
	if cc != nil {
		return cc.uncork()
	}
	return nil
}
