package oauthclient_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

// Concurrent requests that all meet a 401 for one revoked token recover,
// also when a shared store still held that token.
func TestConcurrent401RecoveryWithStore(t *testing.T) {
	as := oauthtest.NewServer()
	t.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: "svc", Secret: "pw"})
	clk := &manualClock{t: time.Now()}
	api := httptest.NewServer(as.RequireToken(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})))
	t.Cleanup(api.Close)
	src, err := oauthclient.NewSource(oauthclient.Config{Name: "svc", TokenURL: as.TokenURL(), ClientID: "svc",
		ClientSecret: oauthclient.NewSecret("pw")}, oauthclient.Options{AllowInsecureHTTP: true, Store: cache.NewMemory(8), Now: clk.now})
	require.NoError(t, err)
	client, err := oauthclient.NewClient(src, api.URL)
	require.NoError(t, err)
	for round := range 30 {
		clk.add(2 * time.Second) // invalidations are at most one per MinBackoff (1s)
		as.RevokeAll()
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, api.URL, nil)
				resp, err := client.Do(req)
				if !assert.NoError(t, err) {
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				assert.Equal(t, http.StatusOK, resp.StatusCode, "round %d", round)
			}()
		}
		wg.Wait()
	}
}

// A backend that rejects every token costs at most one token request per
// MinBackoff, not one per call.
func TestAlways401DoesNotFetchPerRequest(t *testing.T) {
	as := oauthtest.NewServer()
	t.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: "svc", Secret: "pw"})
	var hits atomic.Int32
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(api.Close)
	clk := &manualClock{t: time.Now()}
	src, err := oauthclient.NewSource(oauthclient.Config{Name: "svc", TokenURL: as.TokenURL(), ClientID: "svc",
		ClientSecret: oauthclient.NewSecret("pw")}, oauthclient.Options{AllowInsecureHTTP: true, Now: clk.now})
	require.NoError(t, err)
	client, err := oauthclient.NewClient(src, api.URL)
	require.NoError(t, err)
	for range 50 {
		resp, err := client.Get(api.URL)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	}
	assert.Equal(t, 2, as.Requests("svc"), "the first 401 renews once; later ones within MinBackoff do not")
	assert.Equal(t, int32(51), hits.Load(), "one resend in all")
	clk.add(2 * time.Second)
	resp, err := client.Get(api.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 3, as.Requests("svc"))
}

type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *manualClock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *manualClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
