package rest

import (
	"context"
	"fmt"
	"io"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/oauthclient"
)

// Open builds everything cfg declares: the token store, the security
// definitions and every REST and FHIR connection, in one [Registry]. The
// options given to the loader apply, then opts. A Config built in code is
// validated first (a *[ConfigError] lists its problems). An oauth2
// definition without token_url used by smart: true FHIR connections is
// SMART Backend Services, its token endpoint read from the server's
// .well-known/smart-configuration through that connection's TLS settings.
// No token is fetched before the first call; ctx bounds start-up work
// (connecting to a shared store). Close the registry when done;
// [Registry.Reload] applies a changed configuration while it runs.
func Open(ctx context.Context, cfg *Config, opts ...Option) (*Registry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if cfg == nil {
		cfg = &Config{}
	}
	all := append(append([]Option(nil), cfg.opts...), opts...)
	set := newSettings(nil, all)
	cr := &configReader{set: set, broken: map[string]bool{}} // again: cfg may have changed since it was loaded
	cr.check(cfg)
	if err := cr.err(""); err != nil {
		return nil, err
	}
	key, err := newPrintKey()
	if err != nil {
		return nil, fmt.Errorf("rest: %w", err)
	}
	st, closer, err := openStore(ctx, cfg.Store, set)
	if err != nil {
		return nil, err
	}
	r := &Registry{store: closer, set: set, opts: all, tokenOpts: set.oauthOptions(st), done: make(chan struct{})}
	r.security = oauthclient.NewRegistry(r.tokenOpts)
	if err := r.apply(r.plan(cfg, &running{key: key})); err != nil {
		_ = r.Close()
		return nil, err
	}
	return r, nil
}

// openStore opens the store the options or the store section name.
func openStore(ctx context.Context, sc StoreConfig, set *settings) (cache.Store, io.Closer, error) {
	switch {
	case set.store != nil:
		return set.store, nil, nil
	case sc.Shared != nil:
		st, err := sc.Shared.Open(ctx, set.storeEnv())
		if err != nil {
			return nil, nil, fmt.Errorf("rest: store %s: %w", sc.SharedName, err)
		}
		c, _ := st.(io.Closer)
		return st, c, nil
	case sc.Memory != nil:
		var mo []cache.MemoryOption
		if set.now != nil {
			mo = append(mo, cache.WithClock(set.now))
		}
		return cache.NewMemory(sc.Memory.Size, mo...), nil, nil
	}
	return nil, nil, nil
}

// define builds one security definition other than a SMART one; the
// source of an oauth2, login or imported bearer definition is returned for
// the registry to register.
func (r *Registry) define(name string, sc SecurityConfig) (Security, *oauthclient.Source, error) {
	switch sc.Type {
	case TypeOAuth2, TypeLogin:
		return r.defineSource(name, sc)
	case TypeBasic:
		return Basic(sc.Username, sc.Password.Reveal()), nil, nil
	case TypeAPIKey:
		if sc.In == "query" {
			return APIKeyQuery(sc.Name, sc.Value.Reveal()), nil, nil
		}
		return APIKeyHeader(sc.Name, sc.Value.Reveal()), nil, nil
	case TypeBearer:
		if sc.imported() {
			return r.defineSource(name, sc)
		}
		return Bearer(sc.Token.Reveal()), nil, nil
	case TypeNone, "":
		return None(), nil, nil
	}
	return nil, nil, fmt.Errorf("rest: security %q: type: %q is unknown", name, sc.Type)
}
