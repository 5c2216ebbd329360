// Package tee is a transport that publishes every message to several
// transports at once, for dual-writing while moving from one broker to
// another.
//
// A tee has one primary target and any number of secondary ones. It
// implements transport.Transport, transport.BatchPublisher and
// transport.PatternSubscriber, so it goes wherever a driver does (for
// instance under an eventpub.Publisher):
//
//	t, err := tee.New(redisT, []transport.Transport{natsT})
//	pub := eventpub.New(t)
//
// # Publishing
//
// Publish sends the message to every target concurrently and returns once
// each has answered, so a call takes as long as the slowest target, not the
// sum of them. [WithSequential] sends to the primary first and to the
// secondaries only once it has the message, one after the other.
//
// The primary's error always fails the call, and is returned as the driver
// gave it. A failing secondary is counted in its [TargetStats]; whether it
// also fails the call is chosen with [WithSecondaryFailure]: [CountAndContinue]
// (the default) or [FailCall]. Concurrent sends mean a secondary may have a
// message the primary refused.
//
// A payload over Capabilities().MaxPayload (the smallest limit of all
// targets) is refused with transport.ErrPayloadTooLarge before any target
// sees it, so the targets never disagree on what fits.
//
// # Changing targets while running
//
// [Transport.Add], [Transport.Remove] and [Transport.SetPrimary] change the
// targets while publishes go on. Each waits for publishes in flight, and
// every publish uses either the targets before the change or those after
// it, never a mix: a target present on both sides of a change receives every
// message. Once Remove returns, the tee no longer uses the removed transport
// and the caller may close it.
//
// # Subscribing
//
// Subscribe and SubscribePattern read from the primary at the time of the
// call. A subscription stays on that transport when the primary changes.
//
// # Ownership
//
// The tee owns its targets: Close closes every current target (not the ones
// Remove handed back). [WithKeepOpen] makes Close leave them open.
//
// Messages are passed to every target as given, concurrently; drivers only
// read a message, and none keeps it after Publish returns (the transport
// contract), so the caller may reuse the payload once the call returns.
package tee
