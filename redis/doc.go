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
// Publish calls from many goroutines are coalesced: a caller that finds a
// pipeline lane idle sends its command at once on its own goroutine; callers
// arriving meanwhile are queued and sent together in one pipeline by the
// next of them, each still getting its own result ([Config.PipelineConns]
// lanes, at most [Config.MaxPipeline] commands a pipeline). PublishBatch
// sends a batch in one round trip. With [WithSharded] (Redis 7+, meant for
// Redis Cluster) SPUBLISH and SSUBSCRIBE are used, so a channel's traffic
// stays on the shard that owns its slot instead of reaching every node.
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
// credentials match [ErrAuth] and transport.ErrUnavailable.
//
// # Patterns
//
// [Transport.SubscribePattern] (transport.PatternSubscriber) takes Redis glob
// patterns such as "codeworm:*"; each message carries its real channel.
package redis
