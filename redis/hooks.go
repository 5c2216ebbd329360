package redis

import (
	"context"
	"reflect"
	"sync"
	"sync/atomic"

	"github.com/eventpub/eventpub/transport"
	goredis "github.com/redis/go-redis/v9"
)

// go-redis hooks on the driver's own publish path. Publishes that stream
// on the driver's connections (connpipe.go) do not go through go-redis, so
// hooks added with Client.AddHook (redisotel, redisprometheus, …) would
// not see them. go-redis offers no way to read a client's hooks or to put
// one's own I/O at the end of their chain, so the driver adds a hook of
// its own, a tap, as the innermost one. A PUBLISH then goes through
// client.Process with a context that names the tap: every hook outside it
// runs as for any command, and the tap, instead of letting go-redis send
// the command, publishes it on the driver's connections (coalesced with
// concurrent ones as usual) and returns its result. Each hook sees one
// PUBLISH (or SPUBLISH) command per message, with its error; the integer
// reply (the receiver count) is not filled in.
//
// A tap is innermost only until someone adds another hook. Every AddHook
// rebuilds the chain, which calls each hook's ProcessHook again with the
// part of the chain inside it: the first time (its own AddHook) that is
// go-redis's final step, and a tap remembers that function's code
// pointer. When it is later handed anything else, a hook has come inside
// it, and the driver adds a fresh tap at the end before the next publish
// (the older taps pass everything on). go-redis also rebuilds the chain
// for a Conn, a Tx or a WithTimeout clone, with the same final step, so
// those change nothing. A hook added while a publish is under way may miss
// that publish.
//
// While no hook has been added to a client Open made, Publish skips all
// this. A client given to New may have hooks already, which go-redis does
// not show, so its publishes always go through the chain.

// tapKey is the context key of a publish the tap serves.
type tapKey struct{}

// tapReq is a publish on its way through the hook chain.
type tapReq struct {
	tap *hookTap
	msg *transport.Message
}

// hookTap is the driver's innermost go-redis hook.
type hookTap struct {
	t     *Transport
	final atomic.Uintptr // code pointer of go-redis's final step
	inner atomic.Bool    // the chain last built put nothing inside it
}

func (h *hookTap) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h *hookTap) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}

func (h *hookTap) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	p := reflect.ValueOf(next).Pointer()
	h.final.CompareAndSwap(0, p)
	h.inner.Store(p == h.final.Load())
	return func(ctx context.Context, cmd goredis.Cmder) error {
		if r, ok := ctx.Value(tapKey{}).(*tapReq); ok && r.tap == h {
			return h.t.cp.doVia(ctx, r.msg, next, cmd)
		}
		return next(ctx, cmd)
	}
}

// taps holds the transport's current tap.
type taps struct {
	mu     sync.Mutex
	cur    atomic.Pointer[hookTap]
	hooked atomic.Bool // some hook may be on the client: go through the chain
}

var _ goredis.Hook = (*hookTap)(nil)

// addTap puts a fresh tap at the end of the client's hooks.
func (t *Transport) addTap() *hookTap {
	h := &hookTap{t: t}
	t.client.AddHook(h)
	t.taps.cur.Store(h)
	return h
}

// publishStandalone publishes msg on the driver's connections, through
// the client's hooks when it may have any.
func (t *Transport) publishStandalone(ctx context.Context, msg *transport.Message) error {
	h := t.innerTap()
	if !t.taps.hooked.Load() {
		return t.cp.do(ctx, msg)
	}
	cmd := t.publishCmd(ctx, msg)
	return t.client.Process(context.WithValue(ctx, tapKey{}, &tapReq{tap: h, msg: msg}), cmd)
}

// innerTap returns the current tap, after adding a fresh one when a hook
// has come inside it (which marks the client hooked).
func (t *Transport) innerTap() *hookTap {
	h := t.taps.cur.Load()
	if !h.inner.Load() {
		t.taps.mu.Lock()
		if h = t.taps.cur.Load(); !h.inner.Load() {
			t.taps.hooked.Store(true)
			h = t.addTap()
		}
		t.taps.mu.Unlock()
	}
	return h
}

// mayBeHooked reports whether the client may have hooks of its own: then
// a batch goes through a go-redis pipeline, which they see, instead of
// streaming on the publish connections.
func (t *Transport) mayBeHooked() bool {
	t.innerTap()
	return t.taps.hooked.Load()
}
