package backends

import (
	"maps"

	"github.com/tokenwire/tokenwire/internal/tlsconf"
	"github.com/tokenwire/tokenwire/oauthclient"
)

type fieldError struct{ field, reason string }

// oauthConfig converts an oauth2, login or imported bearer definition,
// reading its certificate files; a definition: supplier is bound to no
// registry (see grantOf).
func oauthConfig(name string, sc SecurityConfig, readFile func(string) ([]byte, error)) (oauthclient.Config, []fieldError) {
	cfg := oauthclient.Config{
		Name: name, TokenURL: sc.TokenURL, Issuer: sc.Issuer, ClientID: sc.ClientID, ClientSecret: sc.ClientSecret, PrivateKeyPEM: sc.PrivateKey,
		Scopes: sc.Scopes, Audience: sc.Audience, Resources: sc.Resources, AuthMethod: oauthclient.AuthMethod(sc.AuthMethod),
		KeyID: sc.KeyID, SigningAlg: sc.SigningAlg, AssertionAudience: sc.AssertionAudience,
		AssertionLifetime: sc.AssertionLifetime, Timeout: sc.Timeout, DefaultLifetime: sc.DefaultLifetime,
		DPoP: sc.DPoP, DPoPKeyPEM: sc.DPoPKey, DPoPAlg: sc.DPoPAlg,
		Grant: grantOf(sc, nil),
	}
	cfg.Params = maps.Clone(sc.Params)
	var errs []fieldError
	if (sc.CertFile == "") != (sc.KeyFile == "") {
		errs = append(errs, fieldError{"cert_file", "cert_file and key_file go together"})
	} else if sc.CertFile != "" {
		if _, err := tlsconf.KeyPair(sc.CertFile, sc.KeyFile, readFile); err != nil {
			errs = append(errs, fieldError{"cert_file", err.Error()})
		}
		cfg.CertFile, cfg.KeyFile = sc.CertFile, sc.KeyFile // read again by the source when they change on disk
	}
	if sc.CAFile != "" {
		pool, err := tlsconf.CertPool(sc.CAFile, readFile)
		if err != nil {
			errs = append(errs, fieldError{"ca_file", err.Error()})
		}
		cfg.RootCAs = pool
	}
	return cfg, errs
}
