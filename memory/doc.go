// Package memory is an in-process eventpub broker that keeps the whole
// transport contract, for unit tests and for wiring parts of one program
// together without a server.
//
// # Brokers and transports
//
// A [Broker] routes messages between the transports connected to it with
// [Broker.Connect]. [New] is the short form for a private broker with one
// transport. Closing a transport ends only its own subscriptions. Nothing in
// this package starts a goroutine: delivery is a send on the subscriber's
// buffered channel from the publisher's goroutine.
//
// # Slow subscribers
//
// Each subscription has a buffer ([WithBuffer], 1024 messages by default).
// A message goes first to every subscriber with room, so the others receive
// it at once however slow one of them is. What happens for a subscriber
// whose buffer is full is chosen with [WithOverflow]:
//
//   - [Block] (default): the publisher waits for room, up to its context,
//     so nothing is lost while the context lives; a subscriber that never
//     reads therefore holds up its publishers (give Publish a deadline, or
//     use Drop). If the context ends first, the message is dropped for the
//     subscribers still full, counted, and Publish returns an error matching
//     ctx.Err() that says so; the other subscribers, the history and the
//     recorders already have it. Closing the waiting subscription releases
//     the publisher; closing the publisher's transport makes it return
//     transport.ErrClosed.
//   - [Drop]: the message is dropped for that subscriber at once and counted;
//     Publish succeeds.
//
// [Transport.Dropped] counts drops over the whole broker,
// [Subscription.Dropped] those of one subscription.
//
// # Channels and patterns
//
// A channel name (and a pattern) follows the rules every driver shares,
// transport.ValidateChannel: not empty, at most 255 bytes, valid UTF-8, no
// control characters. Others are rejected with transport.ErrInvalidChannel
// before anything is delivered; the memory broker adds no rule of its own. [Transport] also
// implements transport.PatternSubscriber with Redis-style globs: '*' matches
// any run of characters (including ':', '.' and '/'), '?' one character,
// '[abc]', '[a-z]' and '[^a-z]' a class, and '\' quotes the next character.
// A message reaches a subscription once even when several of its channels or
// patterns match.
//
// # History
//
// With [WithHistory](n) the broker keeps the last n messages of every channel
// and a new subscription first receives the kept messages of its channels (in
// publish order), then live ones, with none missed or repeated in between.
// Capabilities().Persistent is then true. History is kept for every channel
// ever published on, for the life of the broker.
//
// # Ownership
//
// Publish copies the payload and the header map, so the caller may reuse
// them at once. Every subscriber receives its own copy, which it may modify.
//
// # URLs
//
// Importing this package registers the scheme "memory" with
// transport.Register. memory://name connects to the process-wide broker
// called name (created on first use, never freed); memory:// with no name
// gives a fresh private broker. Query options: buffer=N, overflow=block|drop,
// history=N, max_payload=N (bytes, 0 = no limit).
//
// # Testing
//
// A [Recorder] sees every message published on a broker, without taking a
// subscriber's place, so a unit test can assert on what its code published.
package memory
