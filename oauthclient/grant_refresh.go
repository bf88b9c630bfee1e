package oauthclient

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"sync"
	"time"

	"github.com/tokenwire/tokenwire/cache"
)

// defaultRefreshLifetime is how long the store keeps a rotated refresh
// token when the server does not say (refresh_expires_in,
// refresh_token_expires_in): RefreshToken.Lifetime's default.
const defaultRefreshLifetime = 90 * 24 * time.Hour

// RefreshToken is the refresh token grant (RFC 6749 §6) for a definition
// that an administrator authorised once (authorization code + PKCE: see
// examples/authorize): access tokens are renewed with grant_type
// refresh_token, as the definition authenticates (with no AuthMethod:
// client_secret_basic when it has a ClientSecret, else a public client
// sending its client_id).
//
// Token supplies the refresh token obtained then. Its value names the
// token's family; authorising again (a new value from Token) starts a new
// family. A refresh token is the one credential that cannot be fetched
// again, so the family is kept like a database keeps a commit:
//
//   - durable before the old token is forgotten: a rotated token is
//     written to its places of record — the shared store (a
//     [cache.Strict] store such as cache/redis, encrypted there) and the
//     StateFile when one is named — before the request that used the old
//     one returns; OnRotate is told after;
//   - never sent twice: the sources of a family take turns, in the
//     process and, with a shared store, across the fleet under the store's
//     lock (a refresh request is bounded by half of Options.LockTTL, so the
//     lock never expires while one is in flight), and an intent naming the
//     replica is written to the store before the request leaves, so that
//     no other replica sends a token whose outcome is not known;
//   - uncertain means not sent: a replica that finds the store without
//     the family's record while it knows one (Redis restarted empty or
//     flushed), an older record than it knows, another replica's intent,
//     or a record a replica restored after a loss, does not send; it
//     writes back what it knows (the newest generation wins), reports an
//     error matching [ErrRefreshUncertain] (logged with the family's hash
//     and why; the status and the tokenwire.token.requests outcome
//     refresh_uncertain show it) and tries again with backoff. A replica
//     whose own rotation did not reach the store (the link cut mid-way)
//     is sure of it — nobody else can have read it — and writes it back
//     as soon as the store answers, releasing the others. A state nobody
//     can be sure of (the holder of an intent killed, a flush after
//     rotations by several replicas) waits for an operator: supply the
//     newest token (a replica's StateFile has it) or authorise again.
//
// While the shared store is unreachable such a definition keeps serving
// the access token it holds and does not refresh.
//
// A refresh token the server refuses (invalid_grant: expired, revoked,
// reused) stops renewal: the error matches [ErrReauthorize] (and
// [ErrInvalidGrant]), the family is marked refused in its places of
// record so that no replica sends it again, and no token request is made
// until Token supplies a new refresh token.
type RefreshToken struct {
	Token Supplier `json:"refresh_token,omitempty" yaml:"refresh_token,omitempty"` // required: the refresh token obtained by authorising once
	// StateFile, when set, is where the family's newest refresh token is
	// kept across restarts (mode 0600, replaced atomically: temporary
	// file, fsync, rename): a single instance on the memory store
	// survives a restart with it. It holds a live credential: keep it
	// where the Token's own file would be kept. It keeps one family:
	// each definition needs its own.
	StateFile string `json:"refresh_state_file,omitempty" yaml:"refresh_state_file"`
	// OnRotate, when set, is told each refresh token the server rotates
	// in, after it is in its places of record and while the family's
	// lock is held, so calls never overlap nor come out of order. Its
	// context ends after 5s: it must return by then, as the family waits
	// for it, and must not close its source, whose Close waits for the
	// refresh in progress. Its error is logged.
	OnRotate func(ctx context.Context, refreshToken Secret) error `json:"-" yaml:"-"`
	// Lifetime is how long the store keeps a rotated refresh token when
	// the server does not say; default 90 days.
	Lifetime time.Duration `json:"refresh_lifetime,omitempty" yaml:"refresh_lifetime"`
}

func (RefreshToken) grantKind() string { return grantRefreshToken }

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

// ErrRefreshUncertain matches the error of a [RefreshToken] definition
// that did not send its refresh token because it cannot be sure that no
// other replica has sent it (see RefreshToken): the family waits for the
// replica that holds the newest token, or for an operator.
var ErrRefreshUncertain = errors.New("the newest refresh token is uncertain, so it was not sent")

// uncertainError is ErrRefreshUncertain for one family, with why.
type uncertainError struct {
	def, family, why string
}

func (e *uncertainError) Error() string {
	return fmt.Sprintf("security definition %q: refresh token family %s: %v: %s", e.def, e.family, ErrRefreshUncertain, e.why)
}

func (e *uncertainError) Is(target error) bool { return target == ErrRefreshUncertain }

// refreshGrant is a RefreshToken ready to prepare requests.
type refreshGrant struct {
	def      string
	token    Supplier
	file     stateFile
	onRotate func(context.Context, Secret) error
	life     time.Duration
	shared   cache.Strict  // the fleet's place of record; nil: none
	lockTTL  time.Duration // of the fleet lock
	bound    time.Duration // of one refresh request under a fleet lock; 0: none
	log      *slog.Logger
	now      func() time.Time

	ctx  context.Context // ends at close: republishing stops
	stop context.CancelFunc
	wg   sync.WaitGroup

	mu     sync.Mutex
	seed   string             // the family's first token as last supplied
	fams   map[string]*family // the families this grant acquired
	closed bool
}

func newRefreshGrant(cfg Config, g RefreshToken, opts Options) (endpointGrant, error) {
	if g.Token == nil {
		return nil, &ConfigError{Definition: cfg.Name, Field: "refresh_token", Reason: "missing: the refresh token obtained by authorising once"}
	}
	if g.Lifetime < 0 {
		return nil, &ConfigError{Definition: cfg.Name, Field: "refresh_lifetime", Reason: "must not be negative"}
	}
	o := opts.withDefaults()
	r := &refreshGrant{def: cfg.Name, token: g.Token, file: stateFile(g.StateFile), onRotate: g.OnRotate, life: g.Lifetime,
		lockTTL: o.LockTTL, log: o.Logger, now: o.Now, fams: map[string]*family{}}
	if r.life == 0 {
		r.life = defaultRefreshLifetime
	}
	r.shared, _ = opts.Store.(cache.Strict)
	if _, ok := opts.Store.(cache.Locker); ok {
		r.bound = o.LockTTL / 2
	}
	r.ctx, r.stop = context.WithCancel(context.Background())
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
	return &prepared{form: url.Values{"grant_type": {"refresh_token"}}, parts: []string{hashed(seed)}, secrets: []string{seed}, state: seed,
		family: familyKey(seed)}, nil
}

// familyKey names the family of a first refresh token: its hash alone, so
// that a change of the definition's other fields (scopes, audience, the
// token URL's spelling) keeps the family — its records, its locks, its
// state file — while the access tokens it yields are still kept apart.
func familyKey(seed string) string { return keyOf("refresh-family", hashed(seed)) }

// recordKey is the store key of the family's record (familyKey's).
func recordKey(familyKey string) string { return keyOf(familyKey, "refresh-token") }

// family returns the family of key, acquired for this grant until close
// (and, with hold, once more: see lock); the first time the process uses
// it, what its state file keeps is read.
func (r *refreshGrant) family(key string, hold bool) (*family, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, fmt.Errorf("security definition %q: %w", r.def, ErrClosed)
	}
	f := r.fams[key]
	if f == nil {
		f = families.acquire(key)
		r.fams[key] = f
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.loaded {
		fr, err := r.file.read(key)
		if err != nil {
			return nil, fmt.Errorf("security definition %q: %w", r.def, err)
		}
		f.loaded = true
		if fr != nil && (f.rec == nil || fr.Gen > f.rec.Gen) {
			f.rec = &fr.refreshRecord
			if fr.By != "" && f.rec.Sending == "" { // the same replica, restarted
				f.id = fr.By
			}
		}
	}
	if hold {
		families.hold(f)
	}
	return f, nil
}

// lock takes the lock of key's family in the process. The family stays
// the process's while its lock is held, even after the grant is closed:
// a request in flight still rotates the token, and a grant of the family
// made meanwhile must wait for it and learn the rotation.
func (r *refreshGrant) lock(ctx context.Context, key string) (func(), error) {
	f, err := r.family(key, true)
	if err != nil {
		return nil, err
	}
	unlock, err := f.lock(ctx)
	if err != nil {
		families.release(f)
		return nil, err
	}
	return func() { unlock(); families.release(f) }, nil
}

// close waits for a refresh in progress to record its outcome, stops
// republishing and forgets the grant's families once no other open grant
// of the process uses them.
func (r *refreshGrant) close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	fams := r.fams
	r.fams = nil
	r.mu.Unlock()
	r.stop()
	r.wg.Wait()
	for _, f := range fams {
		families.release(f)
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

// redactValue hides v in s.
func redactValue(s, v string) string { return scrub(s, []string{v}) }
