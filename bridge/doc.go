// Package bridge relays messages from one transport to another: it
// subscribes to channels or patterns on a source and republishes every
// message, payload and header unchanged, on a target. Use it to feed a new
// broker from an old one during a migration, or to join two systems.
//
//	b, err := bridge.New(redisT, natsT)
//	err = b.Run(ctx, "codeworm:logs", "codeworm:events", "codeworm:stats")
//
// # Delivery
//
// One goroutine reads the source and hands each message to a [sendq.Queue]
// on the target, which does the delivery: a bounded queue ([WithCapacity], 10000 messages by default),
// batches, and in-order retries with capped, jittered backoff while the target is
// unavailable. A slow or absent target therefore does not stall the source,
// and nothing is lost while the queue has room (a message whose attempt
// timed out may arrive twice). When it is full the
// overflow policy applies ([WithOverflow]: sendq.DropNewest,
// sendq.DropOldest, or sendq.Block, which holds the source back
// instead of dropping). A message the target refuses for good is counted
// as failed and skipped. [Bridge.Stats] counts received, relayed, dropped,
// failed and queued messages, and they always add up; [WithObserver] adds
// observers (package observe) that hear every message's fate.
//
// The header reaches the target only when its Capabilities().Headers is
// true (Redis carries none). Channel names pass unchanged, so a name must
// be valid on both brokers. The bridge does not own the transports: Stop
// leaves them open.
//
// # Stopping
//
// [Bridge.Stop] stops reading, keeps sending what is queued until its
// context ends, counts what is left as failed and returns once every
// goroutine of the bridge has ended. [Bridge.Run] does Start, waits for its
// context, then Stop with [WithDrainTimeout].
//
// # Loops
//
// The bridge does not mark what it relays. Bridging A→B and B→A on the same
// channels sends every message around forever; bridge each channel one way.
package bridge
