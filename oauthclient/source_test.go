package oauthclient

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/internal/fakeclock"
	"github.com/tokenwire/tokenwire/internal/logbuf"
)

// clock is a manual clock for tests: time moves only when told.
type clock = fakeclock.Clock

func newClock() *clock { return fakeclock.At(t0.UTC()) }

// fakeFetcher issues numbered tokens with a fixed lifetime. When gate is
// set, each fetch blocks until a value is sent on it (or it is closed).
type fakeFetcher struct {
	clk     *clock
	life    time.Duration
	calls   atomic.Int32
	gate    chan struct{}
	started chan struct{} // receives once per fetch, if set
	mu      sync.Mutex
	fail    error
}

func (f *fakeFetcher) Fetch(ctx context.Context) (*Token, error) {
	n := f.calls.Add(1)
	if f.started != nil {
		f.started <- struct{}{}
	}
	if f.gate != nil {
		<-f.gate
	}
	f.mu.Lock()
	err := f.fail
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	now := f.clk.Now()
	return newToken(fmt.Sprintf("tok-%d", n), "Bearer", "", now, now.Add(f.life), nil), nil
}

func (f *fakeFetcher) setFail(err error) { f.mu.Lock(); f.fail = err; f.mu.Unlock() }

func newTestSource(f *fakeFetcher, opts Options) *Source {
	opts.Now = f.clk.Now
	return NewSourceFrom("crm", f, opts)
}

func TestColdStartStampedeMakesOneFetch(t *testing.T) {
	f := &fakeFetcher{clk: newClock(), life: time.Hour, gate: make(chan struct{})}
	s := newTestSource(f, Options{})
	const n = 1000
	var wg sync.WaitGroup
	got := make(chan string, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := s.TokenContext(context.Background())
			if assert.NoError(t, err) {
				got <- tok.AccessToken()
			}
		}()
	}
	close(f.gate)
	wg.Wait()
	close(got)
	for v := range got {
		assert.Equal(t, "tok-1", v)
	}
	assert.Equal(t, int32(1), f.calls.Load())
}

func TestRenewalInBackgroundNobodyWaits(t *testing.T) {
	f := &fakeFetcher{clk: newClock(), life: time.Hour}
	s := newTestSource(f, Options{})
	_, err := s.TokenContext(context.Background())
	require.NoError(t, err)

	f.gate, f.started = make(chan struct{}), make(chan struct{}, 1)
	f.clk.Advance(time.Hour - time.Minute) // 1 minute left: inside the 5-minute window
	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := s.TokenContext(context.Background())
			assert.NoError(t, err)
			assert.Equal(t, "tok-1", tok.AccessToken(), "callers keep the valid token while it renews")
		}()
	}
	wg.Wait() // all 100 returned while the renewal is still blocked
	<-f.started
	close(f.gate)
	require.Eventually(t, func() bool {
		tok, err := s.TokenContext(context.Background())
		return err == nil && tok.AccessToken() == "tok-2"
	}, 5*time.Second, time.Millisecond)
	assert.Equal(t, int32(2), f.calls.Load(), "exactly one renewal")
}

func TestCancelledCallerDoesNotCancelSharedFetch(t *testing.T) {
	f := &fakeFetcher{clk: newClock(), life: time.Hour, gate: make(chan struct{}), started: make(chan struct{}, 1)}
	s := newTestSource(f, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := s.TokenContext(ctx); errc <- err }()
	<-f.started
	other := make(chan *Token, 1)
	go func() { tok, _ := s.TokenContext(context.Background()); other <- tok }()
	cancel()
	err := <-errc
	assert.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), `"crm"`)
	close(f.gate)
	tok := <-other
	require.NotNil(t, tok)
	assert.Equal(t, "tok-1", tok.AccessToken())
	assert.Equal(t, int32(1), f.calls.Load())
}

func TestOutageKeepsServingValidTokenThenRecovers(t *testing.T) {
	f := &fakeFetcher{clk: newClock(), life: time.Hour}
	s := newTestSource(f, Options{MinBackoff: time.Second, MaxBackoff: time.Minute, MaxBackoffWait: -1}) // fail fast: TestCallerWaitsForTheNextAttempt waits
	_, err := s.TokenContext(context.Background())
	require.NoError(t, err)
	f.setFail(&Error{Definition: "crm", StatusCode: 503})

	f.clk.Advance(56 * time.Minute) // in the renewal window
	waitFetches := func(n int32) {
		t.Helper()
		require.Eventually(t, func() bool { return f.calls.Load() == n && !s.fetching.Load() }, 5*time.Second, time.Millisecond)
	}
	for range 1000 { // a thousand callers during the outage: one failed renewal, no storm
		tok, err := s.TokenContext(context.Background())
		require.NoError(t, err)
		assert.Equal(t, "tok-1", tok.AccessToken())
	}
	waitFetches(2)
	for range 1000 {
		_, _ = s.TokenContext(context.Background())
	}
	waitFetches(2) // still backing off
	f.clk.Advance(time.Second)
	_, _ = s.TokenContext(context.Background())
	waitFetches(3) // next attempt after the backoff

	f.clk.Advance(10 * time.Minute) // the token has now really expired
	_, err = s.TokenContext(context.Background())
	require.Error(t, err)
	calls := f.calls.Load()
	for range 100 { // callers without a token fail fast during backoff
		_, err = s.TokenContext(context.Background())
		var be *BackoffError
		require.ErrorAs(t, err, &be)
	}
	assert.Equal(t, calls, f.calls.Load(), "no fetch during backoff")

	f.setFail(nil)
	f.clk.Advance(2 * time.Minute)
	tok, err := s.TokenContext(context.Background())
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprintf("tok-%d", calls+1), tok.AccessToken())
}

func TestPermanentErrorsBackOffLonger(t *testing.T) {
	f := &fakeFetcher{clk: newClock(), life: time.Hour}
	f.setFail(&Error{Definition: "crm", StatusCode: 401, Code: "invalid_client"})
	s := newTestSource(f, Options{MinBackoff: time.Second, MaxBackoff: 10 * time.Minute})
	_, err := s.TokenContext(context.Background())
	require.ErrorIs(t, err, ErrInvalidClient)
	f.clk.Advance(10 * time.Second) // a transient error would be retried by now
	_, err = s.TokenContext(context.Background())
	require.ErrorIs(t, err, ErrInvalidClient, "the backoff error wraps the cause")
	var be *BackoffError
	require.ErrorAs(t, err, &be)
	assert.Equal(t, int32(1), f.calls.Load())
	assert.Equal(t, 1, strings.Count(err.Error(), "security definition"), "the definition is named once: %v", err)
}

func TestRetryAfterIsHonoured(t *testing.T) {
	f := &fakeFetcher{clk: newClock(), life: time.Hour}
	f.setFail(&Error{Definition: "crm", StatusCode: 429, RetryAfter: 30 * time.Second})
	s := newTestSource(f, Options{MinBackoff: time.Second, MaxBackoffWait: -1}) // fail fast: TestCallerWaitsForTheNextAttempt waits
	_, err := s.TokenContext(context.Background())
	require.Error(t, err)
	f.clk.Advance(29 * time.Second)
	_, err = s.TokenContext(context.Background())
	require.ErrorAs(t, err, new(*BackoffError))
	assert.Equal(t, int32(1), f.calls.Load())
	f.clk.Advance(time.Second)
	_, _ = s.TokenContext(context.Background())
	assert.Equal(t, int32(2), f.calls.Load())
}

func TestInvalidateOnlyTheCurrentToken(t *testing.T) {
	f := &fakeFetcher{clk: newClock(), life: time.Hour}
	s := newTestSource(f, Options{})
	old, err := s.TokenContext(context.Background())
	require.NoError(t, err)
	s.Invalidate(old)
	fresh, err := s.TokenContext(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "tok-2", fresh.AccessToken())
	s.Invalidate(old) // stale: must not throw away tok-2
	again, err := s.TokenContext(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "tok-2", again.AccessToken())
	assert.Equal(t, int32(2), f.calls.Load())
	s.Invalidate(nil)
}

func TestSourcesShareTokensThroughStore(t *testing.T) {
	clk := newClock()
	store := cache.NewMemory(10, cache.WithClock(clk.Now))
	f := &fakeFetcher{clk: clk, life: time.Hour}
	a := newTestSource(f, Options{Store: store})
	b := newTestSource(f, Options{Store: store})
	ta, err := a.TokenContext(context.Background())
	require.NoError(t, err)
	tb, err := b.TokenContext(context.Background())
	require.NoError(t, err)
	assert.Equal(t, ta.AccessToken(), tb.AccessToken())
	assert.Equal(t, int32(1), f.calls.Load())

	a.Invalidate(ta) // a backend rejected it: the shared copy goes too
	_, err = store.Get(context.Background(), a.key)
	assert.ErrorIs(t, err, cache.ErrNotFound)
}

func TestTokenMethodImplementsOAuth2(t *testing.T) {
	f := &fakeFetcher{clk: newClock(), life: time.Hour}
	s := newTestSource(f, Options{})
	o, err := s.Token()
	require.NoError(t, err)
	assert.Equal(t, "tok-1", o.AccessToken)
	assert.Equal(t, "Bearer", o.TokenType)
	o2, err := s.Token()
	require.NoError(t, err)
	assert.Same(t, o, o2, "the warm path hands out the precomputed token")
}

func TestSecretsNeverInErrorsOrLogs(t *testing.T) {
	const secret = "SUPER-secret-value-123"
	var logs logbuf.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r := newEchoServer(t)
	cfg := Config{Name: "crm", TokenURL: r.URL, ClientID: "id", ClientSecret: NewSecret(secret)}
	var errs []string
	for _, m := range []AuthMethod{AuthClientSecretBasic, AuthClientSecretPost} {
		cfg.AuthMethod = m
		s, err := NewSource(cfg, Options{Logger: logger, AllowInsecureHTTP: true})
		require.NoError(t, err)
		_, err = s.TokenContext(context.Background())
		require.Error(t, err)
		errs = append(errs, err.Error(), fmt.Sprintf("%v %+v %#v %s", err, err, err, err))
	}
	errs = append(errs, fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg), fmt.Sprint(&cfg))
	logger.Info("config", "def", cfg)
	basic := base64.StdEncoding.EncodeToString([]byte("id:" + secret))
	for _, e := range errs {
		assert.NotContains(t, e, secret)
		assert.NotContains(t, e, basic)
	}
	assert.NotContains(t, logs.String(), secret)
	assert.Contains(t, logs.String(), "token fetch failed")
}

func TestTokenNeverPrintsItsValue(t *testing.T) {
	tok := newToken("VALUE-xyz-987", "Bearer", "read", t0, t0.Add(time.Hour), nil)
	var logs bytes.Buffer
	slog.New(slog.NewTextHandler(&logs, nil)).Info("t", "token", tok)
	for _, s := range []string{fmt.Sprintf("%v %+v %#v %s %q", tok, tok, tok, tok, tok), logs.String(), tok.String()} {
		assert.NotContains(t, s, "VALUE-xyz-987")
	}
	assert.True(t, errors.Is(&Error{Code: "invalid_scope"}, ErrInvalidScope))
}

// With the real clock the phases flip by timers: a short-lived token goes
// stale, and the next caller starts the renewal and keeps the valid token.
// The first token lives a second, which no pause of a busy machine
// between its fetch and its check outlasts; the renewed one an hour: were
// it short-lived too, a pause after it came would make it stale, and the
// renewal a caller then starts could replace it after Invalidate.
func TestRealClockTimersRenew(t *testing.T) {
	var n atomic.Int32
	f := FetcherFunc(func(context.Context) (*Token, error) {
		now, life := time.Now(), time.Hour
		if n.Load() == 0 {
			life = time.Second
		}
		return NewToken(fmt.Sprintf("tok-%d", n.Add(1)), "Bearer", now, now.Add(life)), nil
	})
	s := NewSourceFrom("crm", f, Options{}) // renewal window: 500ms (half the lifetime)
	tok, err := s.TokenContext(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "tok-1", tok.AccessToken())
	require.Eventually(t, func() bool {
		tok, err := s.TokenContext(context.Background())
		return err == nil && tok.AccessToken() != "tok-1"
	}, 10*time.Second, time.Millisecond)
	c := s.cur.Load()
	require.NotNil(t, c)
	s.Invalidate(c.tok)
	assert.Nil(t, s.cur.Load())
}

func TestNewSourceWithRealClockUsesTimers(t *testing.T) {
	s, err := NewSource(Config{Name: "crm", TokenURL: "https://idp.example.com/token", ClientID: "a", ClientSecret: NewSecret("b")}, Options{})
	require.NoError(t, err)
	assert.True(t, s.timed, "no clock read on the hot path")
	s, err = NewSource(Config{Name: "crm", TokenURL: "https://idp.example.com/token", ClientID: "a", ClientSecret: NewSecret("b")}, Options{Now: time.Now})
	require.NoError(t, err)
	assert.False(t, s.timed)
}

// A token invalidated while the shared store still holds it is never taken
// back from the store by the fetch that follows.
func TestInvalidatedTokenNotReadBackFromStore(t *testing.T) {
	clk := newClock()
	store := cache.NewMemory(10, cache.WithClock(clk.Now))
	f := &fakeFetcher{clk: clk, life: time.Hour}
	s := newTestSource(f, Options{Store: store})
	old, err := s.TokenContext(context.Background())
	require.NoError(t, err)
	// Another replica stored the same token again after our delete.
	b, err := old.marshal(clk.Now())
	require.NoError(t, err)
	s.Invalidate(old)
	require.NoError(t, store.Set(context.Background(), s.key, cache.Entry{Value: b, Expiry: old.Expiry()}))
	fresh, err := s.TokenContext(context.Background())
	require.NoError(t, err)
	assert.NotEqual(t, old.AccessToken(), fresh.AccessToken())
	assert.Equal(t, int32(2), f.calls.Load())
}

// A caller with no valid token, during a backoff that ends soon (within
// MaxBackoffWait and its context's deadline), waits for the next permitted
// attempt instead of failing at once; all such callers share that one
// attempt. A caller whose deadline comes first fails at once.
func TestCallerWaitsForTheNextAttempt(t *testing.T) {
	f := &fakeFetcher{clk: newClock(), life: time.Hour}
	f.setFail(&Error{Definition: "crm", StatusCode: 503, RetryAfter: 50 * time.Millisecond})
	s := newTestSource(f, Options{MinBackoff: 10 * time.Millisecond})
	_, err := s.TokenContext(context.Background())
	require.Error(t, err)
	require.Equal(t, int32(1), f.calls.Load())

	short, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	_, err = s.TokenContext(short)
	require.ErrorAs(t, err, new(*BackoffError), "its deadline comes before the next attempt")

	f.setFail(nil) // the server answers again
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			_, errs[i] = s.TokenContext(ctx)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		assert.NoError(t, err, "waited for the next attempt")
	}
	assert.Equal(t, int32(2), f.calls.Load(), "one attempt shared by every waiter")
}

// Closing a source answers the callers waiting for a scheduled attempt.
func TestCloseAnswersScheduledWaiters(t *testing.T) {
	f := &fakeFetcher{clk: newClock(), life: time.Hour}
	f.setFail(&Error{Definition: "crm", StatusCode: 503, RetryAfter: 2 * time.Second})
	s := newTestSource(f, Options{MinBackoff: time.Second})
	_, err := s.TokenContext(context.Background())
	require.Error(t, err)
	done := make(chan error, 1)
	go func() { _, err := s.TokenContext(context.Background()); done <- err }()
	for !s.scheduled() {
		runtime.Gosched()
	}
	s.Close()
	assert.ErrorIs(t, <-done, ErrClosed)
	assert.Equal(t, int32(1), f.calls.Load())
}
