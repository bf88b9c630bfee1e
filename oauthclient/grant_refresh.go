package oauthclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"sync"
	"time"

	"github.com/tokenwire/tokenwire/cache"
)

// DefaultRefreshLifetime is how long the store keeps a rotated refresh
// token when the server does not say (refresh_expires_in,
// refresh_token_expires_in): [RefreshToken.Lifetime]'s default.
const DefaultRefreshLifetime = 90 * 24 * time.Hour

// RefreshToken is the refresh token grant (RFC 6749 §6) for a definition
// that an administrator authorised once (authorization code + PKCE: see
// examples/authorize): access tokens are renewed with grant_type
// refresh_token, as the definition authenticates (with no AuthMethod:
// client_secret_basic when it has a ClientSecret, else a public client
// sending its client_id).
//
// Token supplies the refresh token obtained then. Its value names the
// token's family: when the server rotates the refresh token, the new one is
// written at once to the store (encrypted in Redis, as access tokens are)
// under that family, kept in memory for the process, and given to
// OnRotate; later requests use the newest one, so Token itself need never
// be rewritten. Authorising again (a new value from Token) starts a new
// family.
//
// A refresh token is never used twice: the sources of a family take turns
// — in the process, and across a fleet under the store's lock, which
// covers the whole family (a refresh request is bounded by half of
// Options.LockTTL, so the lock never expires while a refresh token is in
// flight). With a store that locks, a refresh token is used only under its
// lock and read only from the shared store: while Redis is unreachable such
// a definition keeps serving the access token it holds and does not
// refresh, rather than risk a second use, which a server with reuse
// detection answers by revoking the family.
//
// A refresh token the server refuses (invalid_grant: expired, revoked,
// reused) stops renewal: the error matches [ErrReauthorize] (and
// [ErrInvalidGrant]), the family is marked refused in the store so that no
// replica sends it again, and no token request is made until Token
// supplies a new refresh token.
type RefreshToken struct {
	Token Supplier // required: the refresh token obtained by authorising once
	// OnRotate, when set, is told each refresh token the server rotates
	// in, after it is in the store and while the family's lock is held,
	// so calls never overlap nor come out of order. Its context ends after
	// 5s: it must return by then, as the family waits for it. Its error
	// is logged.
	OnRotate func(ctx context.Context, refreshToken Secret) error
	// Lifetime is how long the store keeps a rotated refresh token when
	// the server does not say; default DefaultRefreshLifetime.
	Lifetime time.Duration
}

func (RefreshToken) grantKind() string { return grantRefreshToken }

// String names the grant and its supplier, never a token.
func (g RefreshToken) String() string {
	return fmt.Sprintf("oauthclient.RefreshToken{Token:%v OnRotate:%t}", g.Token, g.OnRotate != nil)
}

// GoString makes %#v as safe as %v.
func (g RefreshToken) GoString() string { return g.String() }

// Format prints [RefreshToken.String] whatever the verb.
func (g RefreshToken) Format(f fmt.State, _ rune) { described(g.String()).format(f) }

// LogValue implements slog.LogValuer with [RefreshToken.String].
func (g RefreshToken) LogValue() slog.Value { return described(g.String()).logValue() }

// MarshalJSON writes [RefreshToken.String].
func (g RefreshToken) MarshalJSON() ([]byte, error) { return described(g.String()).marshalJSON() }

// MarshalYAML writes [RefreshToken.String].
func (g RefreshToken) MarshalYAML() (any, error) { return g.String(), nil }

// ErrReauthorize matches the error of a [RefreshToken] definition whose
// refresh token the server refused (invalid_grant): an administrator must
// authorise again.
var ErrReauthorize = errors.New("an administrator must authorise again")

// ReauthorizeError is the error of a refresh token the server refused. It
// matches [ErrReauthorize] and, when this source's request was refused,
// wraps the server's *[Error] (so ErrInvalidGrant matches too).
type ReauthorizeError struct {
	Definition string
	// Err is the token endpoint's answer; nil when the refusal was seen
	// before (by this source or another replica) and nothing was sent.
	Err  error
	sent bool
}

func (e *ReauthorizeError) Error() string {
	var why string
	var oe *Error
	switch {
	case errors.As(e.Err, &oe):
		why = "the refresh token was refused: " + oe.Code
		if oe.Description != "" {
			why += ": " + oe.Description
		}
	case e.Err != nil:
		why = "the refresh token was refused: " + e.Err.Error()
	default:
		why = "the refresh token was refused earlier"
	}
	return fmt.Sprintf("security definition %q: %s; %v (authorization code + PKCE, see examples/authorize), then supply the new refresh token",
		e.Definition, why, ErrReauthorize)
}

// Is reports whether target is ErrReauthorize or ErrInvalidGrant.
func (e *ReauthorizeError) Is(target error) bool {
	return target == ErrReauthorize || target == ErrInvalidGrant
}

// Unwrap returns the token endpoint's answer, if any.
func (e *ReauthorizeError) Unwrap() error { return e.Err }

// refreshRecord is a family's newest refresh token as the store keeps it
// (encrypted in Redis) and as the process remembers it.
type refreshRecord struct {
	Token string `json:"t"`
	Gen   int64  `json:"g"`           // rotations since the family's first token
	Dead  bool   `json:"d,omitempty"` // refused by the server: never sent again
}

// newer returns the newer of the store's record a and the process's b:
// the store's, unless the process holds a later rotation (its write to the
// store failed).
func newer(a, b *refreshRecord) *refreshRecord {
	if a == nil || (b != nil && b.Gen > a.Gen) {
		return b
	}
	return a
}

// family is a refresh token family as the process knows it: a lock its
// sources take in turn and its newest record.
type family struct {
	sem chan struct{}
	mu  sync.Mutex
	rec *refreshRecord
}

// lock takes the family's lock, or gives up with ctx.
func (f *family) lock(ctx context.Context) (func(), error) {
	select {
	case f.sem <- struct{}{}:
		return func() { <-f.sem }, nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

func (f *family) record() *refreshRecord {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rec
}

func (f *family) remember(r *refreshRecord) {
	f.mu.Lock()
	f.rec = newer(f.rec, r)
	if r.Dead && f.rec.Gen == r.Gen {
		f.rec = r
	}
	f.mu.Unlock()
}

// familyTable holds the families of the process by key.
type familyTable struct {
	mu sync.Mutex
	m  map[string]*family
}

func (t *familyTable) get(key string) *family {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[string]*family{}
	}
	f := t.m[key]
	if f == nil {
		f = &family{sem: make(chan struct{}, 1)}
		t.m[key] = f
	}
	return f
}

// families is the process's memory of its refresh token families: the
// package's one process-wide table, because a refresh token is a
// process-wide resource — two sources of one family in a process (a
// definition and the one a reload replaced it with, two registries) take
// turns, and the newest rotation survives a source that is replaced when
// no store is shared. An entry is a lock and one record per family the
// process has used.
var families familyTable

// refreshGrant is a RefreshToken ready to prepare requests.
type refreshGrant struct {
	def      string
	token    Supplier
	onRotate func(context.Context, Secret) error
	life     time.Duration
	store    cache.Store
	bound    time.Duration // of one refresh request under a fleet lock; 0: none
	log      *slog.Logger
	now      func() time.Time

	mu   sync.Mutex
	seed string // the family's first token as last supplied
}

func newRefreshGrant(cfg Config, g RefreshToken, opts Options) (endpointGrant, error) {
	if g.Token == nil {
		return nil, &ConfigError{Definition: cfg.Name, Field: "refresh_token", Reason: "missing: the refresh token obtained by authorising once"}
	}
	if g.Lifetime < 0 {
		return nil, &ConfigError{Definition: cfg.Name, Field: "refresh_lifetime", Reason: "must not be negative"}
	}
	o := opts.withDefaults()
	r := &refreshGrant{def: cfg.Name, token: g.Token, onRotate: g.OnRotate, life: g.Lifetime, store: opts.Store, log: o.Logger, now: o.Now}
	if r.life == 0 {
		r.life = DefaultRefreshLifetime
	}
	if _, ok := opts.Store.(cache.Locker); ok {
		r.bound = o.LockTTL / 2
	}
	return r, nil
}

func (r *refreshGrant) kind() string       { return grantRefreshToken }
func (r *refreshGrant) identity() []string { return nil }

// prepare reads the family's first token: its hash names the family.
// When the supplier fails, the token it supplied last is used.
func (r *refreshGrant) prepare(ctx context.Context) (*prepared, error) {
	seed, _, err := supply(ctx, r.def, "refresh token", r.token)
	r.mu.Lock()
	if err == nil {
		r.seed = seed
	} else if r.seed != "" {
		r.log.Warn("oauthclient: refresh token supplier failed; using the refresh token it supplied before",
			slog.String("definition", r.def), slog.String("error", err.Error()))
		seed, err = r.seed, nil
	}
	r.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return &prepared{form: url.Values{"grant_type": {"refresh_token"}}, parts: []string{hashed(seed)}, secrets: []string{seed}, state: seed}, nil
}

// recordKey is the store key of the family's record.
func recordKey(familyKey string) string { return keyOf(familyKey, "refresh-token") }

// wrap makes one refresh request with the family's newest refresh token,
// under the family's lock (taken by the source), and keeps what the
// server rotates in.
func (r *refreshGrant) wrap(ctx context.Context, p *prepared, send func(context.Context, *prepared) (*Token, error)) (*Token, error) {
	fam := families.get(p.key)
	rec, err := r.load(ctx, fam, p)
	if err != nil {
		return nil, err
	}
	if rec.Dead {
		return nil, &ReauthorizeError{Definition: r.def}
	}
	p.form.Set("refresh_token", rec.Token)
	p.secrets = append(p.secrets, rec.Token)
	sendCtx := ctx
	if r.bound > 0 {
		var cancel context.CancelFunc
		sendCtx, cancel = context.WithTimeout(ctx, r.bound)
		defer cancel()
	}
	tok, err := send(sendCtx, p)
	if errors.Is(err, ErrInvalidGrant) {
		r.save(ctx, fam, p, &refreshRecord{Token: rec.Token, Gen: rec.Gen, Dead: true}, r.life)
		r.log.Error("oauthclient: the refresh token was refused; an administrator must authorise again",
			slog.String("definition", r.def), slog.String("error", err.Error()))
		return nil, &ReauthorizeError{Definition: r.def, Err: err, sent: true}
	}
	if err != nil {
		return nil, err
	}
	next, _ := tok.cred.extra["refresh_token"].(string)
	if next != "" && next != rec.Token && validToken(next) {
		rot := &refreshRecord{Token: next, Gen: rec.Gen + 1}
		r.save(ctx, fam, p, rot, refreshLifetime(tok.cred.extra, r.life))
		r.rotated(ctx, next)
	} else {
		fam.remember(rec)
	}
	return tok.without("refresh_token", "refresh_expires_in", "refresh_token_expires_in"), nil
}

// load returns the family's newest record: the store's (read from the
// shared store itself, never a local fallback), or the process's when it
// is later, or the family's first token.
func (r *refreshGrant) load(ctx context.Context, fam *family, p *prepared) (*refreshRecord, error) {
	var stored *refreshRecord
	if r.store != nil {
		e, err := strictGet(ctx, r.store, recordKey(p.key))
		switch {
		case err == nil:
			var rec refreshRecord
			if json.Unmarshal(e.Value, &rec) == nil && rec.Token != "" {
				stored = &rec
			}
		case errors.Is(err, cache.ErrNotFound):
		default:
			return nil, fmt.Errorf("security definition %q: reading the refresh token from the store: %w (a refresh token is used only as the store has it)", r.def, err)
		}
	}
	if rec := newer(stored, fam.record()); rec != nil {
		return rec, nil
	}
	return &refreshRecord{Token: p.state}, nil
}

// save keeps rec in the process and writes it to the store before the
// lock is released; a write that fails is logged (the process keeps the
// newest token and writes it again at its next refresh).
func (r *refreshGrant) save(ctx context.Context, fam *family, p *prepared, rec *refreshRecord, life time.Duration) {
	fam.remember(rec)
	if r.store == nil {
		return
	}
	b, _ := json.Marshal(rec)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second) // the fetch's deadline must not lose a rotation
	defer cancel()
	if err := strictSet(ctx, r.store, recordKey(p.key), cache.Entry{Value: b, Expiry: r.now().Add(life)}); err != nil {
		r.log.Error("oauthclient: writing the rotated refresh token to the store failed; other replicas cannot use it",
			slog.String("definition", r.def), slog.String("error", err.Error()))
	}
}

// rotated tells OnRotate about a new refresh token.
func (r *refreshGrant) rotated(ctx context.Context, next string) {
	if r.onRotate == nil {
		return
	}
	defer func() {
		if p := recover(); p != nil {
			r.log.Error("oauthclient: OnRotate panicked", slog.String("definition", r.def), slog.Any("panic", p))
		}
	}()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rotateTimeout) // the rotation is stored already
	defer cancel()
	if err := r.onRotate(ctx, NewSecret(next)); err != nil {
		r.log.Warn("oauthclient: OnRotate failed", slog.String("definition", r.def), slog.String("error", redactValue(err.Error(), next)))
	}
}

// rotateTimeout bounds an OnRotate call.
const rotateTimeout = 5 * time.Second

// refreshLifetime is how long a rotated refresh token lives: the server's
// refresh_expires_in (Keycloak) or refresh_token_expires_in (GitHub,
// Microsoft), else def.
func refreshLifetime(extra map[string]any, def time.Duration) time.Duration {
	for _, k := range []string{"refresh_expires_in", "refresh_token_expires_in"} {
		if d, err := lifetime(extra[k], 0); err == nil && d > 0 {
			return d
		}
	}
	return def
}

// without returns t without the given members of its response.
func (t *Token) without(keys ...string) *Token {
	extra := maps.Clone(t.cred.extra)
	for _, k := range keys {
		delete(extra, k)
	}
	c := *t.cred
	c.extra = extra
	out := *t
	out.cred = &c
	return &out
}

// strictGet reads key from the shared store itself when the store can
// tell (cache.Strict), else as usual.
func strictGet(ctx context.Context, st cache.Store, key string) (cache.Entry, error) {
	if s, ok := st.(cache.Strict); ok {
		return s.StrictGet(ctx, key)
	}
	return st.Get(ctx, key)
}

// strictSet writes key to the shared store itself when the store can tell.
func strictSet(ctx context.Context, st cache.Store, key string, e cache.Entry) error {
	if s, ok := st.(cache.Strict); ok {
		return s.StrictSet(ctx, key, e)
	}
	return st.Set(ctx, key, e)
}

// redactValue hides v in s.
func redactValue(s, v string) string { return scrub(s, []string{v}) }
