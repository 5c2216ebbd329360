// Package deliverytest holds the end-to-end delivery tests of eventpub:
// a Publisher on a real driver (Redis, NATS) whose link to the broker is
// cut, stalled or restarted while a subscriber stays connected. It has no
// code of its own; everything is in its tests.
package deliverytest
