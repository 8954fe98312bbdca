// A DTLS 1.2 PSK peer for dicetest over pion/dtls v2 (Debian golang-github-pion-dtls.v2-dev).
//
//	pion-peer server --port P --pskfile FILE [--hint TEXT]
//	pion-peer client --connect HOST:PORT --pskfile FILE --send TEXT
//
// FILE holds one line "identity:hexkey" (dicetest's {pskfile}), so the key never shows in a
// process listing.
//
// The server binds 127.0.0.1:P with pion/udp (one net.Conn per remote address and port,
// RFC 6347 §4.2.8), and runs each association's handshake (dtls.Server) and echo loop in
// its own goroutine, so associations are served concurrently, handshakes included
// (dtls.Listen would run every handshake inside Accept, one after another). Every
// application record is echoed back; close_notify is answered with close_notify; the
// server runs until killed. Everything else is pion's default: HelloVerifyRequest always,
// flights retransmitted every second (FlightInterval), a handshake given up after 30 s
// (the default ConnectContextMaker), extended master secret requested. --hint sets the
// PSK identity hint, as pion's own PSK listen example does; without it none is sent.
//
// The client connects, completes the handshake, sends TEXT, prints what comes back and
// closes with close_notify.
//
// stdout carries the lines a caller may parse: "READY <port>", "HANDSHAKE OK",
// "RECV <text>", "FAIL <why>". Diagnostics go to stderr.
package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/pion/dtls/v2"
	"github.com/pion/udp/v2"
)

// The suites dicetest knows, RFC 7925's mandatory one first.
var suites = []dtls.CipherSuiteID{
	dtls.TLS_PSK_WITH_AES_128_CCM_8,
	dtls.TLS_PSK_WITH_AES_128_CCM,
	dtls.TLS_PSK_WITH_AES_128_CBC_SHA256,
}

func fail(format string, args ...interface{}) {
	msg := fmt.Sprintf(format, args...)
	fmt.Printf("FAIL %s\n", msg)
	fmt.Fprintf(os.Stderr, "ERROR %s\n", msg)
	os.Exit(1)
}

// loadPSK reads "identity:hexkey" from the first line of the file.
func loadPSK(path string) (identity string, key []byte) {
	f, err := os.Open(path)
	if err != nil {
		fail("cannot open the PSK file")
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && err != io.EOF {
		fail("cannot read the PSK file")
	}
	line = strings.TrimRight(line, "\r\n")
	i := strings.LastIndexByte(line, ':')
	if i < 0 {
		fail("PSK file: want identity:hexkey")
	}
	key, err = hex.DecodeString(line[i+1:])
	if err != nil || len(key) == 0 {
		fail("PSK file: key is not hex")
	}
	return line[:i], key
}

// isHandshakeRecord: a new association starts only with a datagram whose first record is
// a handshake record (content type 22, RFC 6347 §4.1); anything else from an unknown
// address is dropped before it reaches pion.
func isHandshakeRecord(datagram []byte) bool {
	const recordHeader = 13
	return len(datagram) >= recordHeader && datagram[0] == 22
}

func server(port int, identity string, key []byte, hint string) {
	cfg := &dtls.Config{
		CipherSuites: suites,
		PSK: func(got []byte) ([]byte, error) {
			if !bytes.Equal(got, []byte(identity)) {
				fmt.Fprintf(os.Stderr, "unknown PSK identity\n")
				return nil, errors.New("unknown PSK identity")
			}
			return key, nil
		},
	}
	if hint != "" {
		cfg.PSKIdentityHint = []byte(hint)
	}
	lc := udp.ListenConfig{AcceptFilter: isHandshakeRecord}
	ln, err := lc.Listen("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: port})
	if err != nil {
		fail("cannot bind the port: %v", err)
	}
	fmt.Printf("READY %d\n", port)
	for {
		c, err := ln.Accept()
		if err != nil {
			fail("accept: %v", err)
		}
		go serve(c, cfg)
	}
}

func serve(c net.Conn, cfg *dtls.Config) {
	peer := c.RemoteAddr().String()
	dc, err := dtls.Server(c, cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "SESSION END %s: handshake failed: %v\n", peer, err)
		c.Close()
		return
	}
	fmt.Fprintf(os.Stderr, "HANDSHAKE OK %s\n", peer)
	buf := make([]byte, 16384+1024)
	for {
		n, err := dc.Read(buf)
		if err != nil {
			// pion keeps the association after a record it could not use (a temporary
			// error) and after a warning alert other than close_notify, and hands both to
			// Read only as news: the application is to go on reading.
			var temporary interface{ Temporary() bool }
			var alert interface{ IsFatalOrCloseNotify() bool }
			if (errors.As(err, &temporary) && temporary.Temporary()) ||
				(errors.As(err, &alert) && !alert.IsFatalOrCloseNotify()) {
				fmt.Fprintf(os.Stderr, "SESSION %s: %v (association kept)\n", peer, err)
				continue
			}
			why := err.Error()
			if errors.Is(err, io.EOF) {
				why = "closed (close_notify, a fatal alert or the transport)"
			}
			fmt.Fprintf(os.Stderr, "SESSION END %s: %s\n", peer, why)
			dc.Close()
			return
		}
		if _, err := dc.Write(buf[:n]); err != nil {
			fmt.Fprintf(os.Stderr, "SESSION END %s: write failed: %v\n", peer, err)
			dc.Close()
			return
		}
	}
}

func client(hostport, identity string, key []byte, text string) int {
	raddr, err := net.ResolveUDPAddr("udp", hostport)
	if err != nil {
		fail("--connect: %v", err)
	}
	cfg := &dtls.Config{
		CipherSuites: suites,
		// On a client, pion sends PSKIdentityHint as the PSK identity.
		PSKIdentityHint: []byte(identity),
		PSK: func(hint []byte) ([]byte, error) {
			if len(hint) > 0 {
				fmt.Fprintf(os.Stderr, "server identity hint: %s\n", hint)
			}
			return key, nil
		},
	}
	dc, err := dtls.Dial("udp", raddr, cfg)
	if err != nil {
		fmt.Printf("FAIL handshake: %v\n", err)
		return 1
	}
	defer dc.Close()
	// pion 2.2 does not tell which suite was chosen.
	fmt.Println("HANDSHAKE OK")
	if _, err := dc.Write([]byte(text)); err != nil {
		fmt.Printf("FAIL application data: %v\n", err)
		return 1
	}
	_ = dc.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 16384+1024)
	n, err := dc.Read(buf)
	if err != nil {
		fmt.Printf("FAIL no reply within 10000 ms: %v\n", err)
		return 1
	}
	fmt.Printf("RECV %s\n", buf[:n])
	return 0
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: pion-peer server|client [options]")
		os.Exit(2)
	}
	mode := os.Args[1]
	fs := flag.NewFlagSet(mode, flag.ExitOnError)
	port := fs.Int("port", 0, "server: UDP port on 127.0.0.1")
	pskfile := fs.String("pskfile", "", "file with identity:hexkey")
	connect := fs.String("connect", "", "client: HOST:PORT")
	send := fs.String("send", "hello", "client: text to send")
	hint := fs.String("hint", "", "server: PSK identity hint to send")
	_ = fs.Parse(os.Args[2:])
	if *pskfile == "" {
		fmt.Fprintln(os.Stderr, "usage error: --pskfile is required")
		os.Exit(2)
	}
	identity, key := loadPSK(*pskfile)
	switch mode {
	case "server":
		if *port <= 0 || *port > 65535 {
			fmt.Fprintln(os.Stderr, "usage error: --port is required")
			os.Exit(2)
		}
		server(*port, identity, key, *hint)
	case "client":
		if *connect == "" {
			fmt.Fprintln(os.Stderr, "usage error: --connect is required")
			os.Exit(2)
		}
		os.Exit(client(*connect, identity, key, *send))
	default:
		fmt.Fprintln(os.Stderr, "usage error: mode is server or client")
		os.Exit(2)
	}
}
