// Package kafka is eventpub's Kafka driver, built on franz-go
// (github.com/twmb/franz-go/pkg/kgo, with pkg/kadm for topics). Importing
// it registers the URL scheme kafka with package transport.
//
//	t, err := kafka.Open(ctx, "kafka://user:pass@broker1:9092,broker2:9092/?sasl=scram-sha-512&tls=true")
//
// # Channels and topics
//
// Kafka topic names hold only ASCII letters, digits, '.', '_' and '-', at
// most 249 of them, so channel names are mapped, by a rule that can be
// undone. The default, [Escape], keeps letters, digits and '-', turns ':'
// into '.', '_' into "__" and any other byte into '_' and two hex digits:
// "codeworm:events" is the topic "codeworm.events", "job_done" is
// "job__done", "a.b" is "a_2eb". [ColonToDot] (URL mapping=dots) maps ':'
// to '.' as the NATS driver's ColonToDot does and refuses, with
// transport.ErrInvalidChannel, any channel holding '.' or another byte a
// topic cannot hold; [KeepNames] (mapping=keep) uses the channel as the
// topic and refuses what is not a valid topic. [TopicFor] and [ChannelFor]
// give the mapping to other Kafka tools. A channel whose topic would be
// over 249 bytes is refused.
//
// A topic is created (Partitions, default 1; ReplicationFactor, default
// the broker's) the first time a transport uses its channel, or with
// RequireTopics (URL create=false) must exist: a missing one gives
// ErrInvalidChannel, naming the topic.
//
// # Publishing
//
// The producer is idempotent with acks=all: Publish returns once every
// in-sync replica has the message, and franz-go's retries never write it
// twice. Each record is keyed by its channel name, so a channel's messages
// stay in one partition, in order, even on a topic with several partitions
// (Ordered). Headers travel as record headers. PublishBatch hands every
// message to franz-go's own batching producer, then waits for each one's
// acknowledgement; a *transport.BatchError gives each message's fate in
// Results. A payload over Capabilities.MaxPayload (MaxRecordBatchBytes,
// default 1 000 012, less room for the key and framing) gives
// transport.ErrPayloadTooLarge before anything is sent; headers count
// against the same record batch limit.
//
// # Subscribing
//
// Each Subscription is a franz-go consumer of its own. By default it starts
// at the end of each partition as it is when Subscribe returns; FromStart
// (URL from=start) replays each topic first, and only then is the
// transport Persistent. With a Group (URL group=NAME) Subscriptions join a
// consumer group: they resume after the last message Next handed out
// (committed every 5 s and on Close) and share partitions rather than each
// receiving every message.
//
// # Outages
//
// Open does not fail because no broker answers: it checks once and keeps
// checking in the background. A broker connection that fails or closes
// starts a check (franz-go's Ping: any broker answering a metadata request)
// and, while none answers, Publish, PublishBatch, Subscribe and Ping fail at
// once with transport.ErrUnavailable; the check repeats with a backoff
// capped at 1 s until a broker answers. When the cluster is found down,
// franz-go fails the records it holds that have not gone out. A record
// already sent cannot be failed without breaking idempotency: Publish waits
// up to half the ConnectTimeout (1 s) more for its verdict (enough for a
// broker restart), then reports transport.ErrUnknownOutcome (a kind of
// ErrUnavailable), and the record may still be delivered once the link is
// back, so a caller that retries can see it twice. Every Publish that
// handed its record to franz-go and got no verdict (its context or
// PublishTimeout ended, a timeout, the link lost) says ErrUnknownOutcome
// the same way, as does each message a PublishBatch stopped waiting for;
// plain ErrUnavailable means the message was not sent. PublishBatch
// waits for every verdict until its context ends, so the async Publisher,
// which sends batches of two or more through PublishBatch, neither loses
// nor repeats them across an outage. A Publish whose context has no
// deadline is bounded by PublishTimeout (10 s).
//
// # Closing
//
// [Transport.CloseContext] (transport.ContextCloser) first waits for the
// acknowledgements of records on their way, then ends each Subscription
// (committing a Group's offsets and leaving it) and closes the franz-go
// clients. Every one of those waits ends with the caller's context, and
// the clients are still closed and their goroutines stopped: a Close on a
// stalled link returns when the context does. Close is CloseContext
// bounded by PublishTimeout for the acknowledgements and ConnectTimeout
// for each Subscription.
//
// # Errors
//
// Refused SASL credentials, a failed TLS handshake and ACL refusals give
// [ErrAuth], which also matches transport.ErrAuth and never
// transport.ErrUnavailable. Passwords never appear in errors, nor in
// Config's %v and %#v output.
//
// # What was proven where
//
// The tests run on kfake (github.com/twmb/franz-go/pkg/kfake), franz-go's
// in-process Kafka, with three brokers: the conformance suite, restarts
// from kfake's data directory, cut, refused and stalled links (a fault
// proxy in front of each broker), a moved partition leader and a removed
// broker, SASL (refused credentials through a kfake control function, as
// kfake itself only closes the connection), TLS, consumer groups. kfake
// keeps one copy of each log for all its brokers, so replication, ISR
// shrinking, unclean leader election, ACLs and the limits a real broker
// is configured with are not exercised. With EVENTPUB_KAFKA_URL set the
// conformance suite and the delivery tests also run against that server
// (the delivery tests pin every connection to its first broker, so it must
// be a one-broker cluster); no run against a real Kafka is recorded yet.
package kafka
