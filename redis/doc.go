// Package redis is eventpub's reference driver: Redis pub/sub through
// go-redis v9, wire-compatible with CodeWorm. A message's payload is sent
// as is with PUBLISH, so a CodeWorm dashboard subscribed to codeworm:* on
// the same Redis receives from a Go service exactly what it received from
// the Python publisher. Redis pub/sub has no headers: Capabilities.Headers
// is false and Message.Header is not sent.
//
// # Opening
//
// [Open] builds and owns a client from a URL; importing the package also
// registers the schemes redis, rediss (TLS) and unix with transport.Open:
//
//	tr, err := redis.Open(ctx, "redis://user:pass@localhost:6379/0")
//
// [New] wraps a go-redis client the caller already has (standalone,
// Sentinel failover or Cluster) and never closes it. Neither contacts
// Redis, so a service starts while Redis is down. Errors, log lines and
// [Transport.String] never show the password.
//
// # Publishing
//
// Publish calls from many goroutines are coalesced. On a standalone server
// (a URL given to [Open], or a plain *goredis.Client given to [New]) the
// driver streams PUBLISH on [Config.PipelineConns] connections of its own,
// dialled with the client's Dialer, credentials, database and timeouts: a
// caller that finds its connection idle writes at once on its own
// goroutine; while replies are awaited, callers queue and the connection's
// reader writes all they queued in one write as it wakes them, so writes
// and replies overlap (at most [Config.MaxPipeline] commands a write).
// Each caller still gets its own reply. go-redis hooks added to the client
// do not see these PUBLISH commands. A Cluster or Sentinel client, or one
// with a credentials provider or an OnConnect hook, publishes through
// go-redis pipelines instead: callers arriving while one is in flight are
// sent together in the next. PublishBatch sends a batch in one round trip
// through go-redis. With [WithSharded] (Redis 7+, meant for
// Redis Cluster) SPUBLISH and SSUBSCRIBE are used, so a channel's traffic
// stays on the shard that owns its slot instead of reaching every node.
//
// # Channels
//
// Channel names (and patterns) follow the rules every driver shares,
// transport.ValidateChannel: not empty, at most 255 bytes, valid UTF-8, no
// control characters. Redis itself would carry any bytes; a name that
// breaks a rule gives transport.ErrInvalidChannel before anything is sent.
// In a PublishBatch such a message (or one over MaxPayload) fails alone:
// the others are sent and the *transport.BatchError's Results say so.
//
// # Outages
//
// The first call that cannot reach Redis fails with transport.ErrUnavailable
// within the dial timeout, and marks Redis down: until a background check
// (capped exponential backoff, [Config.MinBackoff] to [Config.MaxBackoff])
// sees it answer, calls fail at once instead of each waiting a timeout.
// Subscriptions reconnect and resubscribe by themselves (go-redis);
// messages published while a subscriber was cut off are lost, as always
// with Redis pub/sub.
//
// # Errors
//
// Failures match the transport sentinels with errors.Is. A NOPERM reply
// (an ACL that forbids the channel) matches [ErrPermission]; refused
// credentials match [ErrAuth] and transport.ErrAuth, not
// transport.ErrUnavailable: they are no outage to wait out.
//
// # Patterns
//
// [Transport.SubscribePattern] (transport.PatternSubscriber) takes Redis glob
// patterns such as "codeworm:*"; each message carries its real channel.
package redis
