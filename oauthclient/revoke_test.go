package oauthclient_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

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
	as.AddClient("svc", "pw")
	api := httptest.NewServer(as.RequireToken(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})))
	t.Cleanup(api.Close)
	src, err := oauthclient.NewSource(oauthclient.Config{Name: "svc", TokenURL: as.TokenURL(), ClientID: "svc",
		ClientSecret: "pw", AllowInsecureHTTP: true}, oauthclient.Options{Store: cache.NewMemory(8)})
	require.NoError(t, err)
	client, err := oauthclient.NewClient(src, api.URL)
	require.NoError(t, err)
	for round := range 30 {
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
