package oauthclient

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrExpired matches the error of an [Imported] token read past its
// expiry: whoever hands the service its token has not replaced it.
var ErrExpired = errors.New("token expired")

// Imported is a token issued elsewhere and handed to the service with its
// expiry — a partner's API token, one a deployment job mints — kept and
// attached like any other, and renewed by re-reading Token when it enters
// its renewal window, so that a token replaced where it lives (a file, a
// command's output) is picked up without a restart. Its expiry is the
// supplier's, else the token's own exp when it is a JWT, else Expiry,
// else Config.DefaultLifetime after it was read (then it is simply read
// again). A token read at or past its expiry is an error matching
// [ErrExpired]. Only Config.Name, DefaultLifetime and Timeout apply; an
// imported token is never put in the shared store (reading it again is as
// cheap).
type Imported struct {
	// Token is required. A configuration file writes it as token_from, or
	// gives a fixed token as token: (type bearer).
	Token  Supplier  `json:"token_from,omitempty" yaml:"token_from,omitempty"`
	Expiry time.Time `json:"expires_at,omitzero" yaml:"expires_at,omitempty"` // when Token does not say and the token is no JWT with exp (RFC 3339 in a file)
	Scheme string    `json:"scheme,omitempty" yaml:"scheme"`                  // the Authorization scheme; default "Bearer"
}

func (Imported) grantKind() string { return grantImported }

type importedFetcher struct {
	cfg Config
	g   Imported
	now func() time.Time
}

// prepareImported validates an Imported definition; start makes its
// source.
func prepareImported(cfg Config, g Imported, opts Options) (start func() *Source, err error) {
	if g.Token == nil {
		return nil, &ConfigError{Definition: cfg.Name, Field: "token", Reason: "missing: where the imported token is read"}
	}
	if g.Scheme != "" && !validToken(g.Scheme) {
		return nil, &ConfigError{Definition: cfg.Name, Field: "scheme", Reason: "must be one word of printable characters"}
	}
	f := &importedFetcher{cfg: cfg, g: g, now: opts.withDefaults().Now}
	return func() *Source {
		s := newSource(cfg.Name, f, opts, grantImported)
		s.key = "" // never shared: reading the token again is as cheap
		s.timeout = sharedFetchBound(cfg.Timeout, Options{})
		return s
	}, nil
}

func (f *importedFetcher) Fetch(ctx context.Context) (*Token, error) {
	ctx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	v, exp, err := supply(ctx, f.cfg.Name, "imported token", f.g.Token)
	if err != nil {
		return nil, err
	}
	now := f.now()
	if exp.IsZero() {
		exp = jwtExpiry(v)
	}
	if exp.IsZero() {
		exp = f.g.Expiry
	}
	if exp.IsZero() {
		exp = now.Add(f.cfg.DefaultLifetime)
	}
	if !now.Before(exp) {
		return nil, fmt.Errorf("security definition %q: imported token: %w at %s (replace it where it is read from)", f.cfg.Name, ErrExpired, exp.UTC().Format(time.RFC3339))
	}
	if limit := now.Add(maxLifetime); exp.After(limit) {
		exp = limit
	}
	return newSchemeToken(v, cmp.Or(f.g.Scheme, "Bearer"), now, exp), nil
}
