// Package amqp is eventpub's RabbitMQ driver, on AMQP 0-9-1 through
// github.com/rabbitmq/amqp091-go. Importing it registers the URL schemes
// amqp and amqps (TLS) with package transport.
//
//	tr, err := amqp.Open(ctx, "amqp://user:pass@localhost:5672/?exchange=events")
//
// # Channels and routing keys
//
// Every message is published to one topic exchange ([Config.Exchange],
// default "eventpub", declared durable on each connect, by each
// subscription, and again when it was deleted under a publisher, whose
// refused publish then fails with ErrUnavailable) with the channel name
// as its routing key, unchanged: "codeworm:logs" is the one-word key
// "codeworm:logs", "codeworm.logs" the two words "codeworm" and "logs".
// A channel must pass transport.ValidateChannel (at most 255 bytes, the
// AMQP limit, no control characters), and a '.'-separated word of it must
// not be exactly "*" or "#", which binding keys read as wildcards: such a
// channel could not be subscribed to on its own, so it is refused with
// transport.ErrInvalidChannel. '*' and '#' inside a longer word ("a*b")
// are ordinary characters. Message.Header travels as AMQP headers (string
// values) and comes back as sent.
//
// # Patterns
//
// [Transport.SubscribePattern] takes AMQP topic patterns: "*" is one word,
// "#" zero or more, and both only as whole words. CodeWorm's colon names
// are one word each, so "codeworm:*" cannot match them (it is refused,
// since AMQP would take it literally): subscribe to "#" for every channel,
// list the channels, or name channels with dots ("codeworm.logs") and
// subscribe to "codeworm.*".
//
// # Publishing
//
// The publishing channel is in confirm mode: Publish returns once the
// broker has taken the message (for a durable queue, written it), and
// PublishBatch writes the whole batch, then waits for every confirm,
// reporting each message's fate in transport.BatchError.Results.
// Concurrent publishes share the channel, each written at once and waiting
// for its own confirm, so many are in flight and the broker confirms them
// in groups; the bytes of publishes being written at the same moment (and
// of a whole batch) leave in one socket write. A message no queue is bound to receive is dropped by the
// broker and still confirmed, unless [Config.Mandatory] is set: then it
// comes back and Publish returns [ErrUnroutable] (permanent). Messages are
// persistent (delivery mode 2) unless [Config.Transient], and carry a
// unique AMQP message-id.
//
// # Subscriptions
//
// By default each Subscription has an exclusive, auto-delete queue of its
// own, bound to its channels: delivery is like pub/sub, and what is
// published while it does not exist (before Subscribe, during an outage)
// is not kept. With [Config.Queue] (URL queue=NAME) the transport's
// subscriptions share one durable queue: its bindings (its
// [Config.QueueBindings], set up on every connect, and every channel ever
// subscribed) stay on the broker, so messages routed to it wait while no
// one reads, across restarts of the subscriber and of a broker with
// durable storage. That is what makes the transport Persistent. While
// subscribed, the transport consumes the queue and hands each message to
// those of its subscriptions whose channels or patterns match; a message
// none of them wants is acknowledged and dropped. Several transports (or
// processes) on one queue name share its messages, each taking some, as
// AMQP work queues do. A message is acknowledged when Next returns it;
// closing a subscription hands back (requeues) what it received but did
// not return. Every message is published with a unique AMQP message-id;
// when an ack is lost with a connection and the broker delivers the
// message again, the transport recognises one it already handed out (the
// last 8192) and drops it. Up to [Config.SubscriptionBuffer] messages wait unread; the
// broker holds the rest (that is the consumer prefetch).
//
// # Outages
//
// amqp091-go does not reconnect, so the driver does: Open makes one
// attempt and, when the broker does not answer, returns a Transport that
// keeps trying in the background, with exponential backoff from
// [Config.MinBackoff] to [Config.MaxBackoff]. While it is down, Publish,
// PublishBatch, Subscribe and Ping fail at once with
// transport.ErrUnavailable (or ErrAuth, when the broker refused the
// credentials). Subscriptions come back by themselves on the new
// connection: an exclusive queue is declared anew (what was published in
// between is lost), the durable queue is consumed again (nothing routed to
// it is lost). Publishes whose confirm was outstanding when the connection
// ended fail with ErrUnavailable; the broker may have them, so a retry can
// deliver a message twice (at least once). While the broker blocks the
// connection (a memory or disk alarm, connection.blocked) publishing
// fails fast with ErrUnavailable. A call whose context ends while it
// waits on the broker starts a check: when the broker does not answer a
// channel round trip within [Config.ProbeTimeout] the connection is
// dropped and calls fail fast, so a stalled link costs a caller at most
// its own deadline. A socket write is bounded by [Config.WriteTimeout],
// as amqp091-go's writes take no context; heartbeats ([Config.Heartbeat])
// catch a silent link when nothing is sent.
//
// # Errors and secrets
//
// Failures match the transport sentinels with errors.Is. Refused
// credentials, a refused vhost or a failed TLS handshake match [ErrAuth];
// an operation refused for want of permission (ACCESS_REFUSED) matches
// [ErrPermission]; both match transport.ErrAuth, never
// transport.ErrUnavailable. A payload over [Config.MaxPayload] (default
// 16 MiB; RabbitMQ's max_message_size, 128 MiB by default, is not told to
// clients, and exceeding it closes the channel) gives
// transport.ErrPayloadTooLarge before anything is sent. Passwords never
// appear in errors or in a Transport printed with %v or %#v.
package amqp
