// Package kafkatest starts in-process Kafka clusters for eventpub's tests:
// franz-go's kfake, with one fault proxy (internal/faultproxy) in front of
// each broker.
//
// kfake advertises the address of each broker's listener in its metadata,
// and a Kafka client connects to the brokers that metadata names, not only
// to the seed it was given. So a proxy in front of the seed alone would
// carry only the first request. kafkatest gives kfake a listen function
// (kfake.ListenFn) whose listeners report the proxy's address as their own:
// the cluster then advertises the proxies, and every connection of every
// client goes through them. Cut, Refuse, Stall and Pass act on all of them.
//
// With Restartable, the cluster keeps its state in a directory
// (kfake.DataDir) and listens on fixed ports (kfake.Ports), so Stop and
// Start shut it down and bring the same cluster back (topics, records and
// group offsets), behind the same proxies.
package kafkatest

import (
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/eventpub/eventpub/internal/faultproxy"
	"github.com/twmb/franz-go/pkg/kfake"
)

// Options shape a Cluster.
type Options struct {
	// Brokers is how many brokers to start; 0 means 1.
	Brokers int
	// Restartable keeps the cluster's state on disk so Stop and Start
	// restart it; without it Stop and Start cut and restore the links.
	Restartable bool
	// Kfake are more kfake options (SASL users, seed topics…).
	Kfake []kfake.Opt
}

// Cluster is a kfake cluster behind one fault proxy per broker. Its
// methods are safe for concurrent use.
type Cluster struct {
	t       testing.TB
	opts    Options
	dir     string
	proxies []*faultproxy.Proxy

	mu      sync.Mutex
	c       *kfake.Cluster // nil while stopped
	ports   []int          // the real listeners' ports, fixed after the first start
	listens int            // listeners made by the current start
}

// Start starts a cluster that is closed when the test ends.
func Start(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if opts.Brokers < 1 {
		opts.Brokers = 1
	}
	k := &Cluster{t: t, opts: opts}
	if opts.Restartable {
		k.dir = t.TempDir()
	}
	t.Cleanup(func() {
		k.mu.Lock()
		c := k.c
		k.c = nil
		k.mu.Unlock()
		if c != nil {
			c.Close()
		}
		for _, p := range k.proxies {
			_ = p.Close()
		}
	})
	k.start()
	return k
}

func (k *Cluster) start() {
	k.t.Helper()
	k.mu.Lock()
	k.listens = 0
	ports := append([]int(nil), k.ports...)
	k.mu.Unlock()
	opts := append([]kfake.Opt{kfake.NumBrokers(k.opts.Brokers), kfake.ListenFn(k.listen)}, k.opts.Kfake...)
	if k.dir != "" {
		opts = append(opts, kfake.DataDir(k.dir))
	}
	if len(ports) > 0 {
		opts = append(opts, kfake.Ports(ports...))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		k.t.Fatalf("kafkatest: start kfake: %v", err)
	}
	k.mu.Lock()
	k.c = c
	k.mu.Unlock()
}

// listen opens broker i's real listener and returns it reporting the
// address of proxy i (made on first use), which kfake then advertises.
func (k *Cluster) listen(network, address string) (net.Listener, error) {
	ln, err := net.Listen(network, address)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	i := k.listens
	k.listens++
	if i == len(k.proxies) {
		p, err := faultproxy.New(ln.Addr().String())
		if err != nil {
			ln.Close()
			return nil, err
		}
		k.proxies = append(k.proxies, p)
		k.ports = append(k.ports, ln.Addr().(*net.TCPAddr).Port)
	}
	addr, err := net.ResolveTCPAddr("tcp", k.proxies[i].Addr())
	if err != nil {
		ln.Close()
		return nil, err
	}
	return advertised{Listener: ln, addr: addr}, nil
}

// advertised is a listener that reports another address as its own.
type advertised struct {
	net.Listener
	addr net.Addr
}

func (a advertised) Addr() net.Addr { return a.addr }

// Addrs returns the brokers' addresses as clients see them (the proxies).
func (k *Cluster) Addrs() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := make([]string, len(k.proxies))
	for i, p := range k.proxies {
		out[i] = p.Addr()
	}
	return out
}

// URL returns kafka://broker1,broker2,… for the cluster.
func (k *Cluster) URL() string { return "kafka://" + strings.Join(k.Addrs(), ",") }

// Kfake returns the running kfake cluster, for its control functions
// (MoveTopicPartition, RemoveNode…); nil while stopped.
func (k *Cluster) Kfake() *kfake.Cluster {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.c
}

// Proxy returns the fault proxy in front of broker i.
func (k *Cluster) Proxy(i int) *faultproxy.Proxy {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.proxies[i]
}

func (k *Cluster) each(f func(*faultproxy.Proxy)) {
	k.mu.Lock()
	ps := append([]*faultproxy.Proxy(nil), k.proxies...)
	k.mu.Unlock()
	for _, p := range ps {
		f(p)
	}
}

// Cut ends every connection to every broker and refuses new ones until Pass.
func (k *Cluster) Cut() { k.each((*faultproxy.Proxy).Cut) }

// Refuse refuses new connections to every broker; open ones keep flowing.
func (k *Cluster) Refuse() { k.each((*faultproxy.Proxy).Refuse) }

// Stall holds every byte to and from every broker until Pass.
func (k *Cluster) Stall() { k.each((*faultproxy.Proxy).Stall) }

// Pass restores every link.
func (k *Cluster) Pass() { k.each((*faultproxy.Proxy).Pass) }

// Stop takes the cluster down: a Restartable one shuts down (its
// listeners close; the proxies refuse), another has its links cut.
func (k *Cluster) Stop() {
	k.each((*faultproxy.Proxy).Cut)
	if k.dir == "" {
		return
	}
	k.mu.Lock()
	c := k.c
	k.c = nil
	k.mu.Unlock()
	if c != nil {
		c.Close()
	}
}

// Start brings the cluster back after Stop: a Restartable one restarts
// from its data directory on the same ports.
func (k *Cluster) Start() {
	k.mu.Lock()
	stopped := k.c == nil
	k.mu.Unlock()
	if stopped {
		k.start()
	}
	k.each((*faultproxy.Proxy).Pass)
}
