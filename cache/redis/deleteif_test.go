package redis

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache"
)

// DeleteIf removes an entry only while it holds the value given: a token
// another replica stored in its place is kept.
func TestDeleteIf(t *testing.T) {
	client := sharedClient(t)
	ctx := context.Background()
	clk := newClock()
	s := newStore(t, client, Options{Keys: [][]byte{aesKey(1)}, Now: clk.Now})
	other := newStore(t, client, Options{Prefix: s.prefix, Keys: [][]byte{aesKey(1)}, Now: clk.Now})
	old := cache.Entry{Value: []byte("rejected-token"), Expiry: clk.Now().Add(time.Hour)}
	fresh := cache.Entry{Value: []byte("replaced-token"), Expiry: clk.Now().Add(time.Hour)}

	require.NoError(t, s.Set(ctx, "k", old))
	require.NoError(t, other.Set(ctx, "k", fresh)) // another replica renewed meanwhile
	require.NoError(t, s.DeleteIf(ctx, "k", old.Value))
	got, err := other.Get(ctx, "k")
	require.NoError(t, err, "the replacement is kept")
	assert.Equal(t, fresh.Value, got.Value)

	require.NoError(t, s.DeleteIf(ctx, "k", fresh.Value))
	_, err = other.Get(ctx, "k")
	assert.ErrorIs(t, err, cache.ErrNotFound, "the value given is deleted")
	require.NoError(t, s.DeleteIf(ctx, "missing", []byte("x")), "a missing key is no error")
	assert.True(t, s.Status().Healthy)
}
