package faultproxy_test

import (
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/eventpub/eventpub/internal/faultproxy"
)

// Cut ends the proxied link and refuses new connections; Pass heals it.
func Example() {
	// An echo server stands in for the broker.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Println(err)
		return
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				io.Copy(c, c)
				c.Close()
			}()
		}
	}()
	defer wg.Wait()
	defer ln.Close()

	p, err := faultproxy.New(ln.Addr().String())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer p.Close()

	echo := func(c net.Conn, msg string) {
		io.WriteString(c, msg)
		buf := make([]byte, len(msg))
		if _, err := io.ReadFull(c, buf); err != nil {
			fmt.Println("read:", err)
			return
		}
		fmt.Println("echo:", string(buf))
	}
	readEnd := func(c net.Conn) error {
		_, err := c.Read(make([]byte, 1))
		return err
	}

	c, _ := net.Dial("tcp", p.Addr())
	defer c.Close()
	echo(c, "hello")

	p.Cut()
	fmt.Println("cut link:", readEnd(c))
	refused, _ := net.Dial("tcp", p.Addr())
	defer refused.Close()
	fmt.Println("new link while cut:", readEnd(refused))

	p.Pass()
	c2, _ := net.Dial("tcp", p.Addr())
	defer c2.Close()
	echo(c2, "healed")
	fmt.Println("open links:", p.Conns())
	// Output:
	// echo: hello
	// cut link: EOF
	// new link while cut: EOF
	// echo: healed
	// open links: 1
}
