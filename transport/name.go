package transport

// Namer is implemented by a transport that can say which messaging system
// it speaks to, as OpenTelemetry's messaging.system names it: "redis",
// "nats", "rabbitmq", "mqtt", "kafka", "memory". Observers report it with
// every outcome.
type Namer interface {
	Name() string
}

// SystemName returns t's Name when it implements Namer, else "".
func SystemName(t Transport) string {
	if n, ok := t.(Namer); ok {
		return n.Name()
	}
	return ""
}
