package oauthclient

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/tokenwire/tokenwire/cache"
)

// CacheKey derives the store key of a definition from its identity: token
// URL, client id, auth method, scopes, audience, resources and extra
// parameters, for a client certificate (its tokens are bound to it, RFC
// 8705 §3) its SHA-256 thumbprint (of the certificate CertFile holds now:
// CacheKey reads it; a rotated certificate gets tokens of its own), and
// for DPoP the thumbprint of its key, so that a replica never takes a
// token bound to a key it does not hold (a key generated in memory is each
// replica's own: such tokens are not shared), and for a
// [Grant] its kind and what it asserts (a signed assertion's issuer,
// subject and claims); a token exchange, a refresh token and a supplied
// assertion add a hash of what each fetch reads (the subject token, the
// refresh token family, the assertion's subject) to it. It is a SHA-256
// hash: it never reveals the client id and never depends on (or
// contains) the secret or key.
func CacheKey(cfg Config) string {
	var p *dpopProver
	if cfg.DPoPKey != nil || !cfg.DPoPKeyPEM.IsZero() {
		p, _ = newDPoPProver(cfg, time.Now) // a key that does not parse fails NewSource anyway
	} else if cfg.DPoP || cfg.DPoPAlg != "" {
		return keyOf("dpop-generated", cfg.Name) // known only to the source that generates it
	}
	x5t := ""
	if certs, err := newClientCerts(cfg, nil, nil); err == nil && certs != nil { // files that do not load fail NewSource anyway
		x5t = certs.current().x5t
	}
	if cfg.Grant != nil {
		if g, err := newEndpointGrant(cfg.withDefaults(), Options{}); err == nil {
			return withX5t(identityKey(cfg, p, g), x5t)
		}
	}
	return withX5t(cacheKey(cfg, p), x5t)
}

// withX5t is the key of the tokens of identity bound to the certificate of
// thumbprint x5t: a certificate-bound token is its certificate's only, and
// a rotated certificate gets tokens of its own.
func withX5t(identity, x5t string) string {
	if x5t == "" {
		return identity
	}
	return keyOf(identity, "x5t", x5t)
}

// identityKey is the key of a definition whose grant is g: cacheKey's for
// client credentials (so that their keys stay what they were), else that
// with the grant's kind and identity (a signed assertion's issuer and
// subject…). The parts a fetch reads (a subject token's hash) are added to
// it per fetch.
func identityKey(cfg Config, p *dpopProver, g endpointGrant) string {
	base := cacheKey(cfg, p)
	if g.kind() == grantClientCredentials {
		return base
	}
	return keyOf(append([]string{"grant", g.kind(), base}, g.identity()...)...)
}

// cacheKey is CacheKey with the DPoP prover the source really uses.
func cacheKey(cfg Config, p *dpopProver) string {
	jkt := ""
	if p != nil {
		jkt = p.jkt
	}
	scopes := slices.Clone(cfg.Scopes)
	slices.Sort(scopes)
	res := slices.Clone(cfg.Resources)
	slices.Sort(res)
	endpoint := cfg.TokenURL
	switch {
	case endpoint != "":
	case cfg.DiscoveryURL != "": // discovered at fetch time: the document stands for it
		endpoint = "discovery:" + cfg.DiscoveryURL
	case cfg.Issuer != "" && cfg.TokenURLFunc == nil:
		endpoint = "issuer:" + cfg.Issuer
	default:
		endpoint = "discovered:" + cmp.Or(cfg.Issuer, cfg.Name)
	}
	parts := []string{"cc", endpoint, cfg.ClientID, string(cfg.authMethod()), strings.Join(scopes, " "),
		cfg.Audience, strings.Join(res, " "), revealed(cfg.Params).Encode()}
	if jkt != "" { // keys of definitions without DPoP stay what they were
		parts = append(parts, "jkt", jkt)
	}
	return keyOf(parts...)
}

// keyOf hashes parts unambiguously (length-prefixed) into a store key.
func keyOf(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		var n [8]byte
		for i := range n {
			n[i] = byte(len(p) >> (8 * i))
		}
		h.Write(n[:])
		h.Write([]byte(p))
	}
	return "tw1:" + hex.EncodeToString(h.Sum(nil))
}

// obtain gets a token for the shared fetch: from the store when it holds a
// fresh one, else from the fetcher, under the store's lock when it has one.
// A grant that reads what its request carries (a subject token) does so
// first, and the token is looked for under the key that names it. The
// requests of a grant that keeps state (a refresh token) are made under
// its family's lock in the process, and under the store's lock or not at
// all.
func (s *Source) obtain(ctx context.Context) (tok *Token, err error) {
	p, err := s.prepare(ctx)
	if err != nil {
		return nil, err
	}
	defer func() {
		if tok != nil {
			tok = tok.boundTo(p.cert) // fetched with it, or kept under its key
		}
	}()
	sg := stateful(s.fetcher)
	ex := sg != nil
	if ex {
		unlock, err := sg.lock(ctx, p.family)
		if err != nil {
			return nil, fmt.Errorf("security definition %q: waiting for the refresh token's lock: %w", s.name, err)
		}
		defer unlock()
	}
	if s.key == "" {
		return s.request(ctx, p)
	}
	key := p.key
	if t := s.fromStore(ctx, key); t != nil {
		return t, nil
	}
	if lk, ok := s.opts.Store.(cache.Locker); ok {
		return s.fetchAsFleet(ctx, lk, key, p, ex)
	}
	return s.fetchAndStore(ctx, key, p)
}

// prepare reads what the fetch's request needs and names its token's key;
// for a fetcher other than a token endpoint, the key is the source's.
func (s *Source) prepare(ctx context.Context) (*prepared, error) {
	te, ok := s.fetcher.(*tokenEndpoint)
	if !ok {
		return &prepared{key: s.key}, nil
	}
	p, err := te.grant.prepare(ctx)
	if err != nil {
		return nil, err
	}
	if s.certs != nil {
		s.certs.check() // before a fetch: the moment to notice a rotation too
		p.cert = s.certs.current()
	}
	p.key = withX5t(s.identity, p.cert.thumbprint())
	if len(p.parts) > 0 {
		p.key = keyOf(append([]string{p.key}, p.parts...)...)
	}
	return p, nil
}

// fetchAsFleet lets the holder of the store's lock fetch while the other
// sources (replicas, or sources of the process sharing a memory store)
// wait for its token and try the lock again: when the holder dies, its
// lock expires and one waiter takes over. A waiter wakes when the store
// says the holding ended ([cache.LockWatcher]), else polls. Waiting is
// bounded by twice the lock's lifetime on the source's clock (Options.Now:
// the lock of a memory store expires on its own clock, Redis's in real
// time), and in real time by the shared fetch's bound. A store whose lock
// fails (Redis down) is bypassed: the source fetches on its own — unless
// the grant is exclusive, whose requests are then not made.
func (s *Source) fetchAsFleet(ctx context.Context, lk cache.Locker, key string, p *prepared, ex bool) (*Token, error) {
	lockKey := cmp.Or(p.family, key) // a refresh token family's requests take turns, whatever their access tokens
	if h := s.held.Swap(nil); h.valid(lockKey, s.opts.Now()) && (!ex || !sharedByProcesses(s.opts.Store)) {
		return s.fetchHolding(ctx, h, key, p)
	}
	deadline := s.opts.Now().Add(2 * s.opts.LockTTL)
	lw, _ := lk.(cache.LockWatcher)
	wait := 10 * time.Millisecond
	for {
		now, real := s.opts.Now(), time.Now() // read first: a waiter gives up only when the lock was refused past the deadline
		unlock, ok, err := s.tryLock(ctx, lk, lockKey, ex)
		if err != nil && ex {
			return nil, fmt.Errorf("security definition %q: the store's lock cannot be taken, and a refresh token is never used without it: %w", s.name, err)
		}
		if err != nil {
			s.opts.Logger.Warn("oauthclient: store lock failed; fetching directly", slog.String("definition", s.name), slog.String("error", err.Error()))
			return s.fetchAndStore(ctx, key, p)
		}
		if ok {
			return s.fetchHolding(ctx, &heldLock{key: lockKey, unlock: unlock, until: now.Add(s.opts.LockTTL), untilReal: real.Add(s.opts.LockTTL)}, key, p)
		}
		if !now.Before(deadline) {
			return nil, fmt.Errorf("security definition %q: another source holds the token lock and no token appeared within %s", s.name, 2*s.opts.LockTTL)
		}
		var ended <-chan struct{} // nil: poll
		if lw != nil {
			ended = lw.Unlocked(lockKey)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-ended:
			t.Stop()
		case <-t.C:
			wait = min(wait*2, 200*time.Millisecond)
		}
		if tok := s.fromStore(ctx, key); tok != nil {
			return tok, nil
		}
	}
}

// tryLock takes the store's lock on key; for an exclusive grant, through
// a strict store's StrictTryLock, which fails rather than let everyone
// proceed.
func (s *Source) tryLock(ctx context.Context, lk cache.Locker, key string, ex bool) (func(context.Context) error, bool, error) {
	if st, ok := s.opts.Store.(cache.Strict); ok && ex {
		return st.StrictTryLock(ctx, key, s.opts.LockTTL)
	}
	return lk.TryLock(ctx, key, s.opts.LockTTL)
}

// sharedByProcesses reports whether st is shared by several processes
// (cache.Strict), whose lock, unlike the memory store's, is all that keeps
// two of them from sending one refresh token.
func sharedByProcesses(st cache.Store) bool {
	_, ok := st.(cache.Strict)
	return ok
}

// heldLock is a holding of the store's lock.
type heldLock struct {
	key    string
	unlock func(context.Context) error
	// until is when it expires on the source's clock, untilReal in real
	// time (Redis's): it is held while both are ahead.
	until, untilReal time.Time
}

// valid reports whether h still holds the lock named key at now.
func (h *heldLock) valid(key string, now time.Time) bool {
	return h != nil && h.key == key && now.Before(h.until) && time.Now().Before(h.untilReal)
}

// fetchHolding fetches while holding the store's lock h. After a failure
// the lock is kept until it expires, so that the sources sharing the
// store make their attempts against a failing authorization server one
// holder at a time: the others wait, while the holder's own next attempts,
// paced by its backoff, are made under the lock it kept (a source alone
// on a store is never kept waiting for its own lock) — except, on a store
// shared by processes, a grant whose requests must never overlap (a
// refresh token), which takes the lock anew, so that its request starts a
// full lock lifetime before the lock expires (in a process, the family's
// own lock keeps its requests apart). After a refused refresh token the lock is released: the
// store marks the family refused, the others read that at once and send
// nothing.
func (s *Source) fetchHolding(ctx context.Context, h *heldLock, key string, p *prepared) (*Token, error) {
	release := func() { _ = h.unlock(context.WithoutCancel(ctx)) }
	if t := s.fromStore(ctx, key); t != nil {
		release()
		return t, nil
	}
	p.fence = h.untilReal
	t, err := s.fetchAndStore(ctx, key, p)
	var re *ReauthorizeError
	if err == nil || errors.As(err, &re) || errors.Is(err, ErrRefreshUncertain) { // a refresh held back sent nothing, and the replica it waits for needs the lock
		release()
	} else {
		s.held.Store(h)
	}
	return t, err
}

// releaseHeld releases the lock a failed fetch kept, so that the source
// replacing this one (a reloaded definition) need not wait for it.
func (s *Source) releaseHeld() {
	if h := s.held.Swap(nil); h != nil {
		ctx, cancel := context.WithTimeout(context.Background(), s.timeout)
		defer cancel()
		_ = h.unlock(ctx)
	}
}

// fromStore returns the token stored under key if it is newer than the
// current one and still before its own renewal time.
func (s *Source) fromStore(ctx context.Context, key string) *Token {
	e, err := s.opts.Store.Get(ctx, key)
	if err != nil {
		if !errors.Is(err, cache.ErrNotFound) {
			s.opts.Logger.Warn("oauthclient: store read failed", slog.String("definition", s.name), slog.String("error", err.Error()))
		}
		return nil
	}
	t, err := unmarshalToken(e.Value)
	if err != nil {
		return nil
	}
	life := t.expiry.Sub(t.issued)
	if !s.opts.Now().Before(t.expiry.Add(-s.opts.RenewWindow(life))) {
		return nil
	}
	if c := s.cur.Load(); c != nil && c.tok.cred.access == t.cred.access {
		return nil // the token being renewed: not an answer
	}
	if d := s.dropped.Load(); d != nil && *d == t.cred.access {
		return nil // rejected by a backend: not an answer either
	}
	s.counts.store.Add(1)
	trace.SpanFromContext(ctx).AddEvent("tokenwire.store.hit")
	s.opts.Logger.Debug("oauthclient: token taken from the shared store", slog.String("definition", s.name))
	return t.keptUnder(key)
}

// request makes one token request through the fetcher, counted and timed.
// A request a refresh token's refusal kept from being sent is not counted.
func (s *Source) request(ctx context.Context, p *prepared) (*Token, error) {
	begin := s.opts.Now()
	var t *Token
	var err error
	if te, ok := s.fetcher.(*tokenEndpoint); ok {
		t, err = te.fetchPrepared(ctx, p)
	} else {
		t, err = s.fetcher.Fetch(ctx)
	}
	var re *ReauthorizeError
	if errors.As(err, &re) && !re.sent {
		return nil, err
	}
	if errors.Is(err, ErrRefreshUncertain) { // held back: nothing was sent
		s.tel.heldBack(ctx)
		return nil, err
	}
	s.counts.requests.Add(1)
	if err != nil {
		s.counts.failures.Add(1)
	}
	s.tel.requested(ctx, s.opts.Now().Sub(begin), err)
	return t, err
}

func (s *Source) fetchAndStore(ctx context.Context, key string, p *prepared) (*Token, error) {
	t, err := s.request(ctx, p)
	if err != nil {
		return nil, err
	}
	if b, err := t.marshal(s.opts.Now()); err == nil {
		if err := s.opts.Store.Set(ctx, key, cache.Entry{Value: b, Expiry: t.expiry}); err != nil {
			s.opts.Logger.Warn("oauthclient: store write failed", slog.String("definition", s.name), slog.String("error", err.Error()))
		}
	}
	return t.keptUnder(key), nil
}
