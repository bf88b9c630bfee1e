//go:build unix

package refusing

import (
	"syscall"
	"testing"
)

// port binds a TCP socket on 127.0.0.1 and never listens on it: the port
// is held, so no listener can take it, and a connection to it is answered
// with a reset (ECONNREFUSED).
func port(tb testing.TB) int {
	tb.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		tb.Fatalf("refusing: socket: %v", err)
	}
	tb.Cleanup(func() { _ = syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		tb.Fatalf("refusing: bind: %v", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		tb.Fatalf("refusing: getsockname: %v", err)
	}
	in, ok := sa.(*syscall.SockaddrInet4)
	if !ok || in.Port == 0 {
		tb.Fatalf("refusing: bound to %v", sa)
	}
	return in.Port
}
