package redis_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache/redis"
	"github.com/tokenwire/tokenwire/internal/redistest"
	"github.com/tokenwire/tokenwire/oauthclient"
)

// TestSentinelFailover runs a fleet through Sentinels (master_name), kills
// the master with SIGKILL mid-run and proves the fleet promise across the
// failover (proveFailover).
func TestSentinelFailover(t *testing.T) {
	set := redistest.StartSentinels(t)
	clk := newFakeClock()
	as := clockedAuthServer(t, clk)
	cfg := redis.Config{MasterName: redistest.MasterName, Addrs: set.Addrs(), Prefix: redis.UniquePrefix(t),
		EncryptionKeys: []oauthclient.Secret{oauthclient.NewSecret(testKeyB64)}, OpTimeout: topologyOpTimeout}
	sources, stores := storeFleet(t, as, clk, topologyReplicas, func(tb testing.TB) *redis.Store { return openConfig(tb, cfg, clk) })

	require.Len(t, tokensConcurrently(t, sources), 1)
	require.Equal(t, 1, as.Requests(fleetClientID), "cold start: one request through the Sentinels' master")
	require.Len(t, renewAll(t, clk, sources, clk.Now()), 1)
	require.Equal(t, 2, as.Requests(fleetClientID), "one renewal for the fleet")

	ctx := context.Background()
	old, err := set.MasterAddr(ctx)
	require.NoError(t, err)
	require.Equal(t, set.Master.Addr(), old)
	rep := proveFailover(t, as, clk, sources, stores, set.Master.Stop, func(ctx context.Context) error {
		addr, err := set.WaitFailover(ctx, old)
		if err == nil {
			assert.Equal(t, set.Replica.Addr(), addr, "the replica was promoted")
		}
		return err
	})
	t.Logf("Sentinel, master killed: token requests per lifetime during the failover %v, after it %v (fleet of %d)",
		rep.during, rep.after, len(sources))
}
