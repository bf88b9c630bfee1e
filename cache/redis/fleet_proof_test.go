package redis_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache/redis"
	"github.com/tokenwire/tokenwire/internal/redistest"
	"github.com/tokenwire/tokenwire/oauthclient"
)

// The proof of issue 5: twenty independent sources (one per replica, each
// with its own Redis client and store) on one real Redis and one fake
// authorization server behave like one client.

func TestFleetRenewalFetchesOnce(t *testing.T) {
	clk := newFakeClock()
	issued := clk.Now()
	as := clockedAuthServer(t, clk)
	as.SetLatency(50 * time.Millisecond) // the others try while one fetches
	o := replicaOpts{addr: redis.SharedClient(t).Options().Addr, prefix: redis.UniquePrefix(t), clock: clk}
	sources, _ := newFleet(t, as, o, replicas)

	require.Len(t, tokensConcurrently(t, sources), 1)
	require.Equal(t, 1, as.Requests(fleetClientID), "cold start")

	seen := renewAll(t, clk, sources, issued)
	assert.Equal(t, 2, as.Requests(fleetClientID), "one renewal for the whole fleet")
	require.Len(t, seen, 1, "every replica serves the renewed token")
	for tok := range seen {
		assert.True(t, as.Valid(tok))
	}
}

// stuckTransport never answers: the replica using it takes the fleet lock,
// then hangs mid-fetch like a process killed while fetching. It neither
// stores a token nor releases the lock until the test ends.
type stuckTransport struct {
	entered chan struct{}
	once    sync.Once
	release chan struct{}
}

func (s *stuckTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	s.once.Do(func() { close(s.entered) })
	select {
	case <-s.release:
	case <-r.Context().Done():
	}
	return nil, errors.New("replica killed")
}

func TestFleetLockHolderDiesMidFetch(t *testing.T) {
	clk := newFakeClock()
	as := clockedAuthServer(t, clk)
	client := redis.SharedClient(t)
	// The lock lives a minute, and the test makes the dead holder's expire:
	// a TTL short enough to wait out would expire under the replica that
	// takes over too, were a busy machine to pause it that long before it
	// stores its token, and a second replica would fetch.
	o := replicaOpts{addr: client.Options().Addr, prefix: redis.UniquePrefix(t), clock: clk, lockTTL: time.Minute}
	stuck := &stuckTransport{entered: make(chan struct{}), release: make(chan struct{})}
	t.Cleanup(func() { close(stuck.release) })
	dead := o
	dead.hc = &http.Client{Transport: stuck}
	holder, holderStore := newReplica(t, as, dead)
	others, _ := newFleet(t, as, o, replicas-1)

	ctx, cancel := context.WithCancel(context.Background())
	holderErr := make(chan error, 1)
	go func() { _, err := holder.TokenContext(ctx); holderErr <- err }()
	select {
	case <-stuck.entered: // it holds the lock and is stuck in its token request
	case <-time.After(10 * time.Second):
		t.Fatal("the holder never sent its token request")
	}
	cancel()
	require.Error(t, <-holderErr, "the holder's caller gave up")

	lock := holderStore.LockKey(oauthclient.CacheKey(crmConfig(as)))
	require.EqualValues(t, 1, client.Exists(context.Background(), lock).Val(), "the holder's lock")
	got := make(chan map[string]int, 1)
	go func() { got <- tokensConcurrently(t, others) }() // they wait for the holder
	require.NoError(t, client.PExpire(context.Background(), lock, time.Millisecond).Err(), "the dead holder's lock expires")
	seen := <-got
	require.Len(t, seen, 1, "the others share one token")
	for tok := range seen {
		assert.True(t, as.Valid(tok))
	}
	assert.Equal(t, 1, as.Requests(fleetClientID), "once the lock expired, one other replica fetched")
}

func TestFleetSurvivesRedisRestart(t *testing.T) {
	srv := redistest.Start(t) // its own server: this test stops it
	ctx := context.Background()
	clk := newFakeClock()
	t0 := clk.Now()
	as := clockedAuthServer(t, clk)
	o := replicaOpts{addr: srv.Addr(), prefix: redis.UniquePrefix(t), clock: clk}
	sources, stores := newFleet(t, as, o, replicas)
	require.Len(t, tokensConcurrently(t, sources), 1)
	require.Equal(t, 1, as.Requests(fleetClientID))

	require.NoError(t, srv.Stop())
	require.Len(t, tokensConcurrently(t, sources), 1, "Redis down: the current token is still served")
	clk.Set(t0.Add(lifetime)) // expired: every replica must get a new one
	seen := tokensConcurrently(t, sources)
	assert.Len(t, seen, replicas, "each replica fetched its own token")
	assert.Equal(t, 1+replicas, as.Requests(fleetClientID))
	for tok := range seen {
		assert.True(t, as.Valid(tok))
	}
	for _, s := range stores {
		assert.False(t, s.Status().Healthy)
	}

	// Redis returns, empty. Once the breakers' cool-down has passed (on the
	// injected clock), the replicas share again: one renewal for all, and a
	// replica started now finds the token in Redis.
	require.NoError(t, srv.Restart())
	require.Eventually(t, func() bool {
		clk.Advance(redis.DefaultCooldown)
		healthy := true
		for _, s := range stores {
			_, _ = s.Get(ctx, "probe")
			healthy = healthy && s.Status().Healthy
		}
		return healthy
	}, 20*time.Second, 10*time.Millisecond)
	n := as.Requests(fleetClientID)
	seen = renewAll(t, clk, sources, t0.Add(lifetime))
	require.Len(t, seen, 1, "sharing resumed")
	assert.Equal(t, n+1, as.Requests(fleetClientID))

	late, _ := newReplica(t, as, o)
	tok, err := late.TokenContext(ctx)
	require.NoError(t, err)
	assert.Contains(t, seen, tok.AccessToken())
	assert.Equal(t, n+1, as.Requests(fleetClientID), "the new replica read Redis, did not fetch")
}

func TestFleetRedisHoldsNoSecrets(t *testing.T) {
	client := redis.SharedClient(t)
	ctx := context.Background()
	as := newAuthServer(t)
	prefix := redis.UniquePrefix(t)
	sources, _ := newFleet(t, as, replicaOpts{addr: client.Options().Addr, prefix: prefix}, replicas)
	seen := tokensConcurrently(t, sources)
	require.Len(t, seen, 1)
	var token string
	for tok := range seen {
		token = tok
	}

	var keys []string
	iter := client.Scan(ctx, 0, "*", 100).Iterator()
	for iter.Next(ctx) {
		if strings.HasPrefix(iter.Val(), prefix) {
			keys = append(keys, iter.Val())
		}
	}
	require.NoError(t, iter.Err())
	require.Len(t, keys, 1, "one value, and the lock was released")
	secrets := []string{fleetClientID, fleetSecret, token, oauthclient.CacheKey(crmConfig(as))}
	for _, k := range keys {
		v, err := client.Get(ctx, k).Result()
		require.NoError(t, err)
		for _, s := range secrets {
			assert.NotContains(t, k, s, "key")
			assert.NotContains(t, v, s, "value")
		}
		assert.False(t, json.Valid([]byte(v)), "the value is not the serialized token")
		assert.NotContains(t, v, `"a":`)
	}
}

func TestFleetWrongKeyIsAMiss(t *testing.T) {
	ctx := context.Background()
	as := newAuthServer(t)
	o := replicaOpts{addr: redis.SharedClient(t).Options().Addr, prefix: redis.UniquePrefix(t)}
	sources, _ := newFleet(t, as, o, 3)
	seen := tokensConcurrently(t, sources)
	require.Len(t, seen, 1)
	require.Equal(t, 1, as.Requests(fleetClientID))

	// Rotation: a replica that encrypts with a new key still reads the old.
	o.keys = [][]byte{testKey(2), testKey(1)}
	rotated, _ := newReplica(t, as, o)
	tok, err := rotated.TokenContext(ctx)
	require.NoError(t, err)
	assert.Contains(t, seen, tok.AccessToken())
	assert.Equal(t, 1, as.Requests(fleetClientID))

	// A replica with the wrong key sees a miss and fetches its own token.
	o.keys = [][]byte{testKey(3)}
	wrong, _ := newReplica(t, as, o)
	tok, err = wrong.TokenContext(ctx)
	require.NoError(t, err)
	assert.NotContains(t, seen, tok.AccessToken())
	assert.True(t, as.Valid(tok.AccessToken()))
	assert.Equal(t, 2, as.Requests(fleetClientID))
	assert.Equal(t, seen, tokensConcurrently(t, sources), "the others are unaffected")
}

func TestFleetTokenRequestsPerTTL(t *testing.T) {
	const lifetimes = 3
	for _, tc := range []struct {
		name    string
		noStore bool
		want    int
	}{
		{"shared Redis store", false, 1},
		{"no shared store", true, replicas},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newFakeClock()
			as := clockedAuthServer(t, clk)
			o := replicaOpts{addr: redis.SharedClient(t).Options().Addr, prefix: redis.UniquePrefix(t), clock: clk, noStore: tc.noStore}
			sources, _ := newFleet(t, as, o, replicas)
			got := requestsPerLifetime(t, as, clk, sources, lifetimes)
			assert.Equal(t, []int{tc.want, tc.want, tc.want}, got)
		})
	}
}
