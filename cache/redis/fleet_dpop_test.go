package redis_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache/redis"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

// dpopReplicas builds replicas sharing one Redis for a DPoP definition;
// key returns each replica's DPoP key (nil: generated in memory).
func dpopReplicas(t *testing.T, as *oauthtest.Server, n int, key func(i int) *ecdsa.PrivateKey) []*oauthclient.Source {
	t.Helper()
	addr, prefix := redis.SharedClient(t).Options().Addr, redis.UniquePrefix(t)
	sources := make([]*oauthclient.Source, n)
	for i := range sources {
		client := goredis.NewClient(&goredis.Options{Addr: addr, ContextTimeoutEnabled: true})
		t.Cleanup(func() { _ = client.Close() })
		store, err := redis.New(client, redis.Options{Prefix: prefix, Keys: [][]byte{make([]byte, redis.KeySize)}, OpTimeout: redis.TestOpTimeout})
		require.NoError(t, err)
		cfg := oauthclient.Config{Name: "crm", TokenURL: as.TokenURL(), ClientID: "svc", ClientSecret: oauthclient.NewSecret("pw"), DPoP: true}
		if k := key(i); k != nil {
			cfg.DPoPKey = k
		}
		src, err := oauthclient.NewSource(cfg, oauthclient.Options{Store: store, AllowInsecureHTTP: true})
		require.NoError(t, err)
		sources[i] = src
	}
	return sources
}

// A DPoP-bound token is usable only with its key, so replicas share it
// through Redis only when they share the key: with one configured key the
// fleet asks once; with keys generated per replica, each asks for its own
// (and never takes a token bound to another replica's key).
func TestFleetSharesDPoPTokensOnlyWithTheKey(t *testing.T) {
	shared, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	for _, tc := range []struct {
		name     string
		key      func(int) *ecdsa.PrivateKey
		requests int
	}{
		{"one key for the fleet", func(int) *ecdsa.PrivateKey { return shared }, 1},
		{"a key per replica", func(int) *ecdsa.PrivateKey { return nil }, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			as := oauthtest.NewServer(oauthtest.WithTokenLifetime(time.Hour))
			t.Cleanup(as.Close)
			as.AddClient(oauthtest.Client{ID: "svc", Secret: "pw"})
			seen := tokensConcurrently(t, dpopReplicas(t, as, 5, tc.key))
			assert.Len(t, seen, tc.requests)
			assert.Equal(t, tc.requests, as.Requests("svc"))
		})
	}
}
