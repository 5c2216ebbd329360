// Package dashboard relays a service's logs, events and stats from any
// eventpub transport to browsers, speaking the WebSocket protocol of
// CodeWorm's dashboard relay, so CodeWorm's own frontend, or the live page
// built in here, follows a NATS, Redis or memory deployment unchanged.
//
// # Endpoints
//
// A [Relay] is an http.Handler:
//
//   - GET /ws and GET /api/ws: a WebSocket of text frames, the same stream
//     on both (CodeWorm's backend serves /ws; its page asks for /api/ws).
//   - GET /api/events: the same frames as Server-Sent Events, one "data:"
//     line each, for clients that cannot open a WebSocket.
//   - GET /health: {"status":"healthy"}.
//   - GET /: the built-in live page (embedded; a log with levels, the
//     current activity, the latest stats with a chart of each number, the
//     events, and the state of both links), or with [WithStaticDir] a built
//     single-page frontend, whose unknown paths fall back to index.html.
//
// # Frames
//
// For each message on NS:logs, NS:events and NS:stats (NS is the
// namespace, "codeworm" by default) every client receives
//
//	{"channel":"NS:events","data":PAYLOAD}
//
// where PAYLOAD is the message read as JSON and written again as CodeWorm's
// relay writes it with orjson: member order kept, a repeated key once at
// its first place with its last value, strings unescaped ("\u00e9" becomes
// "é"), numbers re-written (1.50 becomes 1.5). A payload orjson would not
// read (not JSON, NaN, invalid UTF-8, a float beyond float64, nesting too
// deep to write back) is sent as
//
//	{"channel":"NS:logs","data":{"raw":"the payload as text"}}
//
// with bytes that are not UTF-8 shown as U+FFFD. The relay keeps the last
// 200 frames of the logs and events channels (not stats); a client that
// connects while any are kept first receives
// {"channel":"NS:history","data":[those frames, oldest first]}. A client
// that sends the text "ping" receives {"type":"pong"}.
//
// Frames that CodeWorm's relay does not send carry no "channel", so its
// frontend ignores them: {"type":"broker","state":"up"} or "down" is sent
// when the relay's link to the broker changes, and to each client after
// the history.
//
// # Serving safely
//
// A WebSocket or event-stream request whose Origin names another host is
// refused unless [WithAllowedOrigins] lists it; [WithToken] requires a
// bearer token (header or token= query parameter). Each client has a
// bounded queue ([WithClientBuffer]): a client that lets it fill, or whose
// write takes longer than [WithWriteTimeout], is disconnected, and the
// relay and the other clients never wait for it. The broker is pinged
// every [WithLinkCheck]; the link going down and coming back is logged
// ([WithLogger]) and shown on the page, and the subscription is renewed
// with backoff when it fails.
package dashboard
