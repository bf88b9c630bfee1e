//go:build unix

package redistest

import (
	"fmt"
	"syscall"
)

// holdPort binds a TCP socket to a free port of 127.0.0.1 with
// SO_REUSEADDR, never listens on it, and returns the port and a function
// that releases it. While it is held no other listener is given the port
// (the kernel hands out a port no socket is bound to), but redis-server,
// which binds with SO_REUSEADDR too, can listen on it. So the port is the
// server's from the moment it is picked until Close, across Stop and
// Restart: a stopped server's address refuses, instead of reaching
// whatever listener was given its port meanwhile.
func holdPort() (int, func(), error) {
	syscall.ForkLock.RLock() // not inherited by a redis-server started meanwhile
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err == nil {
		syscall.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return 0, nil, fmt.Errorf("redistest: hold a port: socket: %w", err)
	}
	release := func() { _ = syscall.Close(fd) }
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
		release()
		return 0, nil, fmt.Errorf("redistest: hold a port: SO_REUSEADDR: %w", err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		release()
		return 0, nil, fmt.Errorf("redistest: hold a port: bind: %w", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		release()
		return 0, nil, fmt.Errorf("redistest: hold a port: getsockname: %w", err)
	}
	in, ok := sa.(*syscall.SockaddrInet4)
	if !ok || in.Port == 0 {
		release()
		return 0, nil, fmt.Errorf("redistest: hold a port: bound to %v", sa)
	}
	return in.Port, release, nil
}
