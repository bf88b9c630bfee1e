package fhir

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/rest"
)

// ErrUnknownConnection is matched (errors.Is) by the error of
// [Registry.Conn] for a name that is not defined.
var ErrUnknownConnection = errors.New("fhir: unknown connection")

// Registry holds the FHIR connections of a configuration file by name. It
// is immutable, hence safe for concurrent use; build a new one after a
// configuration reload.
type Registry struct {
	conns map[string]*Conn
}

// RegistryOption configures [NewRegistry].
type RegistryOption func(*registryOptions)

type registryOptions struct {
	conn []Option
	disc *Discovery
}

// WithConnOptions applies opts to every connection (e.g. [WithHeader]).
func WithConnOptions(opts ...Option) RegistryOption {
	return func(o *registryOptions) { o.conn = append(o.conn, opts...) }
}

// WithDiscovery makes SMART connections discover their token endpoints
// through d, e.g. to share one cache between registries. By default each
// registry has its own, fetching with the TLS, pool, timeout and retry
// settings of the connection whose server it asks.
func WithDiscovery(d *Discovery) RegistryOption {
	return func(o *registryOptions) { o.disc = d }
}

// NewRegistry builds every FHIR connection of cfg. Each sends its requests
// through a rest.Conn built from its settings, so FHIR calls get the same
// TLS, pool, timeout, retries and token handling as REST calls, with the
// security definitions of reg (see rest.NewRegistry).
//
// A connection with smart: true whose oauth2 definition has no token_url
// uses SMART Backend Services: its definition is completed by
// [BackendServices] (the token endpoint discovered from the server's
// .well-known/smart-configuration when the first token is needed, cached)
// and defined in reg.Security() under its own name. No token is fetched
// here; ctx bounds start-up work.
func NewRegistry(ctx context.Context, cfg *rest.Config, reg *rest.Registry, opts ...RegistryOption) (*Registry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if reg == nil {
		return nil, errors.New("fhir: NewRegistry needs the rest.Registry of the same configuration")
	}
	if cfg == nil {
		cfg = &rest.Config{}
	}
	b := &builder{cfg: cfg, reg: reg, smart: map[string]smartDef{}}
	for _, o := range opts {
		o(&b.opts)
	}
	r := &Registry{conns: make(map[string]*Conn, len(cfg.FHIR))}
	for _, name := range slices.Sorted(maps.Keys(cfg.FHIR)) {
		c, err := b.conn(name, cfg.FHIR[name])
		if err != nil {
			return nil, err
		}
		r.conns[name] = c
	}
	return r, nil
}

// Conn returns the connection called name. For an unknown name the error
// lists the known ones.
func (r *Registry) Conn(name string) (*Conn, error) {
	if c, ok := r.conns[name]; ok {
		return c, nil
	}
	if len(r.conns) == 0 {
		return nil, fmt.Errorf("%w %q: no FHIR connections are defined", ErrUnknownConnection, name)
	}
	return nil, fmt.Errorf("%w %q (known: %s)", ErrUnknownConnection, name, strings.Join(r.Names(), ", "))
}

// Names returns the connection names, sorted.
func (r *Registry) Names() []string { return slices.Sorted(maps.Keys(r.conns)) }

// builder holds what NewRegistry shares between connections.
type builder struct {
	cfg   *rest.Config
	reg   *rest.Registry
	opts  registryOptions
	smart map[string]smartDef // SMART definitions built so far
}

type smartDef struct {
	baseURL string // the server whose discovery gives the token endpoint
	src     *oauthclient.Source
}

func (b *builder) conn(name string, fc rest.FHIRConfig) (*Conn, error) {
	sec, err := b.security(fc)
	if err != nil {
		return nil, fmt.Errorf("fhir: connection %q: %w", name, err)
	}
	rc, err := rest.NewConn(name, fc.ConnConfig, sec, b.reg.Options())
	if err != nil {
		return nil, err
	}
	return New(name, fc.BaseURL, rc, b.opts.conn...)
}

// security picks the connection's security: SMART Backend Services, or the
// definition as rest built it.
func (b *builder) security(fc rest.FHIRConfig) (rest.Security, error) {
	if !fc.SMART {
		return b.reg.SecurityFor(fc.Security)
	}
	sc, ok := b.cfg.Security[fc.Security]
	switch {
	case fc.Security == "":
		return nil, errors.New("security: missing: smart: true needs an oauth2 security definition")
	case !ok:
		return b.reg.SecurityFor(fc.Security) // its error lists the known ones
	case sc.Type != rest.TypeOAuth2:
		return nil, fmt.Errorf("security: smart: true needs an oauth2 security definition (%q is %s)", fc.Security, sc.Type)
	case sc.TokenURL != "":
		return b.reg.SecurityFor(fc.Security)
	}
	src, err := b.backendServices(fc, sc)
	if err != nil {
		return nil, err
	}
	return rest.OAuth(src), nil
}

// backendServices builds (once per definition) the token source of a
// SMART definition.
func (b *builder) backendServices(fc rest.FHIRConfig, sc rest.SecurityConfig) (*oauthclient.Source, error) {
	base := strings.TrimSuffix(fc.BaseURL, "/")
	if d, ok := b.smart[fc.Security]; ok {
		if d.baseURL != base {
			return nil, fmt.Errorf("security: %q discovers its token endpoint at %s; a server at another base URL needs its own definition (or a token_url)",
				fc.Security, redactURL(d.baseURL))
		}
		return d.src, nil
	}
	sr := b.reg.Security()
	if sr == nil {
		return nil, errors.New("the rest.Registry was not built by rest.NewRegistry")
	}
	oc, err := rest.OAuthConfig(fc.Security, sc, b.reg.Options().AllowInsecureHTTP)
	if err == nil {
		oc, err = BackendServices(b.discovery(), base, oc)
	}
	if err == nil {
		err = sr.Define(oc)
	}
	if err != nil {
		return nil, err
	}
	src, err := sr.Source(fc.Security)
	if err != nil {
		return nil, err
	}
	b.smart[fc.Security] = smartDef{baseURL: base, src: src}
	return src, nil
}

// discovery returns the registry's Discovery, building it on first use.
func (b *builder) discovery() *Discovery {
	if b.opts.disc == nil {
		b.opts.disc = NewDiscovery(b.discoveryDoer())
	}
	return b.opts.disc
}

// discoveryDoer sends each discovery request through a connection without
// credentials but with the settings of a smart connection to that origin.
func (b *builder) discoveryDoer() Doer {
	d := originDoer{}
	for _, name := range slices.Sorted(maps.Keys(b.cfg.FHIR)) {
		fc := b.cfg.FHIR[name]
		u, err := url.Parse(fc.BaseURL)
		if !fc.SMART || err != nil {
			continue
		}
		if _, ok := d[origin(u)]; ok {
			continue
		}
		if c, err := rest.NewConn(name+" discovery", fc.ConnConfig, rest.None(), b.reg.Options()); err == nil {
			d[origin(u)] = c
		}
	}
	return d
}

// originDoer routes requests by origin, and elsewhere through
// http.DefaultClient. It is immutable once built.
type originDoer map[string]Doer

func (d originDoer) Do(req *http.Request) (*http.Response, error) {
	if c, ok := d[origin(req.URL)]; ok {
		return c.Do(req)
	}
	return http.DefaultClient.Do(req)
}
