package oauthclient

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/tokenwire/tokenwire/cache"
)

// CacheKey derives the store key of a definition from its identity: token
// URL, client id, auth method, scopes, audience, resources and extra
// parameters. It is a SHA-256 hash: it never reveals the client id and never
// depends on (or contains) the secret or key.
func CacheKey(cfg Config) string {
	scopes := slices.Clone(cfg.Scopes)
	slices.Sort(scopes)
	res := slices.Clone(cfg.Resources)
	slices.Sort(res)
	endpoint := cfg.TokenURL
	if endpoint == "" { // discovered at fetch time: the name stands for it
		endpoint = "discovered:" + cfg.Name
	}
	return keyOf("cc", endpoint, cfg.ClientID, string(cfg.authMethod()), strings.Join(scopes, " "),
		cfg.Audience, strings.Join(res, " "), url.Values(cfg.Params).Encode())
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
func (s *Source) obtain(ctx context.Context) (*Token, error) {
	if s.key == "" {
		return s.fetcher.Fetch(ctx)
	}
	if t := s.fromStore(ctx); t != nil {
		return t, nil
	}
	if lk, ok := s.opts.Store.(cache.Locker); ok {
		for range lockRounds {
			if t, err, done := s.fetchLocked(ctx, lk); done {
				return t, err
			}
			if ctx.Err() != nil {
				break
			}
		}
	}
	return s.fetchAndStore(ctx)
}

// lockRounds is how many times a source tries the fleet lock. A wait for
// the holder's token that ends empty-handed means the holder died, and its
// lock has expired meanwhile: trying it again lets one waiter take over,
// rather than every waiter fetching at once.
const lockRounds = 2

// fetchLocked fetches under the fleet lock, or waits for the holder's token.
// done is false when the caller should fetch on its own (the lock is
// unavailable, or its holder vanished).
func (s *Source) fetchLocked(ctx context.Context, lk cache.Locker) (*Token, error, bool) {
	unlock, ok, err := lk.TryLock(ctx, s.key, s.opts.LockTTL)
	if err != nil {
		s.opts.Logger.Warn("oauthclient: store lock failed; fetching directly", slog.String("definition", s.name), slog.String("error", err.Error()))
		return nil, nil, false
	}
	if ok {
		defer func() { _ = unlock(context.WithoutCancel(ctx)) }()
		if t := s.fromStore(ctx); t != nil {
			return t, nil, true
		}
		t, err := s.fetchAndStore(ctx)
		return t, err, true
	}
	if t := s.awaitStore(ctx); t != nil {
		return t, nil, true
	}
	return nil, nil, false
}

// awaitStore polls the store until another holder's token appears, the
// lock's lifetime passes, or ctx ends.
func (s *Source) awaitStore(ctx context.Context) *Token {
	deadline := time.NewTimer(s.opts.LockTTL)
	defer deadline.Stop()
	wait := 10 * time.Millisecond
	for {
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-deadline.C:
			t.Stop()
			return nil
		case <-t.C:
		}
		if tok := s.fromStore(ctx); tok != nil {
			return tok
		}
		wait = min(wait*2, 200*time.Millisecond)
	}
}

// fromStore returns the stored token if it is newer than the current one
// and still before its own renewal time.
func (s *Source) fromStore(ctx context.Context) *Token {
	e, err := s.opts.Store.Get(ctx, s.key)
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
	if c := s.cur.Load(); c != nil && c.tok.accessToken == t.accessToken {
		return nil // the token being renewed: not an answer
	}
	if d := s.dropped.Load(); d != nil && *d == t.accessToken {
		return nil // rejected by a backend: not an answer either
	}
	return t
}

func (s *Source) fetchAndStore(ctx context.Context) (*Token, error) {
	t, err := s.fetcher.Fetch(ctx)
	if err != nil {
		return nil, err
	}
	if b, err := t.marshal(s.opts.Now()); err == nil {
		if err := s.opts.Store.Set(ctx, s.key, cache.Entry{Value: b, Expiry: t.expiry}); err != nil {
			s.opts.Logger.Warn("oauthclient: store write failed", slog.String("definition", s.name), slog.String("error", err.Error()))
		}
	}
	return t, nil
}
