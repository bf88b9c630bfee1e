package oauthclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/cache/redis"
	"github.com/tokenwire/tokenwire/internal/redistest"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

// A replica that holds back sent nothing: it must not keep the fleet lock
// until it expires, as after a failed request. The replica it waits for
// (the holder of an intent whose rotation missed the store) writes the
// rotation back under that lock; with a fleet of waiters each keeping it
// for a LockTTL after every attempt, the holder may never get it.
func TestRefreshHeldBackReleasesTheFleetLock(t *testing.T) {
	srv := redistest.Start(t)
	client := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	t.Cleanup(func() { _ = client.Close() })
	store, err := redis.New(client, redis.Options{Prefix: fmt.Sprintf("held-back-%d:", time.Now().UnixNano()),
		Keys: [][]byte{[]byte(strings.Repeat("k", redis.KeySize))}})
	require.NoError(t, err)
	as := oauthtest.NewServer()
	t.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: "app", Scopes: []string{"read"}})
	seed := as.IssueRefreshToken("app", "alice", "read")
	src, err := NewSource(refreshConfig(as, ValueSupplier(NewSecret(seed), time.Time{}), nil),
		Options{AllowInsecureHTTP: true, Store: store, LockTTL: time.Minute, MaxBackoffWait: -1})
	require.NoError(t, err)
	t.Cleanup(src.Close)

	ctx := context.Background()
	key := familyKey(seed)
	legacy := keyOf(src.identity, hashed(seed))                                    // where a record was kept before the family had a key of its own: still read
	b, err := json.Marshal(refreshRecord{Token: seed, Sending: "another-replica"}) // its request is at the server
	require.NoError(t, err)
	require.NoError(t, store.StrictSet(ctx, recordKey(legacy), cache.Entry{Value: b, Expiry: time.Now().Add(time.Hour)}))

	_, err = src.TokenContext(ctx)
	require.True(t, errors.Is(err, ErrRefreshUncertain), "%v", err)
	release, ok, err := store.StrictTryLock(ctx, key, time.Minute)
	require.NoError(t, err)
	if ok {
		_ = release(ctx)
	}
	assert.True(t, ok, "the replica that held back keeps the fleet lock")
	assert.Zero(t, as.RefreshStats().Used)
}
