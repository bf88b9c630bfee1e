package oauthclient_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
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

// The proof of rotation in a fleet: twenty replicas — twenty processes,
// each with its own source, Redis client and memory — renew through one
// refresh token family on one real Redis for a while, the server rotating
// the refresh token at every refresh and revoking the family at the first
// reuse. Every refresh token is used exactly once.

// replicaEnv carries a replica's settings to the process that runs it.
const replicaEnv = "TOKENWIRE_REFRESH_REPLICA"

const fleetReplicas = 20

func TestRefreshFleetUsesEachTokenOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts twenty processes")
	}
	rs := redistest.Start(t)
	as := oauthtest.NewServer(oauthtest.WithTokenLifetime(2 * time.Second)) // renewed after 1s (RenewWindow below), by whichever replica first sees it stale
	t.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: "saas-client", Secret: "saas-secret", Scopes: []string{"read"}})
	seed := as.IssueRefreshToken("saas-client", "alice", "read")
	key := hex.EncodeToString([]byte(strings.Repeat("k", redis.KeySize)))
	prefix := fmt.Sprintf("refresh-fleet-%d:", time.Now().UnixNano())
	settings := strings.Join([]string{rs.Addr(), prefix, as.TokenURL(), seed, key}, " ")

	// The replicas call until their standard input closes: once the
	// family has rotated a few times, however slowly a busy machine lets
	// twenty processes start and run.
	var wg sync.WaitGroup
	outs := make([][]byte, fleetReplicas)
	errs := make([]error, fleetReplicas)
	stops := make([]io.Closer, fleetReplicas)
	for i := range fleetReplicas {
		cmd := exec.Command(os.Args[0], "-test.run=^TestRefreshFleetReplica$", "-test.count=1")
		cmd.Env = append(os.Environ(), replicaEnv+"="+settings)
		stdin, err := cmd.StdinPipe()
		require.NoError(t, err)
		stops[i] = stdin
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = cmd.CombinedOutput()
		}()
	}
	const rotations = 3
	for failsafe := time.Now().Add(2 * time.Minute); as.RefreshStats().Used < rotations && time.Now().Before(failsafe); {
		<-time.After(10 * time.Millisecond) // polling the server's count
	}
	for _, stop := range stops {
		_ = stop.Close()
	}
	wg.Wait()
	for i := range fleetReplicas {
		require.NoError(t, errs[i], "replica %d: %s", i, outs[i])
	}

	st := as.RefreshStats()
	t.Logf("refresh tokens: %+v", st)
	assert.Zero(t, st.Reused, "a refresh token was used twice")
	assert.Zero(t, st.Refused, "a refresh token was refused")
	assert.GreaterOrEqual(t, st.Used, rotations, "the fleet renewed several times")
	assert.Equal(t, st.Issued-1, st.Used, "every refresh token but the newest was used, once")

	// Redis holds the family's newest refresh token encrypted: no value
	// shows a refresh token or the seed.
	c := goredis.NewClient(&goredis.Options{Addr: rs.Addr()})
	t.Cleanup(func() { _ = c.Close() })
	keys, err := c.Keys(context.Background(), prefix+"*").Result()
	require.NoError(t, err)
	require.NotEmpty(t, keys)
	for _, k := range keys {
		v, err := c.Get(context.Background(), k).Bytes()
		require.NoError(t, err)
		assert.NotContains(t, string(v), seed)
		assert.NotContains(t, k, seed)
	}
}

// TestRefreshFleetReplica is one replica of TestRefreshFleetUsesEachTokenOnce,
// run in a process of its own.
func TestRefreshFleetReplica(t *testing.T) {
	settings := os.Getenv(replicaEnv)
	if settings == "" {
		t.Skip("a replica of TestRefreshFleetUsesEachTokenOnce")
	}
	f := strings.Fields(settings)
	addr, prefix, tokenURL, seed, keyHex := f[0], f[1], f[2], f[3], f[4]
	key, err := hex.DecodeString(keyHex)
	require.NoError(t, err)
	client := goredis.NewClient(&goredis.Options{Addr: addr, ContextTimeoutEnabled: true})
	defer client.Close()
	store, err := redis.New(client, redis.Options{Prefix: prefix, Keys: [][]byte{key}, OpTimeout: 5 * time.Second}) // generous: a strict operation that times out fails its refresh
	require.NoError(t, err)
	src, err := oauthclient.NewSource(oauthclient.Config{
		Name: "saas", TokenURL: tokenURL, ClientID: "saas-client", ClientSecret: oauthclient.NewSecret("saas-secret"),
		Grant: oauthclient.RefreshToken{Token: oauthclient.ValueSupplier(oauthclient.NewSecret(seed), time.Time{})},
	}, oauthclient.Options{Store: store, AllowInsecureHTTP: true, RenewWindow: func(life time.Duration) time.Duration { return life / 2 }})
	require.NoError(t, err)
	defer src.Close()

	stop := make(chan struct{})
	go func() { // the parent closes our standard input to stop us
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(stop)
	}()
	var wg sync.WaitGroup
	for range 4 { // callers of the replica
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(5 * time.Millisecond) // pacing the calls, not synchronising
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second) // generous: twenty race-enabled processes on a busy machine
				_, err := src.TokenContext(ctx)
				cancel()
				if err != nil {
					t.Errorf("token: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
