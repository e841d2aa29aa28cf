// Command floorserver is the floor that bench/identify measures roster
// against: an HTTP server that reads each request and answers it at once
// with a fixed JSON body, doing nothing else. Under the same load and the
// same syncs, its latency is what the machine, the network stack and wrk
// cost any Go server; what roster's figures add to it is roster's.
//
//	floorserver -listen 127.0.0.1:PORT -size BYTES
package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "the loopback address to listen on")
	size := flag.Int("size", 400, "the size of the answer in bytes, as roster's")
	flag.Parse()
	if host, _, err := net.SplitHostPort(*listen); err != nil || !net.ParseIP(host).IsLoopback() {
		fmt.Fprintln(os.Stderr, "floorserver: -listen must be a loopback address and port, such as 127.0.0.1:8081")
		os.Exit(2)
	}
	if *size < 16 || *size > 1<<20 {
		fmt.Fprintln(os.Stderr, "floorserver: -size must be between 16 and 1048576")
		os.Exit(2)
	}
	// A JSON object of the given size: {"pad":"xxx...x"}.
	body := append([]byte(`{"pad":"`), bytes.Repeat([]byte("x"), *size-11)...)
	body = append(body, "\"}\n"...)
	length := strconv.Itoa(len(body))
	srv := &http.Server{
		Addr:              *listen,
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, io.LimitReader(r.Body, 1<<16))
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", length)
			w.Write(body)
		}),
	}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "floorserver:", err)
		os.Exit(1)
	}
}
