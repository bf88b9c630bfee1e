package oauthclient

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

// watchedStore is one source's view of a shared memory store: it tells
// the test, once, that the store refused this source its lock (the source
// then waits for the holder), so that the test moves the clock only when
// every source is waiting.
type watchedStore struct {
	*cache.Memory
	once    sync.Once
	refused chan<- struct{}
}

func (w *watchedStore) TryLock(ctx context.Context, key string, ttl time.Duration) (func(context.Context) error, bool, error) {
	unlock, ok, err := w.Memory.TryLock(ctx, key, ttl)
	if !ok && err == nil {
		w.once.Do(func() { w.refused <- struct{}{} })
	}
	return unlock, ok, err
}

// receive waits for n values on ch; a minute without one means the
// behaviour under test is broken (a waiter that never waits, a fetch
// that never starts), whatever the machine's load.
// It returns the last value.
func receive[T any](t *testing.T, ch <-chan T, n int, what string) (v T) {
	t.Helper()
	for i := range n {
		select {
		case v = <-ch:
		case <-time.After(time.Minute):
			t.Fatalf("%s: %d of %d after a minute", what, i, n)
		}
	}
	return v
}

// A holder that dies with the lock: once it expires on the store's clock,
// one waiter fetches and the others take its token, rather than every
// waiter fetching.
func TestDeadLockHolderIsReplacedByOneWaiter(t *testing.T) {
	const sources, ttl = 5, 10 * time.Second
	clk := newClock()
	store := cache.NewMemory(10, cache.WithClock(clk.Now))
	f := &fakeFetcher{clk: clk, life: time.Hour}
	_, ok, err := store.TryLock(context.Background(), keyOf("fetcher", "crm"), ttl) // the dead holder of newTestSource's key
	require.NoError(t, err)
	require.True(t, ok)

	refused := make(chan struct{}, sources)
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = map[string]int{}
	)
	for range sources {
		s := newTestSource(f, Options{Store: &watchedStore{Memory: store, refused: refused}, LockTTL: ttl})
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := s.TokenContext(context.Background())
			if assert.NoError(t, err) {
				mu.Lock()
				seen[tok.AccessToken()]++
				mu.Unlock()
			}
		}()
	}
	receive(t, refused, sources, "sources waiting for the dead holder")
	assert.Zero(t, f.calls.Load(), "nobody fetches while the lock is held")
	clk.Advance(ttl) // the dead holder's lock expires
	wg.Wait()
	assert.Equal(t, int32(1), f.calls.Load(), "one waiter took over the expired lock")
	assert.Equal(t, map[string]int{"tok-1": sources}, seen)
}

// A holder whose fetch fails keeps the lock until it expires: the other
// sources do not each try in turn against a failing server. Time is the
// test's: one attempt per lock lifetime, and the waiters give up when
// they have waited two lifetimes, wherever the scheduler puts them.
func TestFailingLockHolderDoesNotCauseAStampede(t *testing.T) {
	const sources, ttl = 8, 10 * time.Second
	clk := newClock()
	store := cache.NewMemory(10, cache.WithClock(clk.Now))
	f := &fakeFetcher{clk: clk, life: time.Hour, started: make(chan struct{}, sources)}
	f.setFail(&Error{Definition: "crm", StatusCode: 503})
	refused := make(chan struct{}, sources)
	errs := make(chan error, sources)
	var wg sync.WaitGroup
	for range sources {
		s := newTestSource(f, Options{Store: &watchedStore{Memory: store, refused: refused}, LockTTL: ttl, MaxBackoffWait: -1})
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := s.TokenContext(context.Background())
			errs <- err
		}()
	}
	receive(t, f.started, 1, "the first holder's fetch")
	receive(t, refused, sources-1, "sources waiting for the holder")
	clk.Advance(ttl) // the failed holder's lock expires: one waiter takes over, and fails
	receive(t, f.started, 1, "the second holder's fetch")
	clk.Advance(ttl) // its lock expires as the waiters' two lifetimes end: the last attempt
	wg.Wait()
	close(errs)

	assert.Equal(t, int32(3), f.calls.Load(), "one fetch per lock lifetime, never one per source")
	var failed, gaveUp int
	for err := range errs {
		var oe *Error
		switch {
		case errors.As(err, &oe) && oe.StatusCode == 503:
			failed++
		case assert.ErrorContains(t, err, "holds the token lock and no token appeared within 20s"):
			gaveUp++
		}
	}
	assert.Equal(t, 3, failed, "the holders got the server's error")
	assert.Equal(t, sources-3, gaveUp, "the others gave up after two lock lifetimes")
}

// gate holds every token request at the door until it is opened, and
// tells the test of each.
type gate struct {
	arrived chan struct{}
	open    chan struct{}
}

func (g *gate) RoundTrip(r *http.Request) (*http.Response, error) {
	g.arrived <- struct{}{}
	<-g.open
	return http.DefaultTransport.RoundTrip(r)
}

// Sources sharing a memory store in one process make one token request
// on a cold start, as a fleet sharing Redis does: the store's lock lets
// one of them fetch while the others wait for its token. The caller
// whose call started that fetch gives up while the request is at the
// server; nobody else notices.
func TestMemoryStoreSharesOneFetchAcrossSources(t *testing.T) {
	const sources, callers = 20, 50
	as := oauthtest.NewServer()
	t.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: "svc", Secret: "s3cret", Scopes: []string{"read"}})
	g := &gate{arrived: make(chan struct{}, sources), open: make(chan struct{})}
	store := cache.NewMemory(0)
	refused := make(chan struct{}, sources)
	cfg := Config{Name: "crm", TokenURL: as.TokenURL(), ClientID: "svc", ClientSecret: NewSecret("s3cret"), Scopes: []string{"read"}}
	srcs := make([]*Source, sources)
	for i := range srcs {
		s, err := NewSource(cfg, Options{Store: &watchedStore{Memory: store, refused: refused}, HTTPClient: &http.Client{Transport: g}, AllowInsecureHTTP: true})
		require.NoError(t, err)
		t.Cleanup(s.Close)
		srcs[i] = s
	}

	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() {
		_, err := srcs[0].TokenContext(ctx)
		first <- err
	}()
	receive(t, g.arrived, 1, "the first source's token request")

	var wg sync.WaitGroup
	got := make(chan string, sources*callers)
	for _, s := range srcs {
		for range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				tok, err := s.TokenContext(context.Background())
				if assert.NoError(t, err) {
					got <- tok.AccessToken()
				}
			}()
		}
	}
	receive(t, refused, sources-1, "the other sources waiting for the lock's holder")
	cancel()
	assert.ErrorIs(t, receive(t, first, 1, "the cancelled caller"), context.Canceled)
	close(g.open)
	wg.Wait()
	close(got)

	assert.Equal(t, 1, as.Requests(""), "one token request for %d sources", sources)
	assert.Empty(t, g.arrived, "no second request reached the server")
	var tok string
	n := 0
	for v := range got {
		if tok == "" {
			tok = v
		}
		assert.Equal(t, tok, v, "every caller got the one token")
		n++
	}
	assert.Equal(t, sources*callers, n)
	assert.True(t, as.Valid(tok))
	for _, s := range srcs[1:] {
		assert.Equal(t, int64(1), s.Status().Lookups.Store, "%v took the holder's token from the store", s)
	}
}

// A source alone on a store that locks is never kept waiting for its own
// lock: after a failed fetch it keeps the lock (the others would wait),
// and its next attempt, after its backoff, is made under it.
func TestLoneSourceRetriesUnderTheLockItKept(t *testing.T) {
	clk := newClock()
	store := cache.NewMemory(10, cache.WithClock(clk.Now))
	f := &fakeFetcher{clk: clk, life: time.Hour}
	f.setFail(&Error{Definition: "crm", StatusCode: 503})
	s := newTestSource(f, Options{Store: store, LockTTL: time.Hour, MaxBackoffWait: -1})
	t.Cleanup(s.Close)
	_, err := s.TokenContext(context.Background())
	require.Error(t, err)
	_, ok, err := store.TryLock(context.Background(), s.key, time.Minute)
	require.NoError(t, err)
	require.False(t, ok, "the failed holder kept the lock")

	f.setFail(nil)
	clk.Advance(time.Minute) // past the backoff, well within the lock's hour
	done := make(chan error, 1)
	go func() { _, err := s.TokenContext(context.Background()); done <- err }()
	require.NoError(t, receive(t, done, 1, "the retry"))
	assert.Equal(t, int32(2), f.calls.Load())
	_, ok, _ = store.TryLock(context.Background(), s.key, time.Minute)
	assert.True(t, ok, "released once the fetch succeeded")
}

// A source that is closed (a definition reloaded, say with the secret
// that was wrong) releases the lock its failed fetch kept: the source
// replacing it fetches at once.
func TestClosedSourceReleasesTheLockItKept(t *testing.T) {
	clk := newClock()
	store := cache.NewMemory(10, cache.WithClock(clk.Now))
	f := &fakeFetcher{clk: clk, life: time.Hour}
	f.setFail(&Error{Definition: "crm", StatusCode: 401, Code: "invalid_client"})
	old := newTestSource(f, Options{Store: store, LockTTL: time.Hour, MaxBackoffWait: -1})
	_, err := old.TokenContext(context.Background())
	require.Error(t, err)
	old.Close()

	f.setFail(nil)
	next := newTestSource(f, Options{Store: store, LockTTL: time.Hour})
	t.Cleanup(next.Close)
	done := make(chan error, 1)
	go func() { _, err := next.TokenContext(context.Background()); done <- err }()
	require.NoError(t, receive(t, done, 1, "the new source's fetch"))
	assert.Equal(t, int32(2), f.calls.Load())
}

// A refresh token definition on the memory store retries after its
// backoff too: in the process its family's own lock keeps its requests
// apart, so the store's lock a failed refresh kept is not waited out.
func TestRefreshOnTheMemoryStoreRetriesUnderTheLockItKept(t *testing.T) {
	clk := newClock()
	as, seed := refreshSetup(t, clk)
	as.FailNext(1, oauthtest.OAuthError(http.StatusServiceUnavailable, "temporarily_unavailable", ""))
	store := cache.NewMemory(10, cache.WithClock(clk.Now))
	s, err := NewSource(refreshConfig(as, ValueSupplier(NewSecret(seed), time.Time{}), nil),
		Options{Store: store, Now: clk.Now, AllowInsecureHTTP: true, LockTTL: time.Hour, MaxBackoffWait: -1})
	require.NoError(t, err)
	t.Cleanup(s.Close)
	_, err = s.TokenContext(context.Background())
	require.Error(t, err)

	clk.Advance(time.Minute) // past the backoff, well within the lock's hour
	done := make(chan error, 1)
	go func() { _, err := s.TokenContext(context.Background()); done <- err }()
	require.NoError(t, receive(t, done, 1, "the retry"))
	assert.Equal(t, 2, as.Requests(""))
	assert.Zero(t, as.RefreshStats().Reused)
}
