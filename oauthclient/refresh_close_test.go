package oauthclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache"
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
	as.AddClient(oauthtest.Client{ID: "app", Scopes: []string{"read"}})
	seed := as.IssueRefreshToken("app", "alice", "read")
	url, arrived, release, answered := holdFirstRequest(t, as)
	cfg := Config{Name: "saas", TokenURL: url, ClientID: "app", Grant: RefreshToken{Token: ValueSupplier(NewSecret(seed), time.Time{})}}
	opts := Options{AllowInsecureHTTP: true}
	ctx := context.Background()

	old, err := NewSource(cfg, opts)
	require.NoError(t, err)
	go func() { _, _ = old.TokenContext(ctx) }()
	<-arrived
	closed := make(chan struct{})
	go func() { old.Close(); close(closed) }() // it returns once the request in flight is answered
	for !refreshClosed(old) {
		runtime.Gosched()
	}

	renewed, err := NewSource(cfg, opts)
	require.NoError(t, err)
	t.Cleanup(renewed.Close)
	done := make(chan error, 1)
	go func() { _, err := renewed.TokenContext(ctx); done <- err }()
	waitForFamily(t, renewed) // it takes the family (or a new one) before it waits for its lock
	close(release)
	assert.NoError(t, <-done)
	<-answered
	<-closed
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

// holdFirstRequest is a token endpoint in front of as that holds the
// first request until release is closed (arrived is closed when it
// comes; answered when it was answered) and forwards every request.
func holdFirstRequest(t *testing.T, as *oauthtest.Server) (url string, arrived, release, answered chan struct{}) {
	t.Helper()
	arrived, release, answered = make(chan struct{}), make(chan struct{}), make(chan struct{})
	var first atomic.Bool
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if first.CompareAndSwap(false, true) {
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
	return front.URL, arrived, release, answered
}

// failingSetStore is a shared store whose writes fail while failSet is
// set: the link to Redis cut.
type failingSetStore struct {
	*strictStore
	failSet atomic.Bool
}

func (s *failingSetStore) StrictSet(ctx context.Context, key string, e cache.Entry) error {
	if s.failSet.Load() {
		return errors.New("redis: set: connection refused")
	}
	return s.strictStore.StrictSet(ctx, key, e)
}

// A source closed while its refresh is in flight, whose rotation then
// misses the store: another open source of the family in the process
// keeps the rotation, and when its own write back fails too, it must
// write it back as soon as the store answers. The closed grant must not
// leave the family marked as being written back by a goroutine it never
// started.
func TestRefreshRepublishedAfterAGrantClosedMidRotation(t *testing.T) {
	as := oauthtest.NewServer()
	t.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: "app", Scopes: []string{"read"}})
	seed := as.IssueRefreshToken("app", "alice", "read")
	url, arrived, release, answered := holdFirstRequest(t, as)
	store := &failingSetStore{strictStore: &strictStore{Memory: cache.NewMemory(10)}}
	cfg := Config{Name: "saas", TokenURL: url, ClientID: "app", Grant: RefreshToken{Token: ValueSupplier(NewSecret(seed), time.Time{})}}
	opts := Options{AllowInsecureHTTP: true, Store: store, MaxBackoffWait: -1}
	ctx := context.Background()

	old, err := NewSource(cfg, opts)
	require.NoError(t, err)
	go func() { _, _ = old.TokenContext(ctx) }()
	<-arrived
	other, err := NewSource(cfg, opts)
	require.NoError(t, err)
	t.Cleanup(other.Close)
	got := make(chan *Token, 1)
	go func() { tok, _ := other.TokenContext(ctx); got <- tok }()
	waitForFamily(t, other) // the family is other's too now

	store.failSet.Store(true)
	closed := make(chan struct{})
	go func() { old.Close(); close(closed) }() // it returns once the request in flight is answered
	for !refreshClosed(old) {
		runtime.Gosched()
	}
	close(release)
	<-answered
	<-closed
	tok := <-got // the old source's token, from the store
	require.NotNil(t, tok)
	other.Invalidate(tok)
	_, err = other.TokenContext(ctx)
	require.Error(t, err, "the rotation cannot be written back yet")
	store.failSet.Store(false)

	key := familyKey(seed)
	gen := int64(-1)
	for range 1000 { // a bound for a hang, not a measurement
		if e, err := store.StrictGet(ctx, recordKey(key)); err == nil {
			var rec refreshRecord
			require.NoError(t, json.Unmarshal(e.Value, &rec))
			if gen = rec.Gen; gen == 1 && rec.Sending == "" {
				break
			}
		}
		time.Sleep(10 * time.Millisecond) // polling the store, which sends no signal
	}
	assert.Equal(t, int64(1), gen, "the rotation was never written back")
	assert.Zero(t, as.RefreshStats().Reused)
}

// A source closed while its refresh request is at the server (a replica
// stopped by a deploy) returns from Close only once the answer is in the
// places of record: the process may exit right after, and an intent it
// left behind would hold every other replica of the fleet back until an
// operator came.
func TestCloseWaitsForTheRefreshInFlight(t *testing.T) {
	as := oauthtest.NewServer()
	t.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: "app", Scopes: []string{"read"}})
	seed := as.IssueRefreshToken("app", "alice", "read")
	url, arrived, release, _ := holdFirstRequest(t, as)
	store := &strictStore{Memory: cache.NewMemory(10)} // shared, as Redis
	cfg := Config{Name: "saas", TokenURL: url, ClientID: "app", Grant: RefreshToken{Token: ValueSupplier(NewSecret(seed), time.Time{})}}
	src, err := NewSource(cfg, Options{AllowInsecureHTTP: true, Store: store})
	require.NoError(t, err)
	go func() { _, _ = src.TokenContext(context.Background()) }()
	<-arrived // its intent is in the store

	type stored struct {
		rec refreshRecord
		err error
	}
	afterClose := make(chan stored, 1)
	go func() {
		src.Close()
		var got stored
		e, err := store.StrictGet(context.Background(), recordKey(familyKey(seed)))
		if got.err = err; err == nil {
			got.err = json.Unmarshal(e.Value, &got.rec)
		}
		afterClose <- got // what a process exiting now leaves behind
	}()
	for !refreshClosed(src) {
		runtime.Gosched()
	}
	close(release)
	got := <-afterClose
	require.NoError(t, got.err)
	assert.Empty(t, got.rec.Sending, "an intent was left behind")
	assert.Equal(t, int64(1), got.rec.Gen, "the rotation is in the store")
	assert.Equal(t, 1, as.RefreshStats().Used)
}

// refreshClosed reports whether src's refresh grant is closed: Close was
// called and has got as far as waiting for the refresh in progress.
func refreshClosed(src *Source) bool {
	g := src.fetcher.(*tokenEndpoint).grant.(*refreshGrant)
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.closed
}
