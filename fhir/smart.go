package fhir

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// SmartConfiguration is a server's SMART App Launch / Backend Services
// configuration (<base>/.well-known/smart-configuration).
type SmartConfiguration struct {
	Issuer                            string   `json:"issuer,omitempty"`
	JWKSURI                           string   `json:"jwks_uri,omitempty"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint,omitempty"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	TokenEndpointAuthSigningAlgs      []string `json:"token_endpoint_auth_signing_alg_values_supported,omitempty"`
	GrantTypesSupported               []string `json:"grant_types_supported,omitempty"`
	ScopesSupported                   []string `json:"scopes_supported,omitempty"`
	ResponseTypesSupported            []string `json:"response_types_supported,omitempty"`
	Capabilities                      []string `json:"capabilities,omitempty"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported,omitempty"`
	RegistrationEndpoint              string   `json:"registration_endpoint,omitempty"`
	IntrospectionEndpoint             string   `json:"introspection_endpoint,omitempty"`
	RevocationEndpoint                string   `json:"revocation_endpoint,omitempty"`
	ManagementEndpoint                string   `json:"management_endpoint,omitempty"`
}

// SupportsAuthMethod reports whether the token endpoint accepts the client
// authentication method m (e.g. "private_key_jwt").
func (s *SmartConfiguration) SupportsAuthMethod(m string) bool {
	return slices.Contains(s.TokenEndpointAuthMethodsSupported, m)
}

// SupportsBackendServices reports whether the server advertises SMART
// Backend Services: the client_credentials grant with private_key_jwt.
func (s *SmartConfiguration) SupportsBackendServices() bool {
	return slices.Contains(s.GrantTypesSupported, "client_credentials") && s.SupportsAuthMethod("private_key_jwt")
}

func (s *SmartConfiguration) clone() *SmartConfiguration {
	cp := *s
	for _, p := range []*[]string{&cp.TokenEndpointAuthMethodsSupported, &cp.TokenEndpointAuthSigningAlgs,
		&cp.GrantTypesSupported, &cp.ScopesSupported, &cp.ResponseTypesSupported, &cp.Capabilities,
		&cp.CodeChallengeMethodsSupported} {
		*p = slices.Clone(*p)
	}
	return &cp
}

// Discovery fetches and caches SMART configurations per base URL. Callers
// asking for the same base URL at the same time share one fetch; a caller
// whose context ends stops waiting without cancelling the others' fetch.
// Failures are not cached. Safe for concurrent use.
type Discovery struct {
	doer    Doer
	ttl     time.Duration
	timeout time.Duration
	now     func() time.Time
	group   singleflight.Group

	mu      sync.Mutex
	entries map[string]discovered
}

type discovered struct {
	cfg     *SmartConfiguration
	expires time.Time
}

// DiscoveryOption configures a [Discovery].
type DiscoveryOption func(*Discovery)

// WithTTL sets how long a configuration is cached (default 1h).
func WithTTL(d time.Duration) DiscoveryOption { return func(x *Discovery) { x.ttl = d } }

// WithClock injects the clock (default time.Now).
func WithClock(now func() time.Time) DiscoveryOption { return func(x *Discovery) { x.now = now } }

// WithFetchTimeout bounds one shared fetch (default 10s).
func WithFetchTimeout(d time.Duration) DiscoveryOption { return func(x *Discovery) { x.timeout = d } }

// NewDiscovery returns a cache of SMART configurations fetched through doer.
func NewDiscovery(doer Doer, opts ...DiscoveryOption) *Discovery {
	d := &Discovery{doer: doer, ttl: time.Hour, timeout: 10 * time.Second, now: time.Now, entries: map[string]discovered{}}
	for _, o := range opts {
		o(d)
	}
	return d
}

// Discover returns the SMART configuration of the FHIR server at baseURL,
// from the cache while it is fresh.
func (d *Discovery) Discover(ctx context.Context, baseURL string) (*SmartConfiguration, error) {
	key := strings.TrimSuffix(baseURL, "/")
	if cfg := d.cached(key); cfg != nil {
		return cfg.clone(), nil
	}
	ch := d.group.DoChan(key, func() (any, error) {
		if cfg := d.cached(key); cfg != nil {
			return cfg, nil // stored by a fetch that just ended
		}
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.timeout)
		defer cancel()
		cfg, err := Discover(fctx, d.doer, key)
		if err != nil {
			return nil, err
		}
		d.mu.Lock()
		d.entries[key] = discovered{cfg: cfg, expires: d.now().Add(d.ttl)}
		d.mu.Unlock()
		return cfg, nil
	})
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*SmartConfiguration).clone(), nil
	}
}

func (d *Discovery) cached(key string) *SmartConfiguration {
	d.mu.Lock()
	defer d.mu.Unlock()
	if e, ok := d.entries[key]; ok && d.now().Before(e.expires) {
		return e.cfg
	}
	return nil
}

// Discover fetches <baseURL>/.well-known/smart-configuration once, without
// caching (see [Discovery] for the cached form), and checks that it names a
// token endpoint: absolute, and HTTPS when the base URL is.
func Discover(ctx context.Context, doer Doer, baseURL string) (*SmartConfiguration, error) {
	base := strings.TrimSuffix(baseURL, "/")
	u := base + "/.well-known/smart-configuration"
	fail := func(format string, args ...any) error {
		return fmt.Errorf("fhir: SMART discovery at %s: %s", redactURL(u), fmt.Sprintf(format, args...))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fail("%v", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := doer.Do(req)
	if err != nil {
		return nil, fail("%v", err)
	}
	defer resp.Body.Close()
	body, err := readBounded(resp.Body, 1<<20)
	if err != nil {
		return nil, fail("%v", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fail("status %d", resp.StatusCode)
	}
	var cfg SmartConfiguration
	if err := json.Unmarshal(body, &cfg); err != nil {
		return nil, fail("not a JSON configuration: %v", err)
	}
	tu, err := url.Parse(cfg.TokenEndpoint)
	switch {
	case cfg.TokenEndpoint == "":
		return nil, fail("no token_endpoint")
	case err != nil || !tu.IsAbs() || tu.Host == "":
		return nil, fail("token_endpoint is not an absolute URL")
	case strings.HasPrefix(base, "https:") && tu.Scheme != "https":
		return nil, fail("token_endpoint must use https")
	}
	return &cfg, nil
}
