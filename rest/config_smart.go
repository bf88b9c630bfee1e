package rest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/tokenwire/tokenwire/oauthclient"
)

// A SMART definition is an oauth2 security definition without token_url
// used only by FHIR connections with smart: true. Package fhir completes
// it as SMART Backend Services (private_key_jwt, token endpoint discovered
// from the server's .well-known/smart-configuration); [NewRegistry] does
// not build it, and [Registry.SecurityFor] refuses it.

// errSMARTOnly is wrapped by Registry.SecurityFor for a SMART definition.
var errSMARTOnly = errors.New("has no token_url: it is SMART Backend Services, built by package fhir for its smart: true FHIR connections (give it a token_url to use it elsewhere)")

// users lists, by security definition, the connections that use it
// ("rest \"crm\"", "fhir \"ehr\""), and which of them are smart FHIR ones.
type users map[string][]user

type user struct {
	where string
	smart bool
}

func securityUsers(cfg *Config) users {
	u := users{}
	for _, name := range slices.Sorted(maps.Keys(cfg.REST)) {
		if s := cfg.REST[name].Security; s != "" {
			u[s] = append(u[s], user{where: fmt.Sprintf("rest %q", name)})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(cfg.FHIR)) {
		if fc := cfg.FHIR[name]; fc.Security != "" {
			u[fc.Security] = append(u[fc.Security], user{where: fmt.Sprintf("fhir %q", name), smart: fc.SMART})
		}
	}
	return u
}

// smartOnly reports whether the definition name of sc is used, and used
// only, by smart FHIR connections.
func (u users) smartOnly(name string) bool {
	list := u[name]
	return len(list) > 0 && !slices.ContainsFunc(list, func(x user) bool { return !x.smart })
}

// isSMART reports whether sc, called name, is a SMART definition.
func (u users) isSMART(name string, sc SecurityConfig) bool {
	return sc.Type == TypeOAuth2 && sc.TokenURL == "" && u.smartOnly(name)
}

// missingTokenURL explains why a definition without token_url is refused.
func (u users) missingTokenURL(name string) string {
	var others []string
	for _, x := range u[name] {
		if !x.smart {
			others = append(others, x.where)
		}
	}
	if len(others) == 0 {
		return "missing (only a definition used by smart: true FHIR connections alone may leave it out, to discover it)"
	}
	return fmt.Sprintf("missing, and %s cannot discover it (only smart: true FHIR connections can)", listOrNone(others))
}

// checkSMART validates a SMART definition: what fhir.BackendServices will
// demand, and a key that signs RS384 or ES384.
func (r *configReader) checkSMART(where, name string, sc SecurityConfig) {
	if sc.AuthMethod != "" && sc.AuthMethod != string(oauthclient.AuthPrivateKeyJWT) {
		r.add(where, "auth_method", 0, "SMART Backend Services uses private_key_jwt")
		return
	}
	if sc.SigningAlg != "" && sc.SigningAlg != "RS384" && sc.SigningAlg != "ES384" {
		r.add(where, "signing_alg", 0, "%q: SMART Backend Services signs with RS384 or ES384", sc.SigningAlg)
	}
	r.require(where, "key_id", sc.KeyID)
	cfg, errs := oauthConfig(name, sc, r.readFile, r.allowHTTP)
	for _, e := range errs {
		r.add(where, e.field, 0, "%s", e.reason)
	}
	if len(errs) > 0 {
		return
	}
	cfg.AuthMethod = oauthclient.AuthPrivateKeyJWT
	cfg.TokenURLFunc = func(context.Context) (string, error) { return "", errors.New("not discovered") }
	algs := []string{sc.SigningAlg}
	if sc.SigningAlg == "" {
		algs = []string{"ES384", "RS384"} // the key decides; it must fit one
	}
	var err error
	for _, cfg.SigningAlg = range algs {
		if _, err = oauthclient.NewSource(cfg, oauthclient.Options{}); err == nil {
			return
		}
		var ce *oauthclient.ConfigError
		if !errors.As(err, &ce) || ce.Field != "signing_alg" {
			break
		}
	}
	if sc.SigningAlg == "" && isField(err, "signing_alg") {
		r.add(where, "private_key", 0, "SMART Backend Services needs an RSA or EC P-384 key (signing RS384 or ES384)")
		return
	}
	r.addOAuthError(where, err)
}

// checkSMARTConn checks that a smart FHIR connection has an oauth2
// definition.
func (r *configReader) checkSMARTConn(where string, fc FHIRConfig, security map[string]SecurityConfig) {
	sc, ok := security[fc.Security]
	switch {
	case fc.Security == "":
		r.add(where, "security", 0, "missing: smart: true needs an oauth2 security definition")
	case ok && sc.Type != TypeOAuth2:
		r.add(where, "security", 0, "smart: true needs an oauth2 security definition (%q is %s)", fc.Security, sc.Type)
	}
}

func isField(err error, field string) bool {
	var ce *oauthclient.ConfigError
	return errors.As(err, &ce) && ce.Field == field
}

// OAuthConfig converts the oauth2 security definition sc, called name, into
// an oauthclient.Config, reading the files it names (cert_file, key_file,
// ca_file). allowInsecureHTTP permits an http:// token_url (tests). The
// result is not validated (oauthclient.NewSource does that); an error is an
// *oauthclient.ConfigError naming the definition and the field. Package
// fhir uses it to complete SMART definitions.
func OAuthConfig(name string, sc SecurityConfig, allowInsecureHTTP bool) (oauthclient.Config, error) {
	if sc.Type != TypeOAuth2 {
		return oauthclient.Config{}, &oauthclient.ConfigError{Definition: name, Field: "type",
			Reason: fmt.Sprintf("%q is not oauth2", sc.Type)}
	}
	cfg, errs := oauthConfig(name, sc, nil, allowInsecureHTTP)
	if len(errs) > 0 {
		return cfg, &oauthclient.ConfigError{Definition: name, Field: errs[0].field, Reason: errs[0].reason}
	}
	return cfg, nil
}
