package redis_test

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache/redis"
	"github.com/tokenwire/tokenwire/internal/fakeclock"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

// The client registered by newAuthServer.
const (
	fleetClientID = "crm-client"
	fleetSecret   = "s3cret-value"
)

// lifetime is the tokens' lifetime and renewAfter how long after its issue
// a token enters its renewal window.
const (
	lifetime   = time.Hour
	renewAfter = lifetime - 5*time.Minute // DefaultRenewWindow(1h) is 5m
)

// fakeClock is a settable clock shared by the sources, their stores and the
// authorization server of a test.
type fakeClock = fakeclock.Clock

func newFakeClock() *fakeClock { return fakeclock.At(time.Now()) }

// testKey returns a deterministic AES-256 key.
func testKey(b byte) []byte { return bytes.Repeat([]byte{b}, redis.KeySize) }

// replicaOpts describes one replica of a fleet.
type replicaOpts struct {
	addr    string   // Redis address
	prefix  string   // Redis key prefix
	keys    [][]byte // default {testKey(1)}
	clock   *fakeClock
	lockTTL time.Duration // Options.LockTTL; 0: default
	hc      *http.Client  // token calls; nil: default
	noStore bool          // a source without a shared store
}

func crmConfig(as *oauthtest.Server) oauthclient.Config {
	return oauthclient.Config{
		Name: "crm", TokenURL: as.TokenURL(), ClientID: fleetClientID, ClientSecret: oauthclient.NewSecret(fleetSecret),
		Scopes: []string{"read"},
	}
}

// newReplica builds one replica: its own Redis client, store and source. The
// store is nil when o.noStore is set.
func newReplica(tb testing.TB, as *oauthtest.Server, o replicaOpts) (*oauthclient.Source, *redis.Store) {
	tb.Helper()
	opts := oauthclient.Options{LockTTL: o.lockTTL, HTTPClient: o.hc, AllowInsecureHTTP: true}
	var now func() time.Time
	if o.clock != nil {
		now = o.clock.Now
		opts.Now = now
	}
	var store *redis.Store
	if !o.noStore {
		client := goredis.NewClient(&goredis.Options{Addr: o.addr, ContextTimeoutEnabled: true})
		tb.Cleanup(func() { _ = client.Close() })
		keys := o.keys
		if keys == nil {
			keys = [][]byte{testKey(1)}
		}
		var err error
		store, err = redis.New(client, redis.Options{Prefix: o.prefix, Keys: keys, OpTimeout: redis.TestOpTimeout, Now: now})
		require.NoError(tb, err)
		opts.Store = store
	}
	src, err := oauthclient.NewSource(crmConfig(as), opts)
	require.NoError(tb, err)
	return src, store
}

// newFleet builds n replicas alike.
func newFleet(tb testing.TB, as *oauthtest.Server, o replicaOpts, n int) ([]*oauthclient.Source, []*redis.Store) {
	tb.Helper()
	sources := make([]*oauthclient.Source, n)
	stores := make([]*redis.Store, n)
	for i := range sources {
		sources[i], stores[i] = newReplica(tb, as, o)
	}
	return sources, stores
}

// clockedAuthServer is newAuthServer on clk, without latency: the fleet lock,
// not timing, must keep the replicas from fetching together.
func clockedAuthServer(tb testing.TB, clk *fakeClock) *oauthtest.Server {
	as := oauthtest.NewServer(oauthtest.WithClock(clk.Now))
	tb.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: fleetClientID, Secret: fleetSecret, Scopes: []string{"read"}})
	return as
}

// renewAll moves clk to the renewal time of tokens issued at issued and
// has every source call, concurrently and repeatedly, until none serves a
// token from before. It returns the token they all serve then (one per
// source: len > 1 means the fleet did not share).
func renewAll(tb testing.TB, clk *fakeClock, sources []*oauthclient.Source, issued time.Time) map[string]int {
	tb.Helper()
	before := tokensConcurrently(tb, sources)
	clk.Set(issued.Add(renewAfter))
	var seen map[string]int
	require.Eventually(tb, func() bool {
		seen = tokensConcurrently(tb, sources)
		for tok := range seen {
			if _, old := before[tok]; old {
				return false
			}
		}
		return true
	}, 2*time.Minute, 5*time.Millisecond, "every replica renews") // a failsafe
	return seen
}

// requestsPerLifetime runs a fleet through several token lifetimes on clk
// and returns the token requests of each lifetime.
func requestsPerLifetime(tb testing.TB, as *oauthtest.Server, clk *fakeClock, sources []*oauthclient.Source, lifetimes int) []int {
	tb.Helper()
	tokensConcurrently(tb, sources) // cold start
	out := make([]int, 0, lifetimes)
	for range lifetimes {
		n := as.Requests(fleetClientID)
		renewAll(tb, clk, sources, clk.Now())
		out = append(out, as.Requests(fleetClientID)-n)
	}
	return out
}
