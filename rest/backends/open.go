package backends

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/url"
	"strings"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/internal/settings"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/rest"
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
func Open(ctx context.Context, cfg *Config, opts ...rest.Option) (*Registry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if cfg == nil {
		cfg = &Config{}
	}
	all := append(append([]rest.Option(nil), cfg.opts...), opts...)
	set := settings.New(all)
	cr := newReader(set) // again: cfg may have changed since it was loaded
	cr.check(cfg)
	if err := cr.err(""); err != nil {
		return nil, err
	}
	key, err := newPrintKey()
	if err != nil {
		return nil, fmt.Errorf("backends: %w", err)
	}
	st, closer, err := openStore(ctx, cfg.Store, set)
	if err != nil {
		return nil, err
	}
	r := &Registry{store: closer, set: set, opts: all, tokenOpts: set.OAuthOptions(st), done: make(chan struct{})}
	r.security = oauthclient.NewRegistry(r.tokenOpts)
	if err := r.apply(r.plan(cfg, &running{key: key})); err != nil {
		_ = r.Close()
		return nil, err
	}
	return r, nil
}

// openStore opens the store the options or the store section name.
func openStore(ctx context.Context, sc StoreConfig, set *settings.Settings) (cache.Store, io.Closer, error) {
	switch {
	case set.Store != nil:
		return set.Store, nil, nil
	case sc.Shared != nil:
		sec, ok := sc.section()
		if !ok { // checked before: a Config built in code
			return nil, nil, fmt.Errorf("backends: store %s: %T is not a store section", sc.SharedName, sc.Shared)
		}
		st, err := sec.Open(ctx, set.StoreEnv())
		if err != nil {
			if strings.HasPrefix(err.Error(), sc.SharedName+": ") { // "redis: store …": named once
				return nil, nil, fmt.Errorf("backends: store %w", err)
			}
			return nil, nil, fmt.Errorf("backends: store %s: %w", sc.SharedName, err)
		}
		c, _ := st.(io.Closer)
		return st, c, nil
	case sc.Memory != nil:
		var mo []cache.MemoryOption
		if set.Now != nil {
			mo = append(mo, cache.WithClock(set.Now))
		}
		return cache.NewMemory(sc.Memory.Size, mo...), nil, nil
	}
	return nil, nil, nil
}

// define builds one security definition other than a SMART one; the
// source of an oauth2, login or imported bearer definition is returned for
// the registry to register.
func (r *Registry) define(name string, sc SecurityConfig) (def, *oauthclient.Source, error) {
	switch sc.Type {
	case typeOAuth2, typeLogin:
		return r.defineSource(name, sc)
	case typeBasic:
		return def{rest.Basic(sc.Username, sc.Password.Reveal()), typeBasic}, nil, nil
	case typeAPIKey:
		if sc.In == "query" {
			return def{rest.APIKeyQuery(sc.Name, sc.Value.Reveal()), typeAPIKey}, nil, nil
		}
		return def{rest.APIKeyHeader(sc.Name, sc.Value.Reveal()), typeAPIKey}, nil, nil
	case typeBearer:
		if sc.imported() {
			return r.defineSource(name, sc)
		}
		return def{rest.Bearer(sc.Token.Reveal()), typeBearer}, nil, nil
	case typeNone, "":
		return def{rest.None(), typeNone}, nil, nil
	}
	return def{}, nil, fmt.Errorf("backends: security definition %q: type: %q is unknown", name, sc.Type)
}

// staticSecrets are the values a basic, apikey or bearer definition sends
// as they are, in the forms they travel: what reports scrub.
func staticSecrets(sc SecurityConfig) []string {
	switch sc.Type {
	case typeBasic:
		return []string{sc.Password.Reveal(), base64.StdEncoding.EncodeToString([]byte(sc.Username + ":" + sc.Password.Reveal()))}
	case typeAPIKey:
		return []string{sc.Value.Reveal(), url.QueryEscape(sc.Value.Reveal())}
	case typeBearer:
		return []string{sc.Token.Reveal()}
	}
	return nil
}
