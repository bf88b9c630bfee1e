package redistest_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/internal/redistest"
)

func TestStopRestartKeepsAddr(t *testing.T) {
	srv := redistest.Start(t)
	addr := srv.Addr()
	require.NoError(t, redistest.Ping(addr))

	require.NoError(t, srv.Stop())
	require.Error(t, redistest.Ping(addr), "stopped server still answers")
	require.NoError(t, srv.Stop(), "second Stop")

	require.NoError(t, srv.Restart())
	require.Equal(t, addr, srv.Addr())
	require.NoError(t, redistest.Ping(addr))
}

func Example() {
	srv, err := redistest.New()
	if err != nil {
		return // redis-server not installed
	}
	defer srv.Close()
	_ = srv.Addr() // "127.0.0.1:port": give it to a Redis client
}
