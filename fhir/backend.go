package fhir

import (
	"context"
	"fmt"
	"slices"

	"github.com/tokenwire/tokenwire/oauthclient"
)

// BackendServices completes a SMART Backend Services security definition
// for the FHIR server at baseURL: the client-credentials grant with a
// private_key_jwt assertion (RS384 or ES384, a kid, a fresh jti, exp at
// most 5 minutes ahead, aud = the token endpoint) and SMART system scopes
// such as "system/Patient.rs".
//
// When cfg.TokenURL is empty, the token endpoint is taken from the server's
// .well-known/smart-configuration through d (cached there) when the first
// token is needed, so a connection needs only a base URL, a client id, a
// key and scopes; the discovered server must accept private_key_jwt.
func BackendServices(d *Discovery, baseURL string, cfg oauthclient.Config) (oauthclient.Config, error) {
	bad := func(field, reason string) error {
		return &oauthclient.ConfigError{Definition: cfg.Name, Field: field, Reason: reason}
	}
	if cfg.AuthMethod != "" && cfg.AuthMethod != oauthclient.AuthPrivateKeyJWT {
		return cfg, bad("auth_method", "SMART Backend Services uses private_key_jwt")
	}
	cfg.AuthMethod = oauthclient.AuthPrivateKeyJWT
	if cfg.SigningAlg != "" && cfg.SigningAlg != "RS384" && cfg.SigningAlg != "ES384" {
		return cfg, bad("signing_alg", "SMART Backend Services signs with RS384 or ES384")
	}
	if cfg.KeyID == "" {
		return cfg, bad("key_id", "missing: SMART servers pick the key from the JWKS by kid")
	}
	if cfg.AssertionLifetime > oauthclient.MaxAssertionLifetime {
		return cfg, bad("assertion_lifetime", "at most 5m")
	}
	if cfg.TokenURL == "" && cfg.TokenURLFunc == nil {
		if d == nil {
			return cfg, bad("token_url", "missing, and no discovery to find it")
		}
		if cfg.Issuer == "" {
			cfg.Issuer = baseURL
		}
		cfg.TokenURLFunc = func(ctx context.Context) (string, error) {
			sc, err := d.Discover(ctx, baseURL)
			if err != nil {
				return "", err
			}
			if len(sc.TokenEndpointAuthMethodsSupported) > 0 && !sc.SupportsAuthMethod("private_key_jwt") {
				return "", fmt.Errorf("fhir: %s does not accept private_key_jwt (it lists %v)", redactURL(baseURL), sc.TokenEndpointAuthMethodsSupported)
			}
			if alg := cfg.SigningAlg; alg != "" && len(sc.TokenEndpointAuthSigningAlgs) > 0 && !slices.Contains(sc.TokenEndpointAuthSigningAlgs, alg) {
				return "", fmt.Errorf("fhir: %s does not accept %s assertions", redactURL(baseURL), alg)
			}
			return sc.TokenEndpoint, nil
		}
	}
	return cfg, nil
}
