package rest

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/cache/redis"
	"github.com/tokenwire/tokenwire/oauthclient"
)

// RegistryOptions are the run-time knobs of [NewRegistry].
type RegistryOptions struct {
	Options // for every connection
	// OAuth is given to every OAuth token source. When OAuth.Store is nil,
	// the configuration's store section provides it.
	OAuth oauthclient.Options
}

// NewRegistry builds the security definitions and REST connections of cfg
// (FHIR connections are built by the fhir package, with
// [Registry.SecurityFor]). An oauth2 definition without token_url used
// only by smart: true FHIR connections is left to package fhir, which
// completes it as SMART Backend Services. OAuth definitions go into an
// oauthclient.Registry, available from [Registry.Security]. ctx bounds
// start-up work; no token is fetched before the first call.
func NewRegistry(ctx context.Context, cfg *Config, opts RegistryOptions) (*Registry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if cfg == nil {
		cfg = &Config{}
	}
	oo := opts.OAuth
	if oo.Store == nil {
		st, err := openStore(cfg.Store, oo)
		if err != nil {
			return nil, err
		}
		oo.Store = st
	}
	r := &Registry{security: oauthclient.NewRegistry(oo), opts: opts.Options, secs: map[string]Security{}, smart: map[string]bool{}}
	if c, ok := oo.Store.(io.Closer); ok && opts.OAuth.Store == nil {
		r.closer = c
	}
	if err := r.build(cfg); err != nil {
		_ = r.Close() // the store it opened
		return nil, err
	}
	return r, nil
}

// openStore opens the store of a configuration's store section (a
// variable for tests).
var openStore = newStore

// build defines cfg's security definitions and connections.
func (r *Registry) build(cfg *Config) error {
	users := securityUsers(cfg)
	for _, name := range slices.Sorted(maps.Keys(cfg.Security)) {
		if users.isSMART(name, cfg.Security[name]) {
			r.smart[name] = true
			continue
		}
		sec, err := r.define(name, cfg.Security[name])
		if err != nil {
			return err
		}
		r.secs[name] = sec
	}
	conns := make(map[string]*Conn, len(cfg.REST))
	for name, cc := range cfg.REST {
		sec, err := r.SecurityFor(cc.Security)
		if err != nil {
			return fmt.Errorf("rest: connection %q: %w", name, err)
		}
		if conns[name], err = NewConn(name, cc, sec, r.opts); err != nil {
			return err
		}
	}
	r.replaceAll(conns)
	return nil
}

// define builds one security definition.
func (r *Registry) define(name string, sc SecurityConfig) (Security, error) {
	switch sc.Type {
	case TypeOAuth2:
		cfg, errs := oauthConfig(name, sc, nil, r.opts.AllowInsecureHTTP)
		if len(errs) > 0 {
			return nil, fmt.Errorf("rest: security %q: %s: %s", name, errs[0].field, errs[0].reason)
		}
		if err := r.security.Define(cfg); err != nil {
			return nil, fmt.Errorf("rest: %w", err)
		}
		src, err := r.security.Source(name)
		if err != nil {
			return nil, fmt.Errorf("rest: %w", err)
		}
		return OAuth(src), nil
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

// SecurityFor returns the security definition called name ("" is [None]),
// for connections built outside the registry (FHIR). A SMART definition
// (see [NewRegistry]) is an error: package fhir builds those itself.
func (r *Registry) SecurityFor(name string) (Security, error) {
	if name == "" {
		return None(), nil
	}
	if s, ok := r.secs[name]; ok {
		return s, nil
	}
	if r.smart[name] {
		return nil, fmt.Errorf("rest: security definition %q %w", name, errSMARTOnly)
	}
	known := slices.AppendSeq(slices.Collect(maps.Keys(r.secs)), maps.Keys(r.smart))
	slices.Sort(known)
	return nil, fmt.Errorf("rest: unknown security definition %q (known: %s)", name, listOrNone(known))
}

// Options returns the connection options the registry was built with.
func (r *Registry) Options() Options { return r.opts }

func newStore(sc StoreConfig, oo oauthclient.Options) (cache.Store, error) {
	switch {
	case sc.Redis != nil:
		st, err := redis.NewFromConfig(*sc.Redis)
		if err != nil {
			return nil, fmt.Errorf("rest: store: %w", err)
		}
		return st, nil
	case sc.Memory != nil:
		var mo []cache.MemoryOption
		if oo.Now != nil {
			mo = append(mo, cache.WithClock(oo.Now))
		}
		return cache.NewMemory(sc.Memory.Size, mo...), nil
	}
	return nil, nil
}
