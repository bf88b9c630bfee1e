package redis_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/cache/redis"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

// What the topology tests (Sentinel, Cluster) share: a fleet whose stores
// a test builds for its topology, on one fake clock with the authorization
// server, and the proof that the fleet survives losing the Redis master.

// topologyReplicas is the size of the fleets of the topology tests.
const topologyReplicas = 8

// topologyOpTimeout bounds each Redis operation in the topology tests:
// short enough that a dead master costs a lifetime little, long enough
// that a busy CI machine under the race detector does not time out a
// healthy Redis (which would cost a token request).
const topologyOpTimeout = 2 * time.Second

// testKeyB64 is testKey(1) as a configuration file gives it.
var testKeyB64 = base64.StdEncoding.EncodeToString(testKey(1))

// storeFleet builds n replicas, each with the store open returns and a
// source for the crm definition, all on clk.
func storeFleet(tb testing.TB, as *oauthtest.Server, clk *fakeClock, n int, open func(tb testing.TB) *redis.Store) ([]*oauthclient.Source, []*redis.Store) {
	tb.Helper()
	sources := make([]*oauthclient.Source, n)
	stores := make([]*redis.Store, n)
	for i := range sources {
		stores[i] = open(tb)
		src, err := oauthclient.NewSource(crmConfig(as), oauthclient.Options{Store: stores[i], Now: clk.Now, AllowInsecureHTTP: true})
		require.NoError(tb, err)
		sources[i] = src
	}
	return sources, stores
}

// openConfig opens cfg as package rest does, on clk, and closes the store
// when the test ends.
func openConfig(tb testing.TB, cfg redis.Config, clk *fakeClock) *redis.Store {
	tb.Helper()
	st, err := cfg.Open(context.Background(), cache.Env{Now: clk.Now})
	require.NoError(tb, err)
	s := st.(*redis.Store)
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// failoverReport is what proveFailover saw.
type failoverReport struct {
	during      []int // token requests of each lifetime while the failover ran
	after       []int // of each lifetime once sharing had resumed
	resumeAfter int   // lifetimes run before every store reached Redis again
}

// proveFailover proves the fleet promise across the loss of the master:
// kill takes it down, failedOver returns once the topology has promoted a
// replica. Meanwhile the fleet renews lifetime after lifetime, every call
// succeeding (each replica fetching for itself from its memory fallback,
// so at most one request per replica per lifetime); once every store
// answers from the new master, each lifetime costs one request again, and
// a replica started then finds the token in Redis.
func proveFailover(t *testing.T, as *oauthtest.Server, clk *fakeClock, sources []*oauthclient.Source, stores []*redis.Store,
	kill func() error, failedOver func(context.Context) error) failoverReport {
	t.Helper()
	var rep failoverReport
	key := oauthclient.CacheKey(crmConfig(as))
	done := make(chan error, 1)
	require.NoError(t, kill())
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute) // a failsafe
		defer cancel()
		done <- failedOver(ctx)
	}()
	for failing := true; failing; {
		n := as.Requests(fleetClientID)
		renewAll(t, clk, sources, clk.Now()) // every call succeeds, or renewAll fails the test
		rep.during = append(rep.during, as.Requests(fleetClientID)-n)
		select {
		case err := <-done:
			require.NoError(t, err, "the topology failed over")
			failing = false
		default:
		}
	}
	for _, got := range rep.during {
		assert.LessOrEqual(t, got, len(sources), "at most one token request per replica per lifetime while the master is gone")
	}

	// The stores find the new master. Each is probed (on the definition's
	// own key, so on a Cluster its own slot) after its cool-down.
	ctx := context.Background()
	var unhealthy []string
	for deadline := time.Now().Add(2 * time.Minute); ; { // a failsafe
		clk.Advance(redis.DefaultCooldown)
		unhealthy = unhealthy[:0]
		for i, s := range stores {
			_, _ = s.Get(ctx, key)
			if !s.Status().Healthy {
				unhealthy = append(unhealthy, fmt.Sprintf("store %d: %s", i, s.Status().LastError))
			}
		}
		if len(unhealthy) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond) // polling with a deadline
	}
	require.Empty(t, unhealthy, "every store reaches the new master")

	// Sharing resumed: one request per lifetime for the whole fleet.
	for range 2 {
		n := as.Requests(fleetClientID)
		seen := renewAll(t, clk, sources, clk.Now())
		rep.after = append(rep.after, as.Requests(fleetClientID)-n)
		assert.Len(t, seen, 1, "every replica serves the one renewed token")
	}
	assert.Equal(t, []int{1, 1}, rep.after, "one token request per lifetime once sharing resumed")

	late, err := oauthclient.NewSource(crmConfig(as), oauthclient.Options{Store: stores[0], Now: clk.Now, AllowInsecureHTTP: true})
	require.NoError(t, err)
	n := as.Requests(fleetClientID)
	tok, err := late.TokenContext(ctx)
	require.NoError(t, err)
	assert.True(t, as.Valid(tok.AccessToken()))
	assert.Equal(t, n, as.Requests(fleetClientID), "a replica started now reads the token from the new master")
	return rep
}
