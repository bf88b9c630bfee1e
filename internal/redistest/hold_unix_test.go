//go:build unix

package redistest_test

import (
	"net"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/internal/redistest"
)

// A stopped server's port is held until Restart: while many listeners
// start, none is given it (the kernel hands a freed port out again within
// a few thousand), the address refuses, and the server comes back on it.
func TestStoppedServerKeepsItsPort(t *testing.T) {
	srv := redistest.Start(t)
	addr := srv.Addr()
	require.NoError(t, srv.Stop())
	for range 20000 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		got := l.Addr().String()
		require.NoError(t, l.Close())
		require.NotEqual(t, addr, got, "a listener was given the stopped server's port")
	}
	_, err := net.Dial("tcp", addr)
	require.ErrorIs(t, err, syscall.ECONNREFUSED)
	require.NoError(t, srv.Restart())
	require.NoError(t, redistest.Ping(addr))
}
