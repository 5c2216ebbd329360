package kafka

// Up reports whether the last check found a broker answering (tests).
func (t *Transport) Up() bool { return !t.closed.Load() && t.isUp() }
