package backends

import (
	"context"
	"net/http"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/rest"
)

// Opening and closing a registry many times — each time fetching a token,
// so that every source arms its timers — leaves memory and goroutines
// flat: Close releases the sources' timers and tokens, the store and the
// idle connections at once.
func TestOpenCloseCyclesKeepMemoryFlat(t *testing.T) {
	_, reg := oauthSetup(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	crm, err := reg.REST("crm")
	require.NoError(t, err)
	base := crm.BaseURL()
	src, err := reg.security.Source("crm-oauth")
	require.NoError(t, err)
	tok, err := src.TokenContext(context.Background())
	require.NoError(t, err)
	static := oauthclient.FetcherFunc(func(context.Context) (*oauthclient.Token, error) { return tok, nil })

	cycle := func(n int) {
		for range n {
			r, err := Open(context.Background(), &Config{REST: map[string]ConnConfig{"crm": {ConnConfig: rest.ConnConfig{BaseURL: base}}}}, rest.AllowInsecureHTTP())
			require.NoError(t, err)
			s := oauthclient.NewSourceFrom("crm-oauth", static, oauthclient.Options{AllowInsecureHTTP: true})
			require.NoError(t, r.security.Add(s))
			_, err = s.TokenContext(context.Background()) // arms the timers
			require.NoError(t, err)
			require.NoError(t, r.Close())
			_, err = s.TokenContext(context.Background())
			require.ErrorIs(t, err, oauthclient.ErrClosed)
		}
	}
	cycle(300)
	goroutines, before := runtime.NumGoroutine(), heapAlloc()
	cycle(3000)
	after := heapAlloc()
	assert.Less(t, int64(after)-int64(before), int64(2<<20), "heap grew by %d bytes over 3000 open/close cycles", int64(after)-int64(before))
	assert.LessOrEqual(t, runtime.NumGoroutine(), goroutines+2, "goroutines left running")
}

func heapAlloc() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
