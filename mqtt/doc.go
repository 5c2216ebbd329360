// Package mqtt is eventpub's MQTT 5 driver, built on
// github.com/eclipse/paho.golang (the Eclipse Paho MQTT 5 client).
// Importing it registers the URL schemes mqtt and mqtts with package
// transport.
//
//	t, err := mqtt.Open(ctx, "mqtt://user:pass@127.0.0.1:1883?qos=1")
//
// # Delivery
//
// QoS 1 is the default: Publish returns when the server's PUBACK arrives,
// so a nil error means the server has the message (at least once: a
// message whose PUBACK was lost with the link is reported as
// transport.ErrUnavailable and may arrive twice when the caller, or
// eventpub's async Publisher, sends it again). QoS 0 (URL qos=0,
// [WithQoS]) returns once the packet is written, at most once; QoS 2
// returns on PUBCOMP, exactly once between client and server. The QoS
// also applies to subscriptions, and the server delivers each message at
// the lower of the publish and subscription QoS. One publisher's messages
// on one topic arrive in order (Capabilities.Ordered). A Subscription
// buffers SubscriptionBuffer messages for its reader; past that, QoS 0
// messages for it are dropped, while at QoS 1 and 2 delivery waits for the
// reader (the server holds the rest), so a subscription nobody reads
// holds up the others of its transport.
//
// PublishBatch writes every message in order, then waits for all their
// acknowledgements, so up to the server's Receive Maximum (Mosquitto: 20)
// are in flight at once; its *transport.BatchError says what became of
// each message. While a batch is in flight the driver sends the server a
// two-byte PINGREQ every millisecond: a server with Nagle's algorithm on
// (Mosquitto's default, set_tcp_nodelay false) otherwise holds the last
// PUBACKs of a burst until the client's delayed TCP ACK, 40 ms on Linux.
//
// # Channels and topics
//
// A channel name is the MQTT topic as written: "codeworm:logs" is a valid
// topic of one level, so the same names work on Redis, NATS and MQTT.
// MQTT separates levels with '/', which is what patterns work on. Besides
// transport.ValidateChannel's rules (not empty, at most 255 bytes, UTF-8,
// no control characters such as NUL), a channel may not hold the
// wildcards '+' or '#' nor start with '$' (server topics such as $SYS):
// those give transport.ErrInvalidChannel before anything is sent.
//
// [Transport.SubscribePattern] takes MQTT topic filters: '+' is exactly
// one level ("codeworm/+/logs"), '#' as the last level is any number of
// levels including none ("codeworm/#" also matches "codeworm"), wildcards
// at the first level skip topics starting with '$', and
// "$share/GROUP/FILTER" is a shared subscription. Since ':' is not a
// separator, "codeworm:+" matches nothing; use "+" or "#". Messages carry
// the topic they were published on. A subscription whose own filters
// overlap gets one copy per matching filter, as the server sends them.
//
// # Headers
//
// Message.Header travels as MQTT 5 user properties (keys and values UTF-8
// without NUL), and received user properties become Message.Header.
//
// # Sessions
//
// By default each transport has a random client id and a clean session.
// With clean=false and a client_id (or [WithPersistentSession]) the server
// keeps the session for session_expiry (default 1 h) after the link drops:
// its subscriptions, and the QoS 1 and 2 messages that match them, which
// it delivers when the same client id connects again. Messages that
// arrive before the program has subscribed again are held (up to
// SubscriptionBuffer) for the first subscription that matches. That is
// not Capabilities.Persistent, which promises that a new subscriber reads
// what was published before it subscribed: MQTT keeps nothing for a
// subscription that did not exist (apart from one retained message per
// topic, see [WithRetain]), so Persistent is false.
//
// # Outages
//
// Open does not fail because the server is down: it makes one attempt,
// then connects in the background, reconnecting forever with a backoff
// that doubles from 50 ms to 500 ms, with jitter. While the connection is
// down, Publish, PublishBatch, Subscribe and Ping fail at once with
// transport.ErrUnavailable. A publish waiting for its acknowledgement when
// the link drops fails with ErrUnavailable as soon as the driver sees the
// loss (in a kept session, a single Publish waits for the acknowledgement
// of paho's resend after the reconnect, up to PublishTimeout). A link that stalls with the connection open is found by the MQTT
// keep-alive (default 3 s: dropped within about 6 s), after which calls
// fail fast again. Subscriptions are renewed on every reconnect, before
// publishing resumes; messages sent while the link was down are lost to
// them unless the session is kept.
//
// # Errors
//
// A CONNACK refusing the credentials ("bad user name or password", "not
// authorized", "banned", "bad authentication method") and a TLS
// certificate the client or server rejects give transport.ErrAuth, never
// transport.ErrUnavailable, and Open returns it. A PUBACK or SUBACK
// refusing for lack of authorization also gives ErrAuth; "topic name
// invalid" gives ErrInvalidChannel and "packet too large"
// ErrPayloadTooLarge. A payload that would make a packet over the
// server's Maximum Packet Size (from its CONNACK; else MQTT's 256 MiB)
// gives ErrPayloadTooLarge before anything is sent. Error texts start with
// "eventpub/mqtt:" inside the sentinel's, and never hold a password;
// Config and Transport print without it under %v and %#v.
//
// WebSocket URLs (ws://, wss://) are not offered: the paho client speaks
// MQTT over a net.Conn, and the WebSocket layer would be a second
// dependency of this package.
package mqtt
