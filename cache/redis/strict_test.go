package redis

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/internal/redistest"
)

// The strict operations answer as Redis does, and fail — never fall back
// — while it is down: a rotating refresh token is read, written and
// locked only in the shared store.
func TestStrictOperations(t *testing.T) {
	srv := redistest.Start(t) // its own server: this test stops it
	ctx := context.Background()
	clk := newClock()
	a := newStore(t, newClient(t, srv.Addr()), Options{Keys: [][]byte{aesKey(1)}, Now: clk.Now, OpTimeout: 5 * time.Second}) // generous: CI machines are loaded
	entry := cache.Entry{Value: []byte("refresh-token-record"), Expiry: clk.Now().Add(time.Hour)}

	_, err := a.StrictGet(ctx, "family")
	assert.ErrorIs(t, err, cache.ErrNotFound)
	require.NoError(t, a.StrictSet(ctx, "family", entry))
	e, err := a.StrictGet(ctx, "family")
	require.NoError(t, err)
	assert.Equal(t, entry.Value, e.Value)
	raw, err := newClient(t, srv.Addr()).Get(ctx, a.ValueKey("family")).Bytes()
	require.NoError(t, err)
	assert.NotContains(t, string(raw), "refresh-token-record", "encrypted in Redis")

	unlock, ok, err := a.StrictTryLock(ctx, "family", time.Minute)
	require.NoError(t, err)
	require.True(t, ok)
	_, ok, err = a.StrictTryLock(ctx, "family", time.Minute)
	require.NoError(t, err)
	assert.False(t, ok, "held")
	require.NoError(t, unlock(ctx))
	_, ok, err = a.StrictTryLock(ctx, "family", time.Minute)
	require.NoError(t, err)
	assert.True(t, ok, "released")
	assert.Error(t, a.StrictSet(ctx, "gone", cache.Entry{Value: []byte("x"), Expiry: clk.Now().Add(-time.Second)}))

	require.NoError(t, srv.Stop())
	_, err = a.StrictGet(ctx, "family")
	assert.Error(t, err, "down: no answer from the local fallback")
	assert.NotErrorIs(t, err, cache.ErrNotFound)
	_, ok, err = a.StrictTryLock(ctx, "family", time.Minute)
	assert.Error(t, err)
	assert.False(t, ok, "down: nobody gets the lock")
	assert.Error(t, a.StrictSet(ctx, "family", entry))
	// While the breaker is open they fail at once, as the forgiving
	// operations go on serving locally.
	_, err = a.StrictGet(ctx, "family")
	assert.ErrorIs(t, err, errUnavailable)
	_, ok, err = a.TryLock(ctx, "family", time.Minute)
	assert.NoError(t, err)
	assert.True(t, ok, "the forgiving lock lets everyone proceed")
	got, err := a.Get(ctx, "family")
	require.NoError(t, err)
	assert.Equal(t, entry.Value, got.Value, "the forgiving read serves the local copy")

	require.NoError(t, srv.Restart())
	clk.Advance(time.Minute) // past the breaker's cool-down
	require.Eventually(t, func() bool {
		_, err := a.StrictGet(ctx, "family")
		return err == nil || errors.Is(err, cache.ErrNotFound) // Redis answers again (what it kept is its business)
	}, 10*time.Second, 10*time.Millisecond, "strict operations resume with Redis")
}
