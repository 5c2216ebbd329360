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
// Delivery is at most once: Publish returns once nats.go has buffered the
// message (with [WithFlush], once the server has it), and Close flushes.
// Headers travel as NATS headers. A payload over the server's max_payload
// gives transport.ErrPayloadTooLarge before anything is sent.
//
// # JetStream mode
//
// [WithJetStream] stores every channel in a stream (default "EVENTPUB",
// limits retention, 24 h max age, 1 GiB max bytes, 1 replica). A subject no
// stream captures is added to that stream when first used. Publish returns
// once the stream acked the message; PublishBatch sends all, then waits for
// every ack. A transport.HeaderMessageID header becomes Nats-Msg-Id, so the
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
// socket write has waited PublishTimeout (see Config.PublishTimeout).
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
