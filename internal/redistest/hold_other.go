//go:build !unix

package redistest

import (
	"fmt"
	"net"
)

// holdPort returns a free port without holding it: where a socket cannot
// be bound without listening, the port is free again at once and may be
// given to another listener.
func holdPort() (int, func(), error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, nil, fmt.Errorf("redistest: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, func() {}, nil
}
