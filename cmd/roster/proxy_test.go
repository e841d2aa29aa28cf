package main

import (
	"io"
	"net"
	"testing"
	"time"
)

// loopbackProxy forwards connections on 127.0.0.1 to target, to play a
// misbehaving directory: it cuts each connection after limit bytes from
// the server (0: never), and pauses after each 4 kB it passes on (a slow
// directory). It accepts at most 20 connections, and closes with the test.
func loopbackProxy(t *testing.T, target string, limit int64, pause time.Duration) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for i := 0; i < 20; i++ {
			client, err := l.Accept()
			if err != nil {
				return
			}
			server, err := net.DialTimeout("tcp", target, 5*time.Second)
			if err != nil {
				client.Close()
				continue
			}
			go func() { io.Copy(server, client); server.Close() }()
			go func() {
				defer client.Close()
				defer server.Close()
				buf := make([]byte, 4096)
				var sent int64
				for j := 0; j < 1_000_000; j++ { // bounded, like every loop here
					n, err := server.Read(buf)
					if n > 0 {
						if _, werr := client.Write(buf[:n]); werr != nil {
							return
						}
						if sent += int64(n); limit > 0 && sent > limit {
							return
						}
						time.Sleep(pause)
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return l.Addr().String()
}
