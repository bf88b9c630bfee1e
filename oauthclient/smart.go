package oauthclient

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"strings"
)

// SMARTBackendServices completes cfg as SMART Backend Services (the SMART
// App Launch implementation guide's backend services profile, as Epic,
// Oracle Health and other EHRs expect) for the FHIR server at fhirBaseURL:
// the client-credentials grant with a private_key_jwt assertion signed
// RS384 or ES384 under a key id, and SMART system scopes such as
// "system/Patient.rs".
//
// When cfg has no TokenURL, its DiscoveryURL becomes the server's
// <fhirBaseURL>/.well-known/smart-configuration, so that the token endpoint
// is read from there before the first token request (and kept for
// an hour). Errors are *[ConfigError] naming the field.
func SMARTBackendServices(fhirBaseURL string, cfg Config) (Config, error) {
	bad := func(field, reason string) (Config, error) {
		return cfg, &ConfigError{Definition: cfg.Name, Field: field, Reason: reason}
	}
	if cfg.AuthMethod != "" && cfg.AuthMethod != AuthPrivateKeyJWT {
		return bad("auth_method", "SMART Backend Services uses private_key_jwt")
	}
	cfg.AuthMethod = AuthPrivateKeyJWT
	switch cfg.SigningAlg {
	case "RS384", "ES384":
	case "":
		if ok, known := smartKey(cfg); known && !ok {
			return bad("private_key", "SMART Backend Services needs an RSA or EC P-384 key (signing RS384 or ES384)")
		}
	default:
		return bad("signing_alg", "SMART Backend Services signs with RS384 or ES384")
	}
	if cfg.KeyID == "" {
		return bad("key_id", "missing: SMART servers pick the key from the JWKS by kid")
	}
	if cfg.TokenURL == "" && cfg.DiscoveryURL == "" {
		if fhirBaseURL == "" {
			return bad("token_url", "missing, and no FHIR base URL to discover it from")
		}
		cfg.DiscoveryURL = strings.TrimSuffix(fhirBaseURL, "/") + "/.well-known/smart-configuration"
	}
	return cfg, nil
}

// smartKey reports whether cfg's key signs RS384 or ES384; known is false
// when there is no key to look at (NewSource then reports that).
func smartKey(cfg Config) (ok, known bool) {
	key := cfg.PrivateKey
	if key == nil && !cfg.PrivateKeyPEM.IsZero() {
		k, err := parsePrivateKey([]byte(cfg.PrivateKeyPEM.Reveal()))
		if err != nil {
			return false, false
		}
		key = k
	}
	if key == nil {
		return false, false
	}
	if ec, isEC := key.(*ecdsa.PrivateKey); isEC {
		return ec.Curve == elliptic.P384(), true
	}
	return true, true // RSA signs RS384; other types are NewSource's to refuse
}
