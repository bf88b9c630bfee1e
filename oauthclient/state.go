package oauthclient

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"
	"golang.org/x/oauth2"

	"github.com/tokenwire/tokenwire/cache"
)

// The token source's state machine, in one place.
//
// A Source holds at most one current token (s.cur, an atomic pointer) in
// one of three phases:
//
//	fresh    before its renewal time (expiry − RenewWindow): served by one
//	         atomic load, without a lock, an allocation or a clock read
//	stale    in its renewal window, still valid: served at once, and the
//	         first caller to notice starts one background renewal
//	expired  past its expiry, like no token at all: a caller waits for the
//	         shared fetch, bounded by its own context
//
// With the real clock two timers per token flip its phase (fresh → stale
// at the renewal time, stale → expired at expiry); with an injected clock
// the phase is computed from it on each call.
//
// Beside the phase, the source's fetch state, under s.mu:
//
//	idle      no fetch in flight (s.inflight == nil)
//	fetching  one shared fetch in flight, detached from every caller's
//	          context; whoever needs a token joins it
//	backoff   the last fetch failed: none starts before s.notBefore. A
//	          valid token is still served; a caller without one gets a
//	          *BackoffError at once, or joins the one attempt scheduled at
//	          the end of the backoff (s.next) when that comes within
//	          MaxBackoffWait and before its deadline
//	closed    every later call fails with ErrClosed
//
// Transitions:
//
//	fetch succeeds     current = the new token (fresh); backoff cleared   (run, setCurrent)
//	fetch fails        backoff until now + delay(failures, error)          (run, delay)
//	Invalidate(token)  current = none: a backend rejected it; at most once per MinBackoff
//	release, Close     current = none, its timers stopped                  (source.go)
//
// [Source.Status] reports the same states as a [TokenState].

// The phases of the current token.
const (
	fresh   int32 = iota // before its renewal time
	stale                // in its renewal window, still valid
	expired              // past its expiry
)

// current is the token being served with its precomputed deadlines. With
// the real clock, two timers flip its phase at the renewal time and at
// expiry, so that the hot path reads no clock at all; with an injected
// clock, the phase is computed from the clock on every call.
type current struct {
	tok     *Token
	o2      *oauth2.Token
	renewAt time.Time
	ph      atomic.Int32
	timers  [2]*time.Timer
}

// phase returns c's phase: one atomic load with the real clock.
func (s *Source) phase(c *current) int32 {
	if s.timed {
		return c.ph.Load()
	}
	return c.phaseAt(s.opts.Now())
}

// phaseAt is c's phase at now by the clock, whatever its timers say.
func (c *current) phaseAt(now time.Time) int32 {
	switch {
	case now.Before(c.renewAt):
		return fresh
	case now.Before(c.tok.expiry):
		return stale
	}
	return expired
}

// tokenState is the state [Source.Status] reports at now: the phase of the
// current token, or none, and backing off while a backoff runs and the
// token is not fresh.
func (s *Source) tokenState(now time.Time, backingOff bool) (TokenState, *current) {
	c := s.cur.Load()
	st := TokenNone
	if c != nil {
		st = [...]TokenState{fresh: TokenFresh, stale: TokenStale, expired: TokenExpired}[c.phaseAt(now)]
	}
	if backingOff && st != TokenFresh {
		st = TokenBackingOff
	}
	return st, c
}

// setCurrent makes t the token served, with its renewal time.
func (s *Source) setCurrent(t *Token) {
	now := s.opts.Now()
	issued := t.issued
	if issued.IsZero() {
		issued = now
	}
	c := &current{tok: t, o2: t.OAuth2(), renewAt: t.expiry.Add(-s.opts.RenewWindow(t.expiry.Sub(issued)))}
	if s.timed {
		c.timers[0] = time.AfterFunc(c.renewAt.Sub(now), func() { c.ph.CompareAndSwap(fresh, stale) })
		c.timers[1] = time.AfterFunc(t.expiry.Sub(now), func() { c.ph.Store(expired) })
	}
	if old := s.cur.Swap(c); old != nil {
		old.stop()
	}
}

// stop releases c's timers once it is no longer served.
func (c *current) stop() {
	for _, t := range c.timers {
		if t != nil {
			t.Stop()
		}
	}
}

// TokenContext returns a valid token. While the current token is fresh this
// is an atomic load; ctx bounds only this caller's wait for a fetch.
func (s *Source) TokenContext(ctx context.Context) (*Token, error) {
	if c := s.cur.Load(); c != nil {
		switch s.phase(c) {
		case fresh:
			return c.tok, nil
		case stale:
			s.counts.stale.Add(1)
			s.renewInBackground()
			return c.tok, nil
		}
	}
	return s.wait(ctx)
}

// Token implements oauth2.TokenSource. Its warm path repeats
// TokenContext's on purpose: a shared helper measured ~10 % slower. The returned token is shared: do not
// modify it.
func (s *Source) Token() (*oauth2.Token, error) {
	if c := s.cur.Load(); c != nil {
		switch s.phase(c) {
		case fresh:
			return c.o2, nil
		case stale:
			s.counts.stale.Add(1)
			s.renewInBackground()
			return c.o2, nil
		}
	}
	t, err := s.wait(context.Background())
	if err != nil {
		return nil, err
	}
	if c := s.cur.Load(); c != nil && c.tok == t {
		return c.o2, nil
	}
	return t.OAuth2(), nil
}

// transportToken is TokenContext for the Transport, which also counts a
// fresh lookup: there an atomic add is lost in the HTTP call, while on
// Token and TokenContext it would double the cost of the hot path.
func (s *Source) transportToken(ctx context.Context) (*Token, error) {
	if c := s.cur.Load(); c != nil && s.phase(c) == fresh {
		s.counts.fresh.Add(1)
		return c.tok, nil
	}
	return s.TokenContext(ctx)
}

// renewInBackground starts one renewal unless one runs or backoff forbids.
func (s *Source) renewInBackground() {
	if s.fetching.Load() || s.opts.Now().UnixNano() < s.notBefore.Load() {
		return
	}
	_, _ = s.start(context.Background(), triggerBackground)
}

// rotated drops the current token when it was fetched with another
// certificate than the one now presented: the next call fetches one bound
// to it. A token already handed out keeps going out over a connection
// presenting its own certificate (see certConns). It holds s.mu, as run
// does when it makes a fetched token current, so that a fetch that ends
// with the old certificate around a rotation is either kept from being
// current (run sees the new one) or dropped here; and it compares with the
// certificate presented now rather than the one it was called for, so
// that the callbacks of two quick rotations cannot drop a token bound to
// the newest.
func (s *Source) rotated(*certState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cur.Load()
	if c == nil || c.tok.cert == nil || c.tok.cert == s.certs.current() || !s.cur.CompareAndSwap(c, nil) {
		return
	}
	c.stop()
	s.opts.Logger.Info("oauthclient: token dropped: the client certificate it is bound to was rotated", slog.String("definition", s.name))
}

// Invalidate drops t, typically because a backend rejected it, so that the
// next call fetches a new token. It does nothing if t is no longer the
// current token (a token fetched meanwhile is kept), nor within MinBackoff
// of the previous invalidation (a backend that rejects every token must not
// cause a token request per call).
func (s *Source) Invalidate(t *Token) {
	c := s.cur.Load()
	if t == nil || c == nil || c.tok.cred.access != t.cred.access {
		return
	}
	now := s.opts.Now().UnixNano()
	if last := s.lastDrop.Load(); last != 0 && now-last < int64(s.opts.MinBackoff) {
		return // at most one invalidation per MinBackoff: a backend rejecting every token cannot cause a fetch per request
	}
	s.dropped.Store(&t.cred.access) // before the swap: a fetch it triggers must not take t back from the store
	if !s.cur.CompareAndSwap(c, nil) {
		return // another caller dropped it (or a new token came): nothing to do
	}
	s.lastDrop.Store(now) // only by the caller that dropped it: the others wait for the fetch

	c.stop()
	s.opts.Logger.Info("oauthclient: token invalidated: a backend rejected it", slog.String("definition", s.name))
	if key := cmp.Or(c.tok.storeKey, s.key); s.key != "" {
		ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
		defer cancel()
		if e, err := s.opts.Store.Get(ctx, key); err == nil {
			if st, err := unmarshalToken(e.Value); err == nil && st.cred.access == t.cred.access {
				if cd, ok := s.opts.Store.(cache.CompareDeleter); ok {
					_ = cd.DeleteIf(ctx, key, e.Value) // atomic: keeps a token another replica stored meanwhile
				} else {
					_ = s.opts.Store.Delete(ctx, key)
				}
			}
		}
	}
}

// wait joins (or starts) the shared fetch and waits for it or for ctx; it
// counts the miss and records how long the caller waited.
func (s *Source) wait(ctx context.Context) (*Token, error) {
	s.counts.miss.Add(1)
	begin := s.opts.Now()
	tok, err := s.waitShared(ctx)
	s.tel.waited(ctx, s.opts.Now().Sub(begin), err)
	return tok, err
}

// waitShared is wait without the accounting.
func (s *Source) waitShared(ctx context.Context) (*Token, error) {
	cl, err := s.start(ctx, triggerCaller)
	var be *BackoffError
	if errors.As(err, &be) {
		cl, err = s.later(ctx, be)
	}
	if err != nil {
		return nil, err
	}
	select {
	case <-cl.done:
		return cl.tok, cl.err
	case <-ctx.Done():
		return nil, fmt.Errorf("security definition %q: waiting for a token: %w", s.name, context.Cause(ctx))
	}
}

// start returns the fetch in flight, or starts one for trigger; during
// backoff it returns the last error instead. The span of ctx's caller is
// linked to the fetch's.
func (s *Source) start(ctx context.Context, trigger string) (*call, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, fmt.Errorf("security definition %q: %w", s.name, ErrClosed)
	}
	if s.inflight != nil {
		s.inflight.join(ctx)
		return s.inflight, nil
	}
	if c := s.cur.Load(); c != nil && s.opts.Now().Before(c.renewAt) {
		done := &call{done: make(chan struct{}), tok: c.tok}
		close(done.done)
		return done, nil
	}
	if nb := s.notBefore.Load(); s.opts.Now().UnixNano() < nb {
		return nil, &BackoffError{Definition: s.name, Until: time.Unix(0, nb), Err: s.lastErr}
	}
	cl := &call{done: make(chan struct{}), trigger: trigger}
	cl.join(ctx)
	s.begin(cl)
	go s.run(cl)
	return cl, nil
}

// begin makes cl the fetch in flight and starts its span (under s.mu).
func (s *Source) begin(cl *call) {
	s.inflight = cl
	s.fetching.Store(true)
	_, cl.span = s.tel.fetchStarted(cl.trigger, cl.links)
	cl.links = nil
}

// later returns the attempt scheduled for the end of the backoff be, and
// schedules it if no caller has yet, when it starts within MaxBackoffWait
// and before ctx's deadline; otherwise be.
func (s *Source) later(ctx context.Context, be *BackoffError) (*call, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	if c := s.cur.Load(); c != nil && now.Before(c.tok.expiry) { // a fetch ended meanwhile
		done := &call{done: make(chan struct{}), tok: c.tok}
		close(done.done)
		return done, nil
	}
	if nb := s.notBefore.Load(); nb != 0 { // the backoff as it is now, not as be saw it
		be.Until = time.Unix(0, nb)
	}
	d := be.Until.Sub(now)
	if s.closed || s.opts.MaxBackoffWait < 0 || d > s.opts.MaxBackoffWait {
		return nil, be
	}
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) <= d {
		return nil, be
	}
	if s.inflight != nil {
		s.inflight.join(ctx)
		return s.inflight, nil
	}
	if s.next == nil {
		cl := &call{done: make(chan struct{}), trigger: triggerCaller}
		s.next, s.nextAt = cl, time.AfterFunc(max(d, 0), func() { s.launch(cl) })
	}
	s.next.join(ctx)
	return s.next, nil
}

// launch starts the scheduled attempt cl, at the end of a backoff.
func (s *Source) launch(cl *call) {
	s.mu.Lock()
	if s.next != cl { // the source closed meanwhile: cl was answered
		s.mu.Unlock()
		return
	}
	s.next = nil
	if in := s.inflight; in != nil { // a fetch started meanwhile: share it
		for _, l := range cl.links {
			in.span.AddLink(l)
		}
		s.mu.Unlock()
		<-in.done
		cl.tok, cl.err = in.tok, in.err
		close(cl.done)
		return
	}
	s.begin(cl)
	s.mu.Unlock()
	s.run(cl)
}

// run performs one shared fetch, detached from every caller's context and
// bounded by s.timeout even if the fetcher ignores its context.
func (s *Source) run(cl *call) {
	if cl.trigger == triggerBackground {
		s.opts.Logger.Debug("oauthclient: renewing the token in the background", slog.String("definition", s.name))
	}
	tok, err := s.bounded(trace.ContextWithSpan(context.Background(), cl.span))
	var wait time.Duration
	s.mu.Lock()
	switch {
	case s.closed:
		tok, err = nil, fmt.Errorf("security definition %q: %w", s.name, ErrClosed)
	case err == nil:
		s.failures, s.lastErr = 0, nil
		s.notBefore.Store(0)
		if s.certs == nil || tok.cert == nil || tok.cert == s.certs.current() { // one of a rotated certificate serves its waiters only
			s.setCurrent(tok)
		}
	default:
		s.failures++
		s.lastErr = err
		wait = s.delay(err)
		s.notBefore.Store(s.opts.Now().Add(wait).UnixNano())
	}
	failures := s.failures
	s.inflight = nil
	s.fetching.Store(false)
	s.mu.Unlock()
	s.ended(cl, tok, err, failures, wait) // before the waiters wake: what they then read of the log has it
	cl.tok, cl.err = tok, err
	close(cl.done)
}

// ended notes, logs and traces the end of the shared fetch cl.
func (s *Source) ended(cl *call, tok *Token, err error, failures int, wait time.Duration) {
	s.fetchEnded(cl.span, err)
	switch {
	case err == nil:
		s.counts.lastFetch.Store(s.opts.Now().UnixNano())
		s.opts.Logger.Info("oauthclient: token obtained", slog.String("definition", s.name),
			slog.String("trigger", cl.trigger), slog.Time("expiry", tok.expiry))
	case errors.Is(err, ErrClosed):
	default:
		s.noteError(err)
		s.opts.Logger.Warn("oauthclient: token fetch failed; backing off", slog.String("definition", s.name),
			slog.String("trigger", cl.trigger), slog.Int("failures", failures), slog.Duration("retry_in", wait),
			slog.String("error", s.errText(err)))
	}
}
