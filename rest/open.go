package rest

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"

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
// (connecting to a shared store). Close the registry when done.
func Open(ctx context.Context, cfg *Config, opts ...Option) (*Registry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if cfg == nil {
		cfg = &Config{}
	}
	set := newSettings(cfg.opts, opts)
	cr := &configReader{set: set, broken: map[string]bool{}} // again: cfg may have changed since it was loaded
	cr.check(cfg)
	if err := cr.err(""); err != nil {
		return nil, err
	}
	st, closer, err := openStore(ctx, cfg.Store, set)
	if err != nil {
		return nil, err
	}
	r := &Registry{security: oauthclient.NewRegistry(set.oauthOptions(st)), secs: map[string]Security{}, store: closer, set: set}
	if err := r.build(cfg); err != nil {
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

// build defines cfg's security definitions and connections.
func (r *Registry) build(cfg *Config) error {
	users := securityUsers(cfg)
	for _, name := range slices.Sorted(maps.Keys(cfg.Security)) {
		if sc := cfg.Security[name]; !users.isSMART(name, sc) {
			sec, err := r.define(name, sc)
			if err != nil {
				return err
			}
			r.secs[name] = sec
		}
	}
	for _, name := range slices.Sorted(maps.Keys(cfg.REST)) {
		if err := r.add(name, cfg.REST[name], nil); err != nil {
			return err
		}
	}
	for _, name := range slices.Sorted(maps.Keys(cfg.FHIR)) {
		fc := cfg.FHIR[name]
		var smart *SecurityConfig
		if sc, ok := cfg.Security[fc.Security]; ok && fc.SMART && users.isSMART(fc.Security, sc) {
			smart = &sc
		}
		if err := r.add(name, fc.ConnConfig, smart); err != nil {
			return err
		}
	}
	return nil
}

// add builds and puts one connection; smart is its SMART definition.
func (r *Registry) add(name string, cc ConnConfig, smart *SecurityConfig) error {
	rt, own, err := baseTransport(cc, r.set)
	if err != nil {
		return fmt.Errorf("rest: connection %q: %w", name, err)
	}
	var sec Security
	if smart != nil {
		sec, err = r.smart(cc, *smart, rt)
	} else {
		sec, err = r.Security(cc.Security)
	}
	if err != nil {
		return fmt.Errorf("rest: connection %q: security: %w", name, err)
	}
	c, err := newConn(name, cc, sec, r.set, rt, own)
	if err != nil {
		return err
	}
	return r.Put(c)
}

// define builds one security definition.
func (r *Registry) define(name string, sc SecurityConfig) (Security, error) {
	switch sc.Type {
	case TypeOAuth2:
		cfg, errs := oauthConfig(name, sc, r.set.read)
		if len(errs) > 0 {
			return nil, fmt.Errorf("rest: security %q: %s: %s", name, errs[0].field, errs[0].reason)
		}
		s, err := r.oauth(cfg)
		if err != nil {
			return nil, fmt.Errorf("rest: %w", err)
		}
		return s, nil
	case TypeBasic:
		return Basic(sc.Username, sc.Password.Reveal()), nil
	case TypeAPIKey:
		if sc.In == "query" {
			return APIKeyQuery(sc.Name, sc.Value.Reveal()), nil
		}
		return APIKeyHeader(sc.Name, sc.Value.Reveal()), nil
	case TypeBearer:
		return Bearer(sc.Token.Reveal()), nil
	case TypeNone, "":
		return None(), nil
	}
	return nil, fmt.Errorf("rest: security %q: type: %q is unknown", name, sc.Type)
}

// oauth defines cfg in the registry's token sources.
func (r *Registry) oauth(cfg oauthclient.Config) (Security, error) {
	if err := r.security.Define(cfg); err != nil {
		return nil, err
	}
	src, err := r.security.Source(cfg.Name)
	if err != nil {
		return nil, err
	}
	return OAuth(src), nil
}

// smart builds (once) the SMART Backend Services definition sc of the FHIR
// connection cc, reading the discovery document through rt, the
// connection's own transport without credentials.
func (r *Registry) smart(cc ConnConfig, sc SecurityConfig, rt http.RoundTripper) (Security, error) {
	if s, ok := r.secs[cc.Security]; ok {
		return s, nil // the loader checked that all its connections share one base URL
	}
	cfg, errs := oauthConfig(cc.Security, sc, r.set.read)
	if len(errs) > 0 {
		return nil, fmt.Errorf("%s: %s", errs[0].field, errs[0].reason)
	}
	cfg, err := oauthclient.SMARTBackendServices(cc.BaseURL, cfg)
	if err != nil {
		return nil, err
	}
	cfg.DiscoveryClient = &http.Client{Transport: rt}
	s, err := r.oauth(cfg)
	if err == nil {
		r.secs[cc.Security] = s
	}
	return s, err
}
