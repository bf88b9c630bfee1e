package redis_test

import (
	"context"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache/redis"
	"github.com/tokenwire/tokenwire/internal/redistest"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

const replicas = 20

// fleet builds the replicas of one service: each with its own Redis client,
// store and token source for the same definition.
func fleet(t *testing.T, as *oauthtest.Server, addr, prefix string, opTimeout time.Duration) []*oauthclient.Source {
	t.Helper()
	cfg := oauthclient.Config{
		Name: "crm", TokenURL: as.TokenURL(), ClientID: "crm-client", ClientSecret: oauthclient.NewSecret("s3cret-value"),
		Scopes: []string{"read"},
	}
	sources := make([]*oauthclient.Source, replicas)
	for i := range sources {
		client := goredis.NewClient(&goredis.Options{Addr: addr, ContextTimeoutEnabled: true})
		t.Cleanup(func() { _ = client.Close() })
		store, err := redis.New(client, redis.Options{Prefix: prefix, Keys: [][]byte{make([]byte, redis.KeySize)}, OpTimeout: opTimeout})
		require.NoError(t, err)
		src, err := oauthclient.NewSource(cfg, oauthclient.Options{Store: store, AllowInsecureHTTP: true})
		require.NoError(t, err)
		sources[i] = src
	}
	return sources
}

// tokensConcurrently asks every source for a token at the same moment and
// returns the distinct access tokens they got.
func tokensConcurrently(t testing.TB, sources []*oauthclient.Source) map[string]int {
	t.Helper()
	var (
		start = make(chan struct{})
		wg    sync.WaitGroup
		mu    sync.Mutex
		seen  = map[string]int{}
	)
	for _, src := range sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			tok, err := src.TokenContext(ctx)
			if !assert.NoError(t, err) {
				return
			}
			mu.Lock()
			seen[tok.AccessToken()]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return seen
}

func newAuthServer(t *testing.T) *oauthtest.Server {
	as := oauthtest.NewServer()
	t.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: "crm-client", Secret: "s3cret-value", Scopes: []string{"read"}})
	as.SetLatency(50 * time.Millisecond) // the others arrive while one fetches
	return as
}

func TestFleetColdStartFetchesOnce(t *testing.T) {
	addr := redis.SharedClient(t).Options().Addr
	as := newAuthServer(t)
	prefix := redis.UniquePrefix(t)

	seen := tokensConcurrently(t, fleet(t, as, addr, prefix, redis.TestOpTimeout))
	assert.Equal(t, 1, as.Requests("crm-client"), "one token request for the whole fleet")
	assert.Len(t, seen, 1, "every replica serves the same token")

	// Replicas started later find the token in Redis.
	seen = tokensConcurrently(t, fleet(t, as, addr, prefix, redis.TestOpTimeout))
	assert.Equal(t, 1, as.Requests("crm-client"))
	assert.Len(t, seen, 1)
}

func TestFleetWithoutRedisStillServes(t *testing.T) {
	srv := redistest.Start(t)
	as := newAuthServer(t)
	sources := fleet(t, as, srv.Addr(), redis.UniquePrefix(t), redis.DefaultOpTimeout)
	require.NoError(t, srv.Stop())

	seen := tokensConcurrently(t, sources)
	total := 0
	for _, n := range seen {
		total += n
	}
	assert.Equal(t, replicas, total, "every replica got a token")
	assert.LessOrEqual(t, as.Requests("crm-client"), replicas, "at most one fetch per replica")
}
