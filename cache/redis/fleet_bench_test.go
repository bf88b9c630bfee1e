package redis_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/tokenwire/tokenwire/cache/redis"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

// BenchmarkHotPathWithRedisStore gets a warm token from a source with the
// Redis store, from one without a store, and from x/oauth2's client
// credentials source (a ReuseTokenSource). The first two must match: the
// hot path never touches the store. All use the real clock, with which the
// hot path reads no clock either.
func BenchmarkHotPathWithRedisStore(b *testing.B) {
	ctx := context.Background()
	as := oauthtest.NewServer()
	b.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: fleetClientID, Secret: fleetSecret, Scopes: []string{"read"}})
	o := replicaOpts{addr: redis.SharedClient(b).Options().Addr, prefix: redis.UniquePrefix(b)}
	withRedis, _ := newReplica(b, as, o)
	o.noStore = true
	noStore, _ := newReplica(b, as, o)
	reuse := (&clientcredentials.Config{ClientID: fleetClientID, ClientSecret: fleetSecret,
		TokenURL: as.TokenURL(), Scopes: []string{"read"}}).TokenSource(ctx)

	peers := []struct {
		name string
		call func() error
	}{
		{"tokenwire-redis-store", func() error { _, err := withRedis.TokenContext(ctx); return err }},
		{"tokenwire-no-store", func() error { _, err := noStore.TokenContext(ctx); return err }},
		{"xoauth2-ReuseTokenSource", func() error { _, err := reuse.Token(); return err }},
	}
	for _, p := range peers {
		require.NoError(b, p.call()) // warm
	}
	for _, p := range peers {
		b.Run("serial/"+p.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := p.call(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, p := range peers {
		b.Run("parallel/"+p.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetParallelism(32)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := p.call(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkFleetTokenRequestsPerTTL runs 20 replicas through token
// lifetimes on an injected clock (one iteration is one lifetime: every
// replica renews) and reports the token requests per lifetime, with and
// without the shared store.
func BenchmarkFleetTokenRequestsPerTTL(b *testing.B) {
	for _, tc := range []struct {
		name    string
		noStore bool
	}{
		{"shared-redis-store", false},
		{"no-store", true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			clk := newFakeClock()
			as := clockedAuthServer(b, clk)
			o := replicaOpts{addr: redis.SharedClient(b).Options().Addr, prefix: redis.UniquePrefix(b), clock: clk, noStore: tc.noStore}
			sources, _ := newFleet(b, as, o, replicas)
			tokensConcurrently(b, sources) // cold start
			start := as.Requests(fleetClientID)
			b.ReportAllocs()
			lifetimes := 0
			for b.Loop() {
				renewAll(b, clk, sources, clk.Now())
				lifetimes++
			}
			b.ReportMetric(float64(as.Requests(fleetClientID)-start)/float64(lifetimes), "token-requests/TTL")
		})
	}
}
