package redis_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache/redis"
	"github.com/tokenwire/tokenwire/internal/redistest"
	"github.com/tokenwire/tokenwire/oauthclient"
)

// redirectHook counts the MOVED and ASK replies a Cluster client's nodes
// got: redirections that the client follows without its caller knowing.
type redirectHook struct{ moved, ask atomic.Int64 }

func (h *redirectHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }
func (h *redirectHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}
func (h *redirectHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		err := next(ctx, cmd)
		if _, ok := goredis.IsMovedError(err); ok {
			h.moved.Add(1)
		}
		if _, ok := goredis.IsAskError(err); ok {
			h.ask.Add(1)
		}
		return err
	}
}

// TestClusterFleet runs a fleet on a Cluster of three masters with a
// replica each: a definition's value and lock share one slot; a slot
// migrated while the fleet renews (ASK, then MOVED) costs the callers
// nothing; a master killed (SIGKILL) is failed over with the fleet
// promise kept (proveFailover).
func TestClusterFleet(t *testing.T) {
	cluster := redistest.StartCluster(t, 3, 1)
	ctx := context.Background()
	admin := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: cluster.Addrs(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = admin.Close() })
	clk := newFakeClock()
	as := clockedAuthServer(t, clk)
	prefix := redis.UniquePrefix(t)
	hook := &redirectHook{}
	sources, stores := storeFleet(t, as, clk, topologyReplicas, func(tb testing.TB) *redis.Store {
		client := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: cluster.Addrs(), ContextTimeoutEnabled: true})
		client.OnNewNode(func(node *goredis.Client) { node.AddHook(hook) })
		tb.Cleanup(func() { _ = client.Close() })
		s, err := redis.New(client, redis.Options{Prefix: prefix, Keys: [][]byte{testKey(1)}, OpTimeout: topologyOpTimeout, Now: clk.Now})
		require.NoError(tb, err)
		return s
	})
	key := oauthclient.CacheKey(crmConfig(as))
	valueKey, lockKey := stores[0].ValueKey(key), stores[0].LockKey(key)
	slot := keySlot(t, admin, valueKey)

	t.Run("one slot per definition", func(t *testing.T) {
		assert.Equal(t, slot, keySlot(t, admin, lockKey), "the lock shares the value's slot")
		for _, p := range []string{"tokenwire:", "svc-a:", "{prod}:", "a{b:"} { // braces in a prefix: still one slot
			s, err := redis.New(admin, redis.Options{Prefix: p, Plaintext: true})
			require.NoError(t, err)
			assert.Equal(t, keySlot(t, admin, s.ValueKey(key)), keySlot(t, admin, s.LockKey(key)), "prefix %q", p)
		}
		require.Len(t, tokensConcurrently(t, sources), 1)
		require.Equal(t, 1, as.Requests(fleetClientID), "cold start on the Cluster: one request")
	})

	t.Run("slot migrated while the fleet renews", func(t *testing.T) {
		src, err := redistest.MasterOf(ctx, cluster.Addrs()[0], slot)
		require.NoError(t, err)
		dst := otherMaster(t, admin, src)
		srcID, dstID := nodeID(t, src), nodeID(t, dst)
		srcNode, dstNode := nodeClient(t, src), nodeClient(t, dst)
		renew := func(step string) {
			t.Helper()
			n := as.Requests(fleetClientID)
			require.Len(t, renewAll(t, clk, sources, clk.Now()), 1, step)
			assert.Equal(t, n+1, as.Requests(fleetClientID), "%s: one request for the fleet", step)
		}

		// The slot is migrating: the value is still on src, a new key (the
		// lock) is created on dst; src answers ASK for it.
		require.NoError(t, dstNode.Do(ctx, "CLUSTER", "SETSLOT", slot, "IMPORTING", srcID).Err())
		require.NoError(t, srcNode.Do(ctx, "CLUSTER", "SETSLOT", slot, "MIGRATING", dstID).Err())
		renew("migrating")
		asked := hook.ask.Load()
		assert.Positive(t, asked, "the lock was redirected with ASK")

		// The value moves: src answers ASK for it too.
		keys, err := srcNode.ClusterGetKeysInSlot(ctx, slot, 1000).Result()
		require.NoError(t, err)
		require.Contains(t, keys, valueKey)
		host, port, _ := strings.Cut(dst, ":")
		require.NoError(t, srcNode.Do(ctx, append([]any{"MIGRATE", host, port, "", 0, 5000, "KEYS"}, toAny(keys)...)...).Err())
		renew("keys migrated")
		assert.Greater(t, hook.ask.Load(), asked, "the value was read through ASK")

		// A replica that starts now loads a slot map naming src. The fleet's
		// clients may reload theirs at any moment (an ASK has them reload in
		// the background), this one has no reason to.
		lateHook := &redirectHook{}
		lateClient := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: cluster.Addrs(), ContextTimeoutEnabled: true})
		lateClient.OnNewNode(func(node *goredis.Client) { node.AddHook(lateHook) })
		t.Cleanup(func() { _ = lateClient.Close() })
		late, err := redis.New(lateClient, redis.Options{Prefix: prefix, Keys: [][]byte{testKey(1)}, OpTimeout: topologyOpTimeout, Now: clk.Now})
		require.NoError(t, err)
		owner, err := lateClient.MasterForKey(ctx, valueKey)
		require.NoError(t, err)
		require.Equal(t, src, owner.Options().Addr)

		// The slot is dst's: every master is told, and src answers MOVED.
		for _, m := range masters(t, admin) {
			require.NoError(t, nodeClient(t, m).Do(ctx, "CLUSTER", "SETSLOT", slot, "NODE", dstID).Err())
		}
		require.NoError(t, cluster.Settle(ctx))
		renew("slot moved")
		_, err = late.Get(ctx, key)
		require.NoError(t, err, "the late replica reads the token from dst")
		assert.True(t, late.Status().Healthy)
		assert.Positive(t, lateHook.moved.Load(), "its slot map was corrected with MOVED")

		for i, s := range append(slices.Clip(stores), late) {
			st := s.Status()
			assert.True(t, st.Healthy, "store %d", i)
			assert.Zero(t, st.Failures, "store %d: a redirection is not a failure (%s)", i, st.LastError)
			assert.Zero(t, st.Fallbacks, "store %d: nothing was served from the fallback", i)
		}
		t.Logf("Cluster, slot %d migrated during renewals: %d ASK and %d MOVED replies followed, no failure, no fallback",
			slot, hook.ask.Load(), hook.moved.Load()+lateHook.moved.Load())
	})

	t.Run("master killed", func(t *testing.T) {
		master, err := redistest.MasterOf(ctx, cluster.Addrs()[0], slot)
		require.NoError(t, err)
		var alive string
		for _, a := range cluster.Addrs() {
			if a != master {
				alive = a
			}
		}
		rep := proveFailover(t, as, clk, sources, stores, cluster.Node(master).Stop, func(ctx context.Context) error {
			if err := cluster.Settle(ctx); err != nil {
				return err
			}
			now, err := redistest.MasterOf(ctx, alive, slot)
			if err == nil && now == master {
				t.Errorf("slot %d is still served by the killed master %s", slot, master)
			}
			return err
		})
		t.Logf("Cluster, master of slot %d killed: token requests per lifetime during the failover %v, after it %v (fleet of %d)",
			slot, rep.during, rep.after, len(sources))
	})
}

func keySlot(t *testing.T, c *goredis.ClusterClient, key string) int {
	t.Helper()
	n, err := c.ClusterKeySlot(context.Background(), key).Result()
	require.NoError(t, err)
	return int(n)
}

// masters returns the addresses of the Cluster's masters.
func masters(t *testing.T, c *goredis.ClusterClient) []string {
	t.Helper()
	var out []string
	shards, err := c.ClusterShards(context.Background()).Result()
	require.NoError(t, err)
	for _, sh := range shards {
		for _, n := range sh.Nodes {
			if n.Role == "master" && n.Health == "online" {
				out = append(out, n.IP+":"+strconv.FormatInt(n.Port, 10))
			}
		}
	}
	return out
}

func otherMaster(t *testing.T, c *goredis.ClusterClient, not string) string {
	t.Helper()
	for _, m := range masters(t, c) {
		if m != not {
			return m
		}
	}
	t.Fatalf("no master but %s", not)
	return ""
}

func nodeClient(t *testing.T, addr string) *goredis.Client {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: addr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func nodeID(t *testing.T, addr string) string {
	t.Helper()
	id, err := nodeClient(t, addr).Do(context.Background(), "CLUSTER", "MYID").Text()
	require.NoError(t, err)
	return id
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
