package oauthclient_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

// Every goroutine the library starts (shared fetches, renewals, timers)
// ends: after a busy run with cancellations, invalidations, failures and
// renewals, the goroutine count returns to where it was.
func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	as := oauthtest.NewServer(oauthtest.WithTokenLifetime(time.Hour))
	as.AddClient(oauthtest.Client{ID: "svc", Secret: "pw"})
	api := httptest.NewServer(as.RequireToken(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})))
	base := &http.Transport{}

	src, err := oauthclient.NewSource(oauthclient.Config{Name: "svc", TokenURL: as.TokenURL(), ClientID: "svc",
		ClientSecret: oauthclient.NewSecret("pw")}, oauthclient.Options{AllowInsecureHTTP: true, Store: cache.NewMemory(4), MinBackoff: time.Nanosecond,
		HTTPClient: &http.Client{Transport: base}})
	require.NoError(t, err)
	tr, err := oauthclient.NewTransport(src, base, api.URL)
	require.NoError(t, err)
	client := &http.Client{Transport: tr}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithCancel(context.Background())
			if i%5 == 0 {
				cancel() // cancelled before or during the shared fetch
			}
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, api.URL, nil)
			if resp, err := client.Do(req); err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			if i%10 == 0 {
				as.RevokeAll() // 401 → invalidate → fetch → resend
			}
		}()
	}
	wg.Wait()
	as.FailNext(1, oauthtest.OAuthError(http.StatusServiceUnavailable, "temporarily_unavailable", ""))
	tok, err := src.TokenContext(context.Background())
	if err == nil {
		src.Invalidate(tok)
	}
	_, _ = src.TokenContext(context.Background())

	base.CloseIdleConnections()
	api.Close()
	as.Close()
	// Polled in this goroutine: require.Eventually would add goroutines of
	// its own to the count.
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines: before %d, now %d\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		base.CloseIdleConnections()
		<-tick.C
	}
}
