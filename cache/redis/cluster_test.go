package redis

import (
	"context"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/internal/redistest"
)

// TestCluster runs the store against a one-node Redis Cluster: Cluster
// mode refuses commands whose keys span slots (CROSSSLOT) even on one node,
// and the client goes through the Cluster code path.
func TestCluster(t *testing.T) {
	srv := redistest.Start(t, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")
	ctx := context.Background()
	node := newClient(t, srv.Addr())
	require.NoError(t, node.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", "0", "16383").Err())
	require.Eventually(t, func() bool {
		info, err := node.ClusterInfo(ctx).Result()
		return err == nil && strings.Contains(info, "cluster_state:ok")
	}, 10*time.Second, 10*time.Millisecond)

	client := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: []string{srv.Addr()}, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = client.Close() })
	s := newStore(t, client, Options{Keys: [][]byte{aesKey(1)}})

	require.NoError(t, s.Set(ctx, "k", cache.Entry{Value: []byte("v"), Expiry: time.Now().Add(time.Hour)}))
	got, err := s.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, "v", string(got.Value))

	unlock, ok, err := s.TryLock(ctx, "k", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	_, ok, err = s.TryLock(ctx, "k", time.Minute)
	require.NoError(t, err)
	require.False(t, ok)
	require.NoError(t, unlock(ctx))
	_, ok, err = s.TryLock(ctx, "k", time.Minute)
	require.NoError(t, err)
	require.True(t, ok, "compare-and-delete ran in Cluster mode")

	require.NoError(t, s.Delete(ctx, "k"))
	_, err = s.Get(ctx, "k")
	require.ErrorIs(t, err, cache.ErrNotFound)
	assert.True(t, s.Status().Healthy)
}
