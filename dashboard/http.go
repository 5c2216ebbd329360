package dashboard

import (
	"crypto/subtle"
	"net/http"
	"strings"
)

// httpMux routes the relay's endpoints.
type httpMux struct {
	r    *Relay
	page http.Handler // the built-in page, or the static directory
}

func newMux(r *Relay) *httpMux {
	m := &httpMux{r: r}
	if r.cfg.staticDir != "" {
		m.page = spaHandler(r.cfg.staticDir)
	} else {
		m.page = pageHandler(r.cfg.namespace)
	}
	return m
}

// ServeHTTP serves the endpoints listed in the package doc.
func (r *Relay) ServeHTTP(w http.ResponseWriter, req *http.Request) { r.mux.ServeHTTP(w, req) }

func (m *httpMux) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	switch p := req.URL.Path; {
	case p == "/health":
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte(`{"status":"healthy"}`))
	case p == "/ws" || p == "/api/ws":
		if m.guard(w, req) {
			m.r.serveWS(w, req)
		}
	case p == "/api/events":
		if m.guard(w, req) {
			m.r.serveSSE(w, req)
		}
	case strings.HasPrefix(p, "/api/"):
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"detail":"Not Found"}`))
	default:
		m.page.ServeHTTP(w, req)
	}
}

// guard checks the Origin and the token of a stream request, answering
// 403 or 401 itself when one is wrong.
func (m *httpMux) guard(w http.ResponseWriter, req *http.Request) bool {
	cfg := &m.r.cfg
	origin := req.Header.Get("Origin")
	if !cfg.originAllowed(origin, req.Host) {
		http.Error(w, "origin not allowed", http.StatusForbidden)
		return false
	}
	if origin != "" {
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Add("Vary", "Origin")
	}
	if cfg.token == "" {
		return true
	}
	got := req.URL.Query().Get("token")
	if h := req.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		got = strings.TrimSpace(h[7:])
	}
	if subtle.ConstantTimeCompare([]byte(got), []byte(cfg.token)) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="eventpub"`)
		http.Error(w, "missing or wrong token", http.StatusUnauthorized)
		return false
	}
	return true
}
