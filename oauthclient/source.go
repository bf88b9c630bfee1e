package oauthclient

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"
	"golang.org/x/oauth2"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/internal/backoff"
	"github.com/tokenwire/tokenwire/internal/redact"
)

// Source is a cached token source for one security definition. It is safe
// for concurrent use and implements oauth2.TokenSource.
//
// A token is in one of three states. Fresh: returned by an atomic load, with
// no lock and no allocation. Stale (inside its renewal window, still valid):
// returned at once, while the first caller to notice starts one background
// renewal. Missing or expired: callers wait for one shared fetch, each
// bounded by its own context. After a failed fetch, no new fetch starts
// before a backoff delay; meanwhile a still-valid token keeps being served
// and callers without one get the last error at once.
//
// With the real clock (Options.Now nil) the hot path reads no clock: two
// timers per token flip its phase. Timers follow the monotonic clock, so
// after a suspended VM resumes, an expired token may be served until its
// timer fires; the backend's 401 then makes the [Transport] renew it.
type Source struct {
	name    string
	fetcher Fetcher
	key     string // cache key; "" when there is no store
	// identity is the definition's cache key even without a store: a
	// grant's own parts (a subject token's hash) are added to it.
	identity string
	opts     Options
	timed    bool // real clock: phases flip by timers, no clock read on the hot path
	// insecureOK lets transports attach tokens to plain-http origins.
	insecureOK bool
	policy     backoff.Policy
	dpop       *dpopProver   // proves the key DPoP-bound tokens are bound to
	timeout    time.Duration // bound of one shared fetch
	grant      string        // as telemetry and Status name it
	method     AuthMethod    // client authentication, for Status; "" for NewSourceFrom
	secrets    []string      // never shown: scrubbed from error texts
	tel        *telemetry
	counts     *counts

	cur       atomic.Pointer[current]
	fetching  atomic.Bool              // a fetch is in flight
	notBefore atomic.Int64             // unix nanos before which no fetch starts
	dropped   atomic.Pointer[string]   // the last invalidated access token
	lastDrop  atomic.Int64             // unix nanos of the last invalidation
	held      atomic.Pointer[heldLock] // the store's lock, kept after a failed fetch

	mu       sync.Mutex // guards inflight, next, failures, lastErr, closed
	inflight *call
	next     *call       // the attempt scheduled for the end of a backoff, waited for
	nextAt   *time.Timer // starts next
	failures int
	lastErr  error
	closed   bool
}

// call is one shared fetch.
type call struct {
	done    chan struct{}
	tok     *Token
	err     error
	trigger string       // triggerBackground or triggerCaller
	span    trace.Span   // once started
	links   []trace.Link // to the spans of callers that joined before it started
}

// join links the span of the caller waiting on cl (under s.mu, while cl
// is not done) to cl's span.
func (cl *call) join(ctx context.Context) {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return
	}
	if l := (trace.Link{SpanContext: sc}); cl.span != nil {
		cl.span.AddLink(l)
	} else {
		cl.links = append(cl.links, l)
	}
}

// NewSource validates cfg and returns a source fetching tokens with its
// grant: client credentials, or [Config.Grant]. Its errors are
// *ConfigError.
func NewSource(cfg Config, opts Options) (*Source, error) {
	cfg = cfg.withDefaults()
	switch g := deref(cfg.Grant).(type) {
	case Login:
		return newLoginSource(cfg, g, opts)
	case Imported:
		return newImportedSource(cfg, g, opts)
	}
	if err := cfg.validate(opts.AllowInsecureHTTP); err != nil {
		return nil, err
	}
	timed := opts.Now == nil
	opts = opts.withDefaults()
	grant, err := newEndpointGrant(cfg, opts)
	if err != nil {
		return nil, err
	}
	auth, err := newClientAuth(cfg, opts.Now)
	if err != nil {
		return nil, err
	}
	hc, err := httpClient(cfg, opts.HTTPClient)
	if err != nil {
		return nil, err
	}
	f := &tokenEndpoint{cfg: cfg, grant: grant, auth: auth, hc: hc, now: opts.Now, insecure: opts.AllowInsecureHTTP}
	if cfg.DPoP || cfg.DPoPKey != nil || !cfg.DPoPKeyPEM.IsZero() || cfg.DPoPAlg != "" {
		if f.dpop, err = newDPoPProver(cfg, opts.Now); err != nil {
			return nil, err
		}
	}
	if cfg.TokenURL == "" && (cfg.DiscoveryURL != "" || (cfg.Issuer != "" && cfg.TokenURLFunc == nil)) {
		f.disc = newDiscovery(cfg, auth, hc, opts)
	}
	s := newSource(cfg.Name, f, opts, grant.kind())
	s.method = cfg.authMethod()
	if so, ok := auth.(secretsOf); ok {
		s.secrets = so.secrets()
	}
	s.dpop = f.dpop
	s.timed = timed
	s.timeout = sharedFetchBound(cfg.Timeout, opts)
	s.identity = identityKey(cfg, f.dpop, grant)
	s.key = ""
	if opts.Store != nil {
		s.key = s.identity
	}
	return s, nil
}

// NewSourceFrom returns a cached source over any fetcher. With a store in
// opts, tokens are shared under a key derived from name only: use
// [NewSource] for keys derived from a definition's identity.
func NewSourceFrom(name string, f Fetcher, opts Options) *Source {
	return newSource(name, f, opts, grantCustom)
}

func newSource(name string, f Fetcher, opts Options, grant string) *Source {
	timed := opts.Now == nil
	opts = opts.withDefaults()
	s := &Source{name: name, fetcher: f, opts: opts, timed: timed, insecureOK: opts.AllowInsecureHTTP, timeout: sharedFetchBound(DefaultTimeout, opts),
		policy: backoff.Policy{Min: opts.MinBackoff, Max: opts.MaxBackoff}, grant: grant, counts: &counts{}}
	if opts.Store != nil {
		s.key = keyOf("fetcher", name)
	}
	s.tel = newTelemetry(s, grant)
	return s
}

// sharedFetchBound bounds one shared fetch: the token call, plus waiting
// out a fleet lock whose holder vanished.
func sharedFetchBound(call time.Duration, opts Options) time.Duration {
	if opts.Store == nil {
		return call + time.Second
	}
	return call + 2*opts.LockTTL + time.Second
}

// Name returns the definition's name.
func (s *Source) Name() string { return s.name }

// Close stops the source: its timers are released and its token dropped at
// once, a fetch in flight is discarded when it ends, and later calls fail
// with an error matching [ErrClosed]. Callers that already hold a token
// keep it. Close is idempotent.
func (s *Source) Close() {
	s.mu.Lock()
	s.closed = true
	if cl := s.next; cl != nil { // a scheduled attempt will not be made
		s.nextAt.Stop()
		s.next = nil
		cl.err = fmt.Errorf("security definition %q: %w", s.name, ErrClosed)
		close(cl.done)
	}
	s.mu.Unlock()
	s.release()
}

// release drops the current token, stops its timers and releases the
// store's lock a failed fetch kept, without closing the source: a later
// call fetches anew. A registry releases the source a
// new definition replaced, which clients handed out may still use.
// Its observable instruments are unregistered: the source replacing it
// reports under the same definition name.
func (s *Source) release() {
	if c := s.cur.Swap(nil); c != nil {
		c.stop()
	}
	s.releaseHeld()
	s.tel.unregister()
}

// String names the source's definition; it never shows a secret or a token.
func (s *Source) String() string { return fmt.Sprintf("oauthclient.Source(%s)", s.name) }

// Format prints [Source.String] whatever the verb, so that no fmt verb
// reaches the client secret, key or token inside.
func (s *Source) Format(f fmt.State, _ rune) { redact.Format(f, s.String()) }

// LogValue implements [slog.LogValuer]: the definition's name only.
func (s *Source) LogValue() slog.Value { return slog.GroupValue(slog.String("definition", s.name)) }

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

// renewInBackground starts one renewal unless one runs or backoff forbids.
func (s *Source) renewInBackground() {
	if s.fetching.Load() || s.opts.Now().UnixNano() < s.notBefore.Load() {
		return
	}
	_, _ = s.start(context.Background(), triggerBackground)
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
		s.setCurrent(tok)
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

// bounded runs obtain with the shared-fetch timeout. A fetcher that ignores
// its context is abandoned at the deadline: its goroutine ends whenever the
// fetcher returns, and its late result is dropped.
func (s *Source) bounded(parent context.Context) (*Token, error) {
	ctx, cancel := context.WithTimeout(parent, s.timeout)
	defer cancel()
	type result struct {
		tok *Token
		err error
	}
	ch := make(chan result, 1)
	go func() {
		var r result
		defer func() { // a panicking Fetcher or ClientAuth fails this fetch, not the process
			if p := recover(); p != nil {
				r = result{err: fmt.Errorf("security definition %q: token fetch panicked: %v", s.name, p)}
			}
			ch <- r
		}()
		r.tok, r.err = s.obtain(ctx)
		if r.tok == nil && r.err == nil {
			r.err = fmt.Errorf("security definition %q: the fetcher returned no token and no error", s.name)
		}
	}()
	select {
	case r := <-ch:
		if r.err == nil && !s.opts.Now().Before(r.tok.expiry) {
			return nil, fmt.Errorf("security definition %q: the token fetched has already expired (%s)", s.name, r.tok.expiry.UTC().Format(time.RFC3339))
		}
		return r.tok, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("security definition %q: token fetch did not finish within %s", s.name, s.timeout)
	}
}

// delay is the backoff after the current run of failures. Errors that will
// not go away by themselves (invalid_client, invalid_scope…) start higher.
func (s *Source) delay(err error) time.Duration {
	attempt := s.failures - 1
	var e *Error
	permanent := errors.Is(err, ErrReauthorize) || (errors.As(err, &e) && !e.Temporary())
	if permanent {
		attempt += 5
	}
	d := s.policy.Delay(attempt)
	if !permanent { // it may answer any moment: notice it soon
		d = min(d, s.opts.MaxRecovery)
	}
	if e != nil && e.RetryAfter > d {
		d = min(e.RetryAfter, s.opts.MaxBackoff)
	}
	return d
}
