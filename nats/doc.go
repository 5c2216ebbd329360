// Package nats is eventpub's NATS driver, for core NATS and JetStream,
// built on github.com/nats-io/nats.go. Importing it registers the URL
// schemes nats and tls with package transport.
//
//	t, err := nats.Open(ctx, "nats://user:pass@a:4222,b:4222?jetstream=EVENTS")
//
// # Channels and subjects
//
// A channel name is used as the subject unchanged by default, so
// "codeworm:events" (one token) works the same on Redis and NATS during a
// migration. [ColonToDot] maps ':' to '.' for a subject hierarchy that
// wildcard subscribers ("codeworm.>") can use. Every channel and pattern
// first meets the rules all drivers share, transport.ValidateChannel (not
// empty, at most 255 bytes, valid UTF-8, no control characters); then a
// channel that cannot be a subject (white space, '*' or '>', empty tokens)
// gives transport.ErrInvalidChannel before anything is sent, and so before
// a JetStream stream's subjects are touched. Since that
// check is stricter than nats.go's, a connection Open makes skips nats.go's
// own (natsgo.SkipSubjectValidation): code that publishes on
// [Transport.Conn] directly must give it valid subjects.
//
// # Core mode
//
// Publish returns once nats.go has buffered the message (with [WithFlush],
// once the server has it), and Close flushes: at most once on its own.
// [Transport.Flush] (transport.Flusher) confirms, with one round trip, that
// the server has everything published before it, and refuses to vouch when
// the connection was re-established since the last Flush; eventpub's async
// Publisher flushes after every batch and sends the batch again when the
// flush fails, which makes core NATS at least once in async mode, at the
// cost of one round trip per batch.
// Headers travel as NATS headers. A payload over the server's max_payload
// gives transport.ErrPayloadTooLarge before anything is sent.
//
// # JetStream mode
//
// [WithJetStream] stores every channel in a stream (default "EVENTPUB",
// limits retention, 24 h max age, 1 GiB max bytes, 1 replica). A subject no
// stream captures is added to that stream when first used. Publish returns
// once the stream acked the message; PublishBatch sends all, then waits for
// every ack; its acks come on an inbox subscription of the driver's own
// ("_INBOX.>" unless the connection sets another prefix), so a user with
// JetStream publish rights needs subscribe rights there, as nats.go's
// async publishing does. A transport.HeaderMessageID header becomes Nats-Msg-Id, so the
// stream drops a second message with the same id within its duplicates
// window. Subscribe uses an ordered consumer per channel that, like any
// JetStream consumer by default, first replays what the stream holds for
// the channel, then delivers new messages: that is what makes JetStream mode
// Persistent. JetStreamConfig.Start = StartNew (URL start=new) or
// [Transport.SubscribeFrom] gives pub/sub behaviour instead.
//
// # Outages
//
// Open does not fail because the servers are down (unless its context ends
// during its first attempt): it connects in the background and reconnects
// forever with a short jittered wait. While the
// connection is down, Publish fails at once with transport.ErrUnavailable:
// by default nats.go keeps no reconnect buffer, so an outage is reported
// rather than hidden (eventpub's async Publisher queues for the caller).
// [WithReconnectBuffer] (bytes) restores nats.go buffering in core mode:
// publishes then succeed while down until the buffer is full, then fail with
// ErrUnavailable. JetStream publishes waiting for an ack fail as soon as the
// connection drops. Subscriptions resume after a reconnect: core ones from
// that moment, JetStream ones after the last message they delivered. A link
// that stalls with the connection open is dropped and reconnected once a
// socket write has waited PublishTimeout (see Config.PublishTimeout). In
// JetStream mode an ack that does not come in time on a link that looks up
// starts a link probe (one PING round trip); until it answers, publishes
// fail at once with transport.ErrUnavailable, and when it does not, the
// connection reconnects. A publish that sent its message and got no answer
// (a timeout, its context, the link dropping) fails with
// transport.ErrUnknownOutcome: the stream may have stored it.
// [Transport.CloseContext] (transport.ContextCloser) bounds every wait of
// Close by the caller's context.
//
// # Errors
//
// Failures map to the transport sentinels; refused credentials and TLS
// failures give [ErrAuth], which also matches transport.ErrAuth and never
// transport.ErrUnavailable. A publish or subscription the user's
// permissions refuse gives [ErrPermission], which also matches
// transport.ErrAuth, naming the subject. The server
// answers a refused publish only with an error on the connection, so a
// core Publish learns of it only with [WithFlush], and a JetStream Publish
// once its ack wait (PublishTimeout) ends. Passwords and tokens never
// appear in errors.
package nats
