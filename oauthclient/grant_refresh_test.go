package oauthclient

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/internal/oteltest"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

// forgetFamilies empties the process's memory of refresh token families,
// as a restart does.
func forgetFamilies(t *testing.T) {
	t.Helper()
	families.mu.Lock()
	families.m = nil
	families.mu.Unlock()
}

// refreshSetup is an authorization server on clk with a public client
// "app" holding one refresh token for alice.
func refreshSetup(t *testing.T, clk *clock) (*oauthtest.Server, string) {
	t.Helper()
	as := oauthtest.NewServer(oauthtest.WithClock(clk.Now))
	t.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: "app", Scopes: []string{"read"}})
	return as, as.IssueRefreshToken("app", "alice", "read")
}

func refreshConfig(as *oauthtest.Server, rt Supplier, onRotate func(context.Context, Secret) error) Config {
	return Config{Name: "saas", TokenURL: as.TokenURL(), ClientID: "app", Grant: RefreshToken{Token: rt, OnRotate: onRotate}}
}

// rotations records what OnRotate is told.
type rotations struct {
	mu  sync.Mutex
	got []string
}

func (r *rotations) note(_ context.Context, rt Secret) error {
	r.mu.Lock()
	r.got = append(r.got, rt.Reveal())
	r.mu.Unlock()
	return nil
}

func (r *rotations) list() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}

// Each refresh rotates the refresh token: the new one is in the store at
// once (a restarted process, which remembers nothing, uses it), OnRotate
// is told, and no refresh token is ever presented twice.
func TestRefreshRotationIsPersistedAndTold(t *testing.T) {
	clk := newClock()
	as, seed := refreshSetup(t, clk)
	store := &strictStore{Memory: cache.NewMemory(10, cache.WithClock(clk.Now))} // shared, as Redis
	var rot rotations
	cfg := refreshConfig(as, ValueSupplier(NewSecret(seed), time.Time{}), rot.note)
	opts := Options{Store: store, Now: clk.Now, AllowInsecureHTTP: true}

	s, err := NewSource(cfg, opts)
	require.NoError(t, err)
	tok, err := s.TokenContext(context.Background())
	require.NoError(t, err)
	assert.True(t, as.Valid(tok.AccessToken()))
	assert.Nil(t, tok.Extra("refresh_token"), "the refresh token is not handed out with the access token")
	require.Len(t, rot.list(), 1)
	assert.NotEqual(t, seed, rot.list()[0])

	// The store holds the rotated token under the family's record, and the
	// access token's entry holds no refresh token.
	p, err := s.prepare(context.Background())
	require.NoError(t, err)
	e, err := store.Get(context.Background(), recordKey(p.family))
	require.NoError(t, err)
	assert.Contains(t, string(e.Value), rot.list()[0])
	e, err = store.Get(context.Background(), p.key)
	require.NoError(t, err)
	assert.NotContains(t, string(e.Value), rot.list()[0])
	assert.NotContains(t, string(e.Value), seed)
	s.Close()

	// A restart: nothing in memory; the store's refresh token is used.
	for i := range 3 {
		forgetFamilies(t)
		clk.Advance(2 * time.Hour) // past the access token's expiry
		s, err := NewSource(cfg, opts)
		require.NoError(t, err)
		_, err = s.TokenContext(context.Background())
		require.NoError(t, err, "restart %d", i)
		s.Close()
	}
	st := as.RefreshStats()
	assert.Equal(t, 4, st.Used)
	assert.Zero(t, st.Reused, "no refresh token was used twice")
	assert.Zero(t, st.Refused)
	assert.Len(t, rot.list(), 4)
}

// Without a store, the process remembers the rotation: the definition a
// reload puts in place of another uses the newest refresh token, not the
// one the configuration holds.
func TestRefreshRotationSurvivesAReplacedSource(t *testing.T) {
	clk := newClock()
	as, seed := refreshSetup(t, clk)
	cfg := refreshConfig(as, ValueSupplier(NewSecret(seed), time.Time{}), nil)
	reg := NewRegistry(Options{Now: clk.Now, AllowInsecureHTTP: true})
	t.Cleanup(func() { _ = reg.Close() })
	for range 4 {
		require.NoError(t, reg.Define(cfg)) // releases the source it replaces
		src, err := reg.Source("saas")
		require.NoError(t, err)
		_, err = src.TokenContext(context.Background())
		require.NoError(t, err)
		clk.Advance(2 * time.Hour)
	}
	assert.Equal(t, oauthtest.RefreshStats{Issued: 5, Used: 4}, as.RefreshStats())
}

// invalid_grant stops renewal with a typed error and does not loop: no
// further request reaches the server, however often and however long
// callers ask, until a new refresh token is supplied.
func TestRefreshInvalidGrantDoesNotLoop(t *testing.T) {
	clk := newClock()
	as, good := refreshSetup(t, clk)
	var current atomic.Pointer[string]
	revoked := "not-a-refresh-token-of-this-server"
	current.Store(&revoked)
	sup := SupplierFunc(func(context.Context) (string, time.Time, error) { return *current.Load(), time.Time{}, nil })
	store := &strictStore{Memory: cache.NewMemory(10, cache.WithClock(clk.Now))} // shared, as Redis
	s, err := NewSource(refreshConfig(as, sup, nil), Options{Store: store, Now: clk.Now, AllowInsecureHTTP: true, MaxBackoffWait: -1})
	require.NoError(t, err)
	t.Cleanup(s.Close)

	_, err = s.TokenContext(context.Background())
	require.Error(t, err)
	var re *ReauthorizeError
	require.ErrorAs(t, err, &re)
	assert.ErrorIs(t, err, ErrReauthorize)
	assert.ErrorIs(t, err, ErrInvalidGrant)
	var oe *Error
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "invalid_grant", oe.Code)
	assert.Contains(t, err.Error(), "an administrator must authorise again")
	assert.NotContains(t, err.Error(), revoked)
	assert.Equal(t, 1, as.Requests(""))

	for range 200 { // a day of callers, through every backoff
		clk.Advance(10 * time.Minute)
		_, err := s.TokenContext(context.Background())
		require.ErrorIs(t, err, ErrReauthorize)
	}
	assert.Equal(t, 1, as.Requests(""), "a refused refresh token is never sent again")
	assert.Equal(t, int64(1), s.Status().Requests)

	// A second source of the family (another replica) sees the refusal in
	// the store and does not send it either.
	forgetFamilies(t)
	s2, err := NewSource(refreshConfig(as, sup, nil), Options{Store: store, Now: clk.Now, AllowInsecureHTTP: true})
	require.NoError(t, err)
	t.Cleanup(s2.Close)
	_, err = s2.TokenContext(context.Background())
	require.ErrorIs(t, err, ErrReauthorize)
	assert.Equal(t, 1, as.Requests(""))

	// Authorised again: the new refresh token is picked up after the
	// backoff, without a restart.
	current.Store(&good)
	clk.Advance(time.Hour)
	tok, err := s.TokenContext(context.Background())
	require.NoError(t, err)
	assert.True(t, as.Valid(tok.AccessToken()))
}

// A family whose refresh token the server refuses later (reuse detected
// elsewhere, an administrator revoking it) stops the same way.
func TestRefreshRevokedFamily(t *testing.T) {
	clk := newClock()
	as, seed := refreshSetup(t, clk)
	s, err := NewSource(refreshConfig(as, ValueSupplier(NewSecret(seed), time.Time{}), nil), Options{Now: clk.Now, AllowInsecureHTTP: true})
	require.NoError(t, err)
	t.Cleanup(s.Close)
	tok, err := s.TokenContext(context.Background())
	require.NoError(t, err)
	as.RevokeAll()
	assert.False(t, as.Valid(tok.AccessToken()), "the family's access tokens go too")
	clk.Advance(2 * time.Hour)
	_, err = s.TokenContext(context.Background())
	require.ErrorIs(t, err, ErrReauthorize)
	n := as.Requests("")
	clk.Advance(24 * time.Hour)
	_, err = s.TokenContext(context.Background())
	require.ErrorIs(t, err, ErrReauthorize)
	assert.Equal(t, n, as.Requests(""))
}

// Many sources of one family in one process, many callers each, contexts
// cancelled mid-flight, several token lifetimes: every refresh token is
// used once, and only once.
func TestRefreshConcurrentSourcesUseEachTokenOnce(t *testing.T) {
	clk := newClock()
	as, seed := refreshSetup(t, clk)
	as.SetLatency(2 * time.Millisecond) // fetches in flight while callers give up
	var rot rotations
	cfg := refreshConfig(as, ValueSupplier(NewSecret(seed), time.Time{}), rot.note)
	const sources, callers, lifetimes = 8, 25, 4
	store := cache.NewMemory(10, cache.WithClock(clk.Now))
	srcs := make([]*Source, sources)
	for i := range srcs {
		opts := Options{Now: clk.Now, AllowInsecureHTTP: true}
		if i%2 == 0 {
			opts.Store = store // half share a store, half only the process
		}
		s, err := NewSource(cfg, opts)
		require.NoError(t, err)
		t.Cleanup(s.Close)
		srcs[i] = s
	}
	for range lifetimes {
		var wg sync.WaitGroup
		for _, s := range srcs {
			for c := range callers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ctx, cancel := context.WithCancel(context.Background())
					if c%3 == 0 {
						cancel() // gives up at once: the shared fetch goes on
					}
					defer cancel()
					if _, err := s.TokenContext(ctx); err != nil && !errors.Is(err, context.Canceled) {
						t.Error(err)
					}
				}()
			}
		}
		wg.Wait()
		for _, s := range srcs { // every source ends the lifetime with a token
			_, err := s.TokenContext(context.Background())
			require.NoError(t, err)
		}
		clk.Advance(2 * time.Hour)
	}
	st := as.RefreshStats()
	assert.Zero(t, st.Reused, "a refresh token was used twice")
	assert.Zero(t, st.Refused)
	assert.Equal(t, st.Issued-1, st.Used, "every rotated-in token but the newest was used, once")
	assert.Len(t, rot.list(), st.Used)
}

// strictStore is a shared store whose backend is down: its strict
// operations fail, while its forgiving ones fall back as Redis's do.
type strictStore struct {
	*cache.Memory
	lockErr, getErr error
	locks           atomic.Int32
}

func (s *strictStore) TryLock(context.Context, string, time.Duration) (func(context.Context) error, bool, error) {
	return func(context.Context) error { return nil }, true, nil // everyone proceeds: fine for access tokens only
}

func (s *strictStore) StrictTryLock(context.Context, string, time.Duration) (func(context.Context) error, bool, error) {
	s.locks.Add(1)
	if s.lockErr != nil {
		return nil, false, s.lockErr
	}
	return func(context.Context) error { return nil }, true, nil
}

func (s *strictStore) StrictGet(ctx context.Context, key string) (cache.Entry, error) {
	if s.getErr != nil {
		return cache.Entry{}, s.getErr
	}
	return s.Get(ctx, key)
}

func (s *strictStore) StrictSet(ctx context.Context, key string, e cache.Entry) error {
	return s.Set(ctx, key, e)
}

// When the shared store cannot lock or be read, a refresh token is not
// used (another replica may be using it): no request is made, and the
// error says why.
func TestRefreshNeverWithoutTheFleetLock(t *testing.T) {
	for name, st := range map[string]*strictStore{
		"lock fails": {lockErr: errors.New("redis: connection refused")},
		"read fails": {getErr: errors.New("redis: i/o timeout")},
	} {
		t.Run(name, func(t *testing.T) {
			clk := newClock()
			as, seed := refreshSetup(t, clk)
			st.Memory = cache.NewMemory(10, cache.WithClock(clk.Now))
			s, err := NewSource(refreshConfig(as, ValueSupplier(NewSecret(seed), time.Time{}), nil),
				Options{Store: st, Now: clk.Now, AllowInsecureHTTP: true, MaxBackoffWait: -1})
			require.NoError(t, err)
			t.Cleanup(s.Close)
			_, err = s.TokenContext(context.Background())
			require.Error(t, err)
			assert.Contains(t, err.Error(), "refresh token")
			assert.Zero(t, as.Requests(""))
			assert.Equal(t, int32(1), st.locks.Load(), "the strict lock was asked, not the forgiving one")
		})
	}
}

// A refresh request is bounded by half the fleet lock's lifetime, so that
// the lock never expires while a refresh token is in flight: a server that
// never answers is given up on then, not at the definition's timeout
// (an hour here, which the test would not outlive).
func TestRefreshRequestIsBoundedByTheLock(t *testing.T) {
	clk := newClock()
	as, seed := refreshSetup(t, clk)
	as.SetLatency(time.Hour) // never answers
	st := &strictStore{Memory: cache.NewMemory(10, cache.WithClock(clk.Now))}
	cfg := refreshConfig(as, ValueSupplier(NewSecret(seed), time.Time{}), nil)
	cfg.Timeout = time.Hour
	s, err := NewSource(cfg, Options{Store: st, Now: clk.Now, AllowInsecureHTTP: true, LockTTL: time.Second, MaxBackoffWait: -1})
	require.NoError(t, err)
	t.Cleanup(s.Close)
	done := make(chan error, 1)
	go func() { _, err := s.TokenContext(context.Background()); done <- err }()
	err = receive(t, done, 1, "the refresh request")
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

// A supplier that fails after it once worked (a file being replaced) does
// not stop renewal: the family it named is used.
func TestRefreshSupplierFailureUsesTheLastSeed(t *testing.T) {
	clk := newClock()
	as, seed := refreshSetup(t, clk)
	var fail atomic.Bool
	sup := SupplierFunc(func(context.Context) (string, time.Time, error) {
		if fail.Load() {
			return "", time.Time{}, errors.New("file being replaced")
		}
		return seed, time.Time{}, nil
	})
	s, err := NewSource(refreshConfig(as, sup, nil), Options{Now: clk.Now, AllowInsecureHTTP: true})
	require.NoError(t, err)
	t.Cleanup(s.Close)
	_, err = s.TokenContext(context.Background())
	require.NoError(t, err)
	fail.Store(true)
	clk.Advance(2 * time.Hour)
	_, err = s.TokenContext(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 2, as.RefreshStats().Used)
}

// The status snapshot and telemetry name the grant.
func TestRefreshStatusNamesTheGrant(t *testing.T) {
	clk := newClock()
	as, seed := refreshSetup(t, clk)
	s, err := NewSource(refreshConfig(as, ValueSupplier(NewSecret(seed), time.Time{}), nil), Options{Now: clk.Now, AllowInsecureHTTP: true})
	require.NoError(t, err)
	t.Cleanup(s.Close)
	st := s.Status()
	assert.Equal(t, "refresh_token", st.Grant)
	assert.Equal(t, AuthNone, st.AuthMethod)
}

// Telemetry names the grant, and counts the refused request once: the
// attempts that send nothing are no token requests.
func TestRefreshTelemetry(t *testing.T) {
	kit := oteltest.New(t)
	clk := newClock()
	as, seed := refreshSetup(t, clk)
	opts := Options{Now: clk.Now, AllowInsecureHTTP: true, MaxBackoffWait: -1, MeterProvider: kit.MeterProvider, TracerProvider: kit.TracerProvider}
	good, err := NewSource(refreshConfig(as, ValueSupplier(NewSecret(seed), time.Time{}), nil), opts)
	require.NoError(t, err)
	t.Cleanup(good.Close)
	_, err = good.TokenContext(context.Background())
	require.NoError(t, err)
	cfg := refreshConfig(as, ValueSupplier(NewSecret("refused-refresh-token"), time.Time{}), nil)
	cfg.Name = "refused"
	bad, err := NewSource(cfg, opts)
	require.NoError(t, err)
	t.Cleanup(bad.Close)
	for range 5 {
		_, err = bad.TokenContext(context.Background())
		require.ErrorIs(t, err, ErrReauthorize)
		clk.Advance(time.Hour)
	}
	req := kit.Metric(t, "tokenwire.token.requests")
	grant := attrGrant.String("refresh_token")
	assert.EqualValues(t, 1, oteltest.Sum(t, req, attrDefinition.String("saas"), grant, attrOutcome.String("success")))
	assert.EqualValues(t, 1, oteltest.Sum(t, req, attrDefinition.String("refused"), grant, attrOutcome.String("invalid_grant")))
	assert.Equal(t, int64(1), bad.Status().Requests)
	assert.Equal(t, int64(1), bad.Status().RequestFailures)
	assert.Contains(t, bad.Status().LastError, "an administrator must authorise again")
}

// The process forgets a family once the last source using it is closed:
// no table outlives Close, and what survives is in the places of record.
func TestRefreshFamilyIsForgottenAfterClose(t *testing.T) {
	forgetFamilies(t)
	clk := newClock()
	as, seed := refreshSetup(t, clk)
	cfg := refreshConfig(as, ValueSupplier(NewSecret(seed), time.Time{}), nil)
	a, err := NewSource(cfg, Options{Now: clk.Now, AllowInsecureHTTP: true})
	require.NoError(t, err)
	b, err := NewSource(cfg, Options{Now: clk.Now, AllowInsecureHTTP: true})
	require.NoError(t, err)
	for _, s := range []*Source{a, b} {
		_, err := s.TokenContext(context.Background())
		require.NoError(t, err)
	}
	assert.Equal(t, 1, families.size(), "two sources of one family share it")
	a.Close()
	assert.Equal(t, 1, families.size(), "b still uses it")
	clk.Advance(2 * time.Hour)
	_, err = b.TokenContext(context.Background())
	require.NoError(t, err, "b goes on with the rotation a made")
	b.Close()
	b.Close()
	assert.Zero(t, families.size())
	assert.Zero(t, as.RefreshStats().Reused)
}
