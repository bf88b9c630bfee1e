package redistest_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
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

func TestPauseResume(t *testing.T) {
	srv := redistest.Start(t)
	require.NoError(t, srv.Pause())
	require.Error(t, redistest.Ping(srv.Addr()), "a paused server answers nothing")
	require.NoError(t, srv.Resume())
	require.NoError(t, redistest.Ping(srv.Addr()))
	require.NoError(t, srv.Pause())
	require.NoError(t, srv.Stop(), "a paused server can be killed")
}

func TestTLS(t *testing.T) {
	ca := redistest.NewCA(t)
	srv := redistest.StartTLS(t, ca)
	conn, err := tls.Dial("tcp", srv.TLSAddr(), &tls.Config{RootCAs: ca.Pool, MinVersion: tls.VersionTLS12})
	require.NoError(t, err, "the server's certificate verifies against the CA, for 127.0.0.1")
	_, err = conn.Write([]byte("PING\r\n"))
	require.NoError(t, err)
	line, err := bufio.NewReader(conn).ReadString('\n')
	require.NoError(t, err)
	assert.Equal(t, "+PONG\r\n", line)
	require.NoError(t, conn.Close())

	other := redistest.NewCA(t)
	_, err = tls.Dial("tcp", srv.TLSAddr(), &tls.Config{RootCAs: other.Pool, MinVersion: tls.VersionTLS12})
	var unknown x509.UnknownAuthorityError
	require.ErrorAs(t, err, &unknown, "another CA does not vouch for it")
}

func TestSentinels(t *testing.T) {
	t.Parallel() // waits for the Sentinels' timers, not the CPU
	set := redistest.StartSentinels(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // a failsafe: the failover takes what the Sentinels' timers and the machine make of it
	defer cancel()
	addr, err := set.MasterAddr(ctx)
	require.NoError(t, err)
	assert.Equal(t, set.Master.Addr(), addr)
	require.NoError(t, set.Master.Stop())
	addr, err = set.WaitFailover(ctx, addr)
	require.NoError(t, err)
	assert.Equal(t, set.Replica.Addr(), addr, "the replica was promoted")
}

func TestCluster(t *testing.T) {
	t.Parallel()
	c := redistest.StartCluster(t, 3, 1)
	require.Len(t, c.Nodes, 6)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	master, err := redistest.MasterOf(ctx, c.Nodes[0].Addr(), 0)
	require.NoError(t, err)
	require.NotNil(t, c.Node(master))
	require.NoError(t, c.Node(master).Stop())
	require.NoError(t, c.Settle(ctx), "a replica took over")
	var alive string
	for _, n := range c.Nodes {
		if n.Addr() != master {
			alive = n.Addr()
			break
		}
	}
	now, err := redistest.MasterOf(ctx, alive, 0)
	require.NoError(t, err)
	assert.NotEqual(t, master, now)
}
