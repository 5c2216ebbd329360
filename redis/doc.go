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
// Sentinel failover or Cluster) and never closes it. Neither waits for
// Redis, so a service starts while Redis is down (Open of a rediss:// URL
// makes one TLS handshake, to fail at once on a certificate that does not
// verify). Errors, log lines, [Transport.String] and %#v never show the
// password.
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
// Each caller still gets its own reply. PublishBatch (and the async
// queue's batches) go on the same connections, written at once behind
// what is queued, several batches in flight. While a batch waits for
// hundreds of replies, the reader is woken for up to a few thousand bytes
// of them at a time rather than for each of Redis's writes (SO_RCVLOWAT,
// on Linux): about 25% less client CPU per message for an async publisher
// in BenchmarkCompareAsync/async (async_bench_test.go). go-redis
// hooks added to the client still see each of these PUBLISH commands
// (# Hooks). A Cluster or Sentinel client, or one with a credentials
// provider or an OnConnect hook, publishes through go-redis pipelines
// instead: callers arriving while one is in flight are sent together in
// the next, and PublishBatch sends a batch in one round trip. With [WithSharded] (Redis 7+, meant for
// Redis Cluster) SPUBLISH and SSUBSCRIBE are used, so a channel's traffic
// stays on the shard that owns its slot instead of reaching every node.
//
// Why the driver pipelines by itself rather than through go-redis's own
// (experimental) Client.AutoPipeline: in one run that interleaves the two
// in blocks (BenchmarkAutoPipeline and BenchmarkAutoPipelineFullDuplex in
// autopipeline_bench_test.go; PUBLISH of a 180-byte payload to a local
// Redis 7.0; 2 cores shared with other work, load average 6 to 8.5;
// medians of 7 rounds of 200000 messages each), the driver takes 1.3 to
// 2.7 times less time and 1.4 to 2.8 times less process CPU per message:
//
//	case (goroutines)   eventpub      go-redis AutoPipeline  time  CPU
//	                    ns    CPU ns  ns     CPU ns          ratio ratio
//	sequential          23411 14083   50172  35824           1.91  2.50
//	1                   29739 15450   56130  37926           1.90  2.52
//	8                    6058  3437   15712   9633           2.66  2.80
//	64                   3661  2414    5445   3955           1.61  1.76
//	256                  3377  1984    5361   3602           1.53  1.81
//	1024                 4050  2317    5666   3256           1.28  1.41
//	64, FullDuplex       3174  2299    5824   4569           1.68  1.95
//	256, FullDuplex      2962  2022    5996   4500           1.88  2.34
//	1024, FullDuplex     4155  2414    7974   4433           1.82  1.95
//
// (ns: wall time per message; CPU ns: user plus system time of the process
// per message; ratios are medians of go-redis over eventpub per round, so
// above 1 favours the driver. go-redis runs with
// DefaultBlockingAutoPipelineOptions, and with FullDuplex on in the last
// three rows.)
//
// # Hooks
//
// Hooks added to the client with AddHook (redisotel, redisprometheus, …)
// see every PUBLISH the driver streams on its own connections, as a command
// of its own with its error: the driver keeps a hook of its own innermost
// in the client's chain, and a publish runs through the chain to it, which
// sends the command on the driver's connections instead of through
// go-redis (go-redis does not let a client's hooks be read or its final
// step be replaced, so this is the one way in). The command's integer reply
// (how many subscribers got it) is not filled in. A hook added while a
// publish is under way may miss that publish. While no hook has been added
// to a client Open made, publishing skips the chain; a client given to
// [New] may have hooks already, so its publishes always go through it
// (BenchmarkHookedPublish measures the cost). Publishes through go-redis
// pipelines (Cluster, Sentinel, PublishBatch) pass the hooks as go-redis
// pipelines.
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
// Every error starts with "eventpub/redis: ", names the server (password
// masked) and gives the cause, and matches the transport sentinels with
// errors.Is. A Redis that cannot be reached ("cannot reach …") matches
// transport.ErrUnavailable and wraps the cause. Refused credentials ("…
// refused the credentials: WRONGPASS …") and a TLS certificate that does
// not verify match [ErrAuth] and transport.ErrAuth; a database index the
// server does not have ("… refused the settings: ERR DB index is out of
// range") matches transport.ErrConfig: neither is an outage to wait out. A
// NOPERM reply (an ACL that forbids the channel) matches [ErrPermission].
// Masking the password keeps the chain: errors.Is and errors.As still see
// the cause (transport.RedactError).
//
// # Logging
//
// The driver writes nothing to stderr. go-redis v9.23 has only a
// process-wide logger (redis.SetLogger), which by default prints each
// failed dial of a connection pool to stderr; the driver leaves it alone.
// Instead the clients [Open] builds dial through a wrapper that turns a
// failed dial into a connection whose first read or write fails with the
// dial's error, which go-redis returns without logging. A client given to
// [New] dials as its owner set it up; a program that wants go-redis quiet
// there adds redis.SetLogger(…) itself (the eventpub command does).
//
// # Streams
//
// [WithStreams] (URL mode=streams) makes the driver persistent: Publish
// appends each message to a Redis stream whose key is the channel name
// ([StreamsConfig.Prefix] + channel when set), with
//
//	XADD <key> MAXLEN ~ <MaxLen> * payload <bytes> h:<name> <value> …
//
// one h:<name> field per header, in name order ([FieldPayload],
// [HeaderFieldPrefix]); bytes round-trip exactly. MAXLEN ~ keeps about
// [StreamsConfig.MaxLen] entries (URL maxlen=, default
// [DefaultStreamMaxLen]). Concurrent publishes are coalesced into
// pipelines and PublishBatch is one pipeline with a result per message.
// On a Cluster a stream lives on the shard of its key's slot, as a
// sharded channel does.
//
// Subscribe reads the streams with XREAD BLOCK, from
// [StreamsConfig.Start] (URL start=): [StartAll] by default (what the
// stream holds, then new entries), [StartNew], or an entry ID;
// [Transport.SubscribeFrom] picks the start per call. After an outage a
// subscription goes on from the last entry it read, so it misses nothing
// the stream still holds; a reader more than MaxLen behind loses what was
// trimmed. With [StreamsConfig.Group] (URL group=NAME&consumer=NAME) it
// reads with XREADGROUP: subscriptions in one group share the entries, an
// entry is acknowledged (XACK) when Next is called again or the
// subscription is closed, and a consumer that comes back first gets the
// entries it read and did not acknowledge: delivery is at least once, and
// a restarted bridge resumes where it stopped. A closed subscription's
// reader ends within a quarter second (one blocked read); Transport.Close
// waits for it, and CloseContext no longer than its context.
// Patterns are not supported in streams mode (errors.ErrUnsupported).
//
// [WithDual] (URL mode=dual) sends PUBLISH (SPUBLISH when sharded) and
// XADD in one pipeline per message: pub/sub subscribers such as
// CodeWorm's dashboard receive the payload live (no headers), stream
// readers get payload and headers, and SubscribePattern reads pub/sub.
// The two are not atomic: when a call fails, the message may have gone
// out live but not into the stream, and a retry sends it live again.
// Publishes that cannot be sure a message was stored resend it, and
// Redis keeps both copies (streams have no message ids).
//
// # Patterns
//
// [Transport.SubscribePattern] (transport.PatternSubscriber) takes Redis glob
// patterns such as "codeworm:*"; each message carries its real channel.
package redis
