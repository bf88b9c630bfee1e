package oauthclient

import (
	"cmp"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tokenwire/tokenwire/internal/redact"
)

// tokenRequest is a token request being built. A clientAuth adds the
// client's credentials to its form or header before it is sent.
//
// Form and Header hold the client's credentials once a clientAuth has run:
// encoding/json and YAML leave them out, and fmt prints only their names
// (see its Format).
type tokenRequest struct {
	TokenURL string
	ClientID string
	Form     url.Values  `json:"-" yaml:"-"`
	Header   http.Header `json:"-" yaml:"-"`
}

// Format prints the token URL, the client and the names (never the
// values) of the form fields and headers, whatever the verb. Handle a
// tokenRequest by pointer: fmt's %p of a dereferenced one, which no method
// intercepts, shows the maps.
func (r tokenRequest) Format(f fmt.State, _ rune) { redact.Format(f, r.describe()) }

func (r tokenRequest) describe() string {
	return fmt.Sprintf("oauthclient.tokenRequest{TokenURL:%q ClientID:%q Form:%v Header:%v}",
		r.TokenURL, r.ClientID, slices.Sorted(maps.Keys(r.Form)), slices.Sorted(maps.Keys(r.Header)))
}

// clientAuth authenticates the client on a token request: the method
// [Config.AuthMethod] chooses.
type clientAuth interface {
	Authenticate(ctx context.Context, r *tokenRequest) error
}

// secretsOf is implemented by authenticators that know strings which must
// never appear in an error excerpt.
type secretsOf interface{ secrets() []string }

// basicAuth and postAuth hold the secret as a Secret, so that no fmt verb
// reaches it through the source that keeps them.
type basicAuth struct {
	id     string
	secret Secret
}

// Authenticate encodes id and secret with application/x-www-form-urlencoded
// before Base64, as RFC 6749 §2.3.1 requires.
func (a basicAuth) Authenticate(_ context.Context, r *tokenRequest) error {
	r.Header.Set("Authorization", "Basic "+a.encoded())
	return nil
}

func (a basicAuth) encoded() string {
	return base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(a.id) + ":" + url.QueryEscape(a.secret.Reveal())))
}

func (a basicAuth) secrets() []string { return []string{a.secret.Reveal(), a.encoded()} }

type postAuth struct {
	id     string
	secret Secret
}

func (a postAuth) Authenticate(_ context.Context, r *tokenRequest) error {
	r.Form.Set("client_id", a.id)
	r.Form.Set("client_secret", a.secret.Reveal())
	return nil
}
func (a postAuth) secrets() []string { return []string{a.secret.Reveal()} }

// idOnly sends client_id in the form: public clients and tls_client_auth.
type idOnly struct{ id string }

func (a idOnly) Authenticate(_ context.Context, r *tokenRequest) error {
	r.Form.Set("client_id", a.id)
	return nil
}

// jwtAuth signs a fresh RFC 7523 client assertion for every request: with
// a private key (private_key_jwt) or with the client secret
// (client_secret_jwt).
type jwtAuth struct {
	id, kid, aud string
	method       jwt.SigningMethod
	key          any // crypto.Signer, or the secret's bytes for HMAC
	secret       string
	life         time.Duration
	now          func() time.Time
}

// secrets lists the secret of client_secret_jwt, never to be echoed.
func (a *jwtAuth) secrets() []string { return []string{a.secret} }

const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

func (a *jwtAuth) Authenticate(_ context.Context, r *tokenRequest) error {
	now := a.now()
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return err
	}
	claims := jwt.RegisteredClaims{
		Issuer: a.id, Subject: a.id, Audience: jwt.ClaimStrings{cmp.Or(a.aud, r.TokenURL)}, ID: hex.EncodeToString(jti),
		IssuedAt: jwt.NewNumericDate(now), NotBefore: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(a.life)),
	}
	t := jwt.NewWithClaims(a.method, claims)
	if a.kid != "" {
		t.Header["kid"] = a.kid
	}
	signed, err := t.SignedString(a.key)
	if err != nil {
		return fmt.Errorf("signing client assertion: %w", err)
	}
	r.Form.Set("client_id", a.id)
	r.Form.Set("client_assertion_type", assertionType)
	r.Form.Set("client_assertion", signed)
	return nil
}

// newClientAuth builds the authenticator for cfg, validating its fields.
func newClientAuth(cfg Config, now func() time.Time) (clientAuth, error) {
	bad := func(field, reason string) error {
		return &ConfigError{Definition: cfg.Name, Field: field, Reason: reason}
	}
	m := cfg.authMethod()
	if cfg.ClientID == "" && m != AuthNone {
		return nil, bad("client_id", "missing")
	}
	switch m {
	case AuthClientSecretBasic, AuthClientSecretPost:
		if cfg.ClientSecret.IsZero() {
			return nil, bad("client_secret", "missing for "+string(m))
		}
		if m == AuthClientSecretPost {
			return postAuth{cfg.ClientID, cfg.ClientSecret}, nil
		}
		return basicAuth{cfg.ClientID, cfg.ClientSecret}, nil
	case AuthPrivateKeyJWT:
		return newJWTAuth(cfg, now)
	case AuthClientSecretJWT:
		return newSecretJWTAuth(cfg, now)
	case AuthTLSClientAuth, AuthSelfSignedTLS:
		if cfg.Certificate == nil && cfg.CertFile == "" {
			return nil, bad("certificate", "missing for "+string(m))
		}
		return idOnly{cfg.ClientID}, nil
	case AuthNone:
		if cfg.ClientID == "" {
			return noAuth{}, nil
		}
		return idOnly{cfg.ClientID}, nil
	}
	return nil, bad("auth_method", fmt.Sprintf("unknown method %q (want client_secret_basic, client_secret_post, client_secret_jwt, private_key_jwt, tls_client_auth, self_signed_tls_client_auth or none)", m))
}

type noAuth struct{}

func (noAuth) Authenticate(context.Context, *tokenRequest) error { return nil }

func newJWTAuth(cfg Config, now func() time.Time) (clientAuth, error) {
	key, method, err := assertionKey(cfg, "missing for private_key_jwt")
	if err != nil {
		return nil, err
	}
	return &jwtAuth{id: cfg.ClientID, kid: cfg.KeyID, aud: cfg.AssertionAudience, method: method, key: key, life: cfg.AssertionLifetime, now: now}, nil
}

// newSecretJWTAuth builds client_secret_jwt: an assertion signed HS256
// (default), HS384 or HS512 with the client secret, as platforms that sign
// with a shared secret expect.
func newSecretJWTAuth(cfg Config, now func() time.Time) (clientAuth, error) {
	bad := func(field, reason string) error {
		return &ConfigError{Definition: cfg.Name, Field: field, Reason: reason}
	}
	if cfg.ClientSecret.IsZero() {
		return nil, bad("client_secret", "missing for client_secret_jwt")
	}
	alg := cmp.Or(cfg.SigningAlg, "HS256")
	method, ok := jwt.GetSigningMethod(alg).(*jwt.SigningMethodHMAC)
	if !ok {
		return nil, bad("signing_alg", fmt.Sprintf("%q does not fit client_secret_jwt (want HS256, HS384 or HS512)", alg))
	}
	secret := cfg.ClientSecret.Reveal()
	return &jwtAuth{id: cfg.ClientID, kid: cfg.KeyID, aud: cfg.AssertionAudience, method: method, key: []byte(secret), secret: secret,
		life: cfg.AssertionLifetime, now: now}, nil
}

// parsePrivateKey reads an RSA or EC private key from PEM. Its errors never
// include key material.
// assertionKey is the definition's signing key (PrivateKey, else
// PrivateKeyPEM) and the JWS method for it; a *ConfigError names the
// field, with missing as the reason when there is no key.
func assertionKey(cfg Config, missing string) (crypto.Signer, jwt.SigningMethod, error) {
	bad := func(field, reason string) error {
		return &ConfigError{Definition: cfg.Name, Field: field, Reason: reason}
	}
	key := cfg.PrivateKey
	if key == nil {
		if cfg.PrivateKeyPEM.IsZero() {
			return nil, nil, bad("private_key", missing)
		}
		k, err := parsePrivateKey([]byte(cfg.PrivateKeyPEM.Reveal()))
		if err != nil {
			return nil, nil, bad("private_key", err.Error())
		}
		key = k
	}
	method, err := signingMethod(cfg.SigningAlg, key)
	if err != nil {
		return nil, nil, bad("signing_alg", err.Error())
	}
	return key, method, nil
}

func parsePrivateKey(b []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, errors.New("not PEM")
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		if s, ok := k.(crypto.Signer); ok {
			return s, nil
		}
		return nil, fmt.Errorf("unsupported PKCS#8 key type %T", k)
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	return nil, fmt.Errorf("unparsable %q block (want an RSA or EC private key)", block.Type)
}

// signingMethod picks the JWS algorithm, checking it fits the key.
func signingMethod(alg string, key crypto.Signer) (jwt.SigningMethod, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		switch alg {
		case "", "RS384":
			return jwt.SigningMethodRS384, nil
		case "RS256":
			return jwt.SigningMethodRS256, nil
		case "PS256":
			return jwt.SigningMethodPS256, nil
		}
		return nil, fmt.Errorf("%q does not fit an RSA key (want RS256, RS384 or PS256)", alg)
	case *ecdsa.PrivateKey:
		want := map[elliptic.Curve]string{elliptic.P256(): "ES256", elliptic.P384(): "ES384"}[k.Curve]
		if want == "" {
			return nil, errors.New("unsupported EC curve (want P-256 or P-384)")
		}
		if alg != "" && alg != want {
			return nil, fmt.Errorf("%q does not fit this EC key (want %s)", alg, want)
		}
		return jwt.GetSigningMethod(want), nil
	}
	return nil, fmt.Errorf("unsupported key type %T", key)
}
