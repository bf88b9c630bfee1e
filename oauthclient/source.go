package oauthclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

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
	certs      *clientCerts  // the client certificate tokens are fetched with; nil without one
	timeout    time.Duration // bound of one shared fetch
	grant      string        // as telemetry and Status name it
	method     AuthMethod    // client authentication, for Status; "" for NewSourceFrom
	secrets    []Secret      // never shown: scrubbed from error texts
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
	start, err := prepareSource(cfg, opts)
	if err != nil {
		return nil, err
	}
	return start(), nil
}

// Validate checks c as NewSource(c, opts) does, with the same errors, and
// builds nothing that runs: no source, no telemetry registered, no
// goroutine, no store touched, nothing fetched. A configuration loader
// checks a file with it before anything is replaced.
func (c Config) Validate(opts Options) error {
	_, err := prepareSource(c, opts)
	return err
}

// prepareSource validates cfg and builds its fetcher, which does nothing
// until asked; start then makes the source (registering its telemetry).
// It is all of NewSource that can fail.
func prepareSource(cfg Config, opts Options) (start func() *Source, err error) {
	cfg = cfg.withDefaults()
	switch g := deref(cfg.Grant).(type) {
	case Login:
		return prepareLogin(cfg, g, opts)
	case Imported:
		return prepareImported(cfg, g, opts)
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
	certs, err := newClientCerts(cfg, opts.Now, opts.Logger)
	if err != nil {
		return nil, err
	}
	auth, err := newClientAuth(cfg, opts.Now)
	if err != nil {
		return nil, err
	}
	hc, err := httpClient(cfg, certs, opts.HTTPClient)
	if err != nil {
		return nil, err
	}
	f := &tokenEndpoint{cfg: cfg, grant: grant, auth: auth, hc: hc, now: opts.Now, insecure: opts.AllowInsecureHTTP}
	if cfg.DPoP || cfg.DPoPKey != nil || !cfg.DPoPKeyPEM.IsZero() || cfg.DPoPAlg != "" {
		if f.dpop, err = newDPoPProver(cfg, opts.Now); err != nil {
			return nil, err
		}
	}
	return func() *Source {
		if cfg.TokenURL == "" && (cfg.DiscoveryURL != "" || (cfg.Issuer != "" && cfg.TokenURLFunc == nil)) {
			f.disc = newDiscovery(cfg, auth, hc, opts)
		}
		s := newSource(cfg.Name, f, opts, grant.kind())
		s.method = cfg.authMethod()
		if so, ok := auth.(secretsOf); ok {
			s.secrets = hidden(so.secrets())
		}
		s.dpop = f.dpop
		s.certs = certs
		if certs != nil {
			certs.onRotate(s.rotated)
		}
		s.timed = timed
		s.timeout = sharedFetchBound(cfg.Timeout, opts)
		s.identity = identityKey(cfg, f.dpop, grant)
		s.key = ""
		if opts.Store != nil {
			s.key = s.identity
		}
		return s
	}, nil
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
	s := &Source{name: name, fetcher: f, opts: opts, timed: timed, insecureOK: opts.AllowInsecureHTTP, timeout: sharedFetchBound(defaultTimeout, opts),
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
// keep it. Close is idempotent. A [RefreshToken] source's refresh request
// in flight is waited for (at most its timeout) until its outcome is in
// the places of record: a process that exits after Close leaves no
// intent for the other replicas to wait on.
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
	if sg := stateful(s.fetcher); sg != nil {
		sg.close()
	}
	closeCertConns(s.fetcher)
}

// closeCertConns closes the idle connections of the transports a fetcher
// made per client certificate (its own clones: a caller's client it was
// given is the caller's to close).
func closeCertConns(f Fetcher) {
	var hc *http.Client
	switch f := f.(type) {
	case *tokenEndpoint:
		hc = f.hc
	case *loginFetcher:
		hc = f.hc
	}
	if hc == nil {
		return
	}
	if cc, ok := hc.Transport.(*certConns); ok {
		cc.CloseIdleConnections()
	}
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

// Format prints "oauthclient.Source(<definition>)" whatever the verb: fmt
// reaches neither the credentials inside nor, racing with the source's
// goroutines, its live state.
func (s *Source) Format(f fmt.State, _ rune) { redact.Format(f, "oauthclient.Source("+s.name+")") }

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
		defer func() { // a panicking Fetcher or clientAuth fails this fetch, not the process
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
