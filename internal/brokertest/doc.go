// Package brokertest starts brokers for eventpub's tests: miniredis, an
// embedded nats-server, test-owned redis-server processes and clusters, and
// the real servers named by EVENTPUB_REDIS_URL and EVENTPUB_NATS_URL.
package brokertest
