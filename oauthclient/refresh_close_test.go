package oauthclient

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

// A source closed while its refresh request is at the server, and a new
// source of the same family made meanwhile (a definition removed and
// added again, an application rebuilding its source): the closed one's
// request still completes and rotates the token, so the family must stay
// the process's one while that request uses it. Were it forgotten at
// Close, the new source would start the family afresh with the
// configuration's token — the one in flight.
func TestRefreshFamilyOutlivesCloseWhileARequestUsesIt(t *testing.T) {
	as := oauthtest.NewServer()
	t.Cleanup(as.Close)
	as.AddPublicClient("app", "read")
	seed := as.IssueRefreshToken("app", "alice", "read")
	arrived, release, answered := make(chan struct{}), make(chan struct{}), make(chan struct{})
	var first atomic.Bool
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if first.CompareAndSwap(false, true) { // the closed source's request: held at the server
			close(arrived)
			<-release
			defer close(answered)
		}
		req, _ := http.NewRequestWithContext(context.WithoutCancel(r.Context()), http.MethodPost, as.TokenURL(), bytes.NewReader(body))
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.Header().Set("Content-Type", resp.Header.Get("Content-Type"))
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	}))
	t.Cleanup(front.Close)
	cfg := Config{Name: "saas", TokenURL: front.URL, ClientID: "app", Grant: RefreshToken{Token: ValueSupplier(NewSecret(seed), time.Time{})}}
	opts := Options{AllowInsecureHTTP: true}
	ctx := context.Background()

	old, err := NewSource(cfg, opts)
	require.NoError(t, err)
	go func() { _, _ = old.TokenContext(ctx) }()
	<-arrived
	old.Close()

	renewed, err := NewSource(cfg, opts)
	require.NoError(t, err)
	t.Cleanup(renewed.Close)
	done := make(chan error, 1)
	go func() { _, err := renewed.TokenContext(ctx); done <- err }()
	waitForFamily(t, renewed) // it takes the family (or a new one) before it waits for its lock
	close(release)
	assert.NoError(t, <-done)
	<-answered
	assert.Zero(t, as.RefreshStats().Reused, "the token in flight was sent again")
}

// waitForFamily waits until src's refresh grant has taken a family.
func waitForFamily(t *testing.T, src *Source) {
	t.Helper()
	g := src.fetcher.(*tokenEndpoint).grant.(*refreshGrant)
	for range 10000 { // a bound for a hang, not a measurement
		g.mu.Lock()
		n := len(g.fams)
		g.mu.Unlock()
		if n > 0 {
			return
		}
		time.Sleep(time.Millisecond) // polling another goroutine's progress, which sends no signal
	}
	t.Fatal("the source never took its family")
}
