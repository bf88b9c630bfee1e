package oauthclient

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache"
)

// A source's status follows its token through every state, on its clock.
func TestSourceStatusStates(t *testing.T) {
	clk := newClock()
	f := &fakeFetcher{clk: clk, life: time.Hour}
	src := NewSourceFrom("crm", f, Options{Now: clk.Now, MinBackoff: time.Minute})
	t.Cleanup(src.Close)

	st := src.Status()
	assert.Equal(t, TokenNone, st.State)
	assert.Equal(t, "crm", st.Definition)
	assert.Equal(t, "custom", st.Grant)
	assert.Equal(t, clk.Now(), st.At)

	_, err := src.TokenContext(context.Background())
	require.NoError(t, err)
	st = src.Status()
	assert.Equal(t, TokenFresh, st.State)
	assert.Equal(t, clk.Now().Add(time.Hour), st.ExpiresAt)
	assert.Equal(t, clk.Now().Add(55*time.Minute), st.RenewAt, "the default window of a 1 h token is 5 min")
	assert.Equal(t, clk.Now(), st.LastFetch.UTC())
	assert.EqualValues(t, 1, st.Requests)
	assert.Equal(t, Lookups{Miss: 1}, st.Lookups)

	clk.Advance(56 * time.Minute)
	assert.Equal(t, TokenStale, src.Status().State)
	clk.Advance(5 * time.Minute)
	assert.Equal(t, TokenExpired, src.Status().State)

	f.setFail(errors.New("authorization server unreachable"))
	_, err = src.TokenContext(context.Background())
	require.Error(t, err)
	st = src.Status()
	assert.Equal(t, TokenBackingOff, st.State)
	assert.Equal(t, 1, st.Failures)
	assert.EqualValues(t, 2, st.Requests)
	assert.EqualValues(t, 1, st.RequestFailures)
	assert.Equal(t, "authorization server unreachable", st.LastError)
	assert.Equal(t, clk.Now(), st.LastErrorAt.UTC())
	assert.True(t, st.BackoffUntil.After(clk.Now()))

	f.setFail(nil)
	clk.Advance(time.Hour) // past any backoff
	_, err = src.TokenContext(context.Background())
	require.NoError(t, err)
	st = src.Status()
	assert.Equal(t, TokenFresh, st.State)
	assert.Zero(t, st.Failures)
	assert.True(t, st.BackoffUntil.IsZero())
	assert.Equal(t, "authorization server unreachable", st.LastError, "the last error stays, with its time")

	src.Close()
	st = src.Status()
	assert.Equal(t, TokenNone, st.State)
	assert.True(t, st.Closed)
}

// A registry's status lists its sources by name and its store; as JSON it
// has the documented field names and no token.
func TestRegistryStatus(t *testing.T) {
	clk := newClock()
	reg := NewRegistry(Options{Now: clk.Now, Store: cache.NewMemory(8, cache.WithClock(clk.Now))})
	t.Cleanup(func() { _ = reg.Close() })
	for _, name := range []string{"erp", "crm"} {
		require.NoError(t, reg.Add(NewSourceFrom(name, &fakeFetcher{clk: clk, life: time.Hour}, reg.opts)))
	}
	src, err := reg.Source("crm")
	require.NoError(t, err)
	tok, err := src.TokenContext(context.Background())
	require.NoError(t, err)

	st := reg.Status()
	require.Len(t, st.Sources, 2)
	assert.Equal(t, "crm", st.Sources[0].Definition)
	assert.Equal(t, TokenFresh, st.Sources[0].State)
	assert.Equal(t, TokenNone, st.Sources[1].State)
	require.NotNil(t, st.Store)
	assert.Equal(t, cache.Status{Kind: "memory", Healthy: true, Entries: 1}, *st.Store)

	b, err := json.Marshal(st)
	require.NoError(t, err)
	assert.NotContains(t, string(b), tok.AccessToken())
	var m map[string]any
	require.NoError(t, json.Unmarshal(b, &m))
	first := m["sources"].([]any)[0].(map[string]any)
	for _, k := range []string{"definition", "grant", "state", "at", "expires_at", "renew_at", "last_fetch", "requests", "lookups"} {
		assert.Contains(t, first, k)
	}
	assert.NotContains(t, first, "last_error", "empty fields are left out")
}
