//go:build !unix

package refusing

import (
	"net"
	"testing"
)

// port closes a listener and returns its port: where a socket cannot be
// bound without listening, this is the best there is, and the port may be
// taken again.
func port(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("refusing: %v", err)
	}
	p := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	return p
}
