package oauthclient

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// JWTBearer is the JWT bearer grant (RFC 7523 §2.1): the token request
// carries a JWT assertion that the authorization server trusts. The
// assertion is either supplied from outside and read anew for each token
// request (Assertion: a projected Kubernetes service-account token, a
// cloud workload-identity token), or signed by tokenwire for each request
// with the definition's key (Config.PrivateKey or PrivateKeyPEM, KeyID,
// SigningAlg, as for private_key_jwt), Issuer, Subject, audience
// (Config.AssertionAudience, default the token endpoint) and lifetime
// (Config.AssertionLifetime: default 1m, at most 5m), with a fresh jti.
//
// Client authentication is optional with this grant (RFC 7523 §3.1): the
// definition authenticates as its AuthMethod says; with no AuthMethod, by
// client_secret_basic when it has a ClientSecret and not at all otherwise
// (its client_id, if any, is sent). Scopes, Audience, Resources and Params
// are sent as for client credentials.
//
// The cache key holds the signed assertion's issuer, subject, audience and
// claims, or a hash of a supplied assertion's iss, sub and aud (of the
// whole value when it is no JWT): definitions asserting different
// subjects never share a token. A supplied JWT whose exp has passed is
// refused before it is sent.
type JWTBearer struct {
	// Assertion supplies a JWT issued elsewhere; nil: tokenwire signs one.
	Assertion Supplier `json:"assertion,omitempty" yaml:"assertion,omitempty"`
	// Issuer is the iss of a signed assertion; default Config.ClientID.
	Issuer string `json:"assertion_issuer,omitempty" yaml:"assertion_issuer"`
	// Subject is the sub of a signed assertion: required when signing.
	Subject string `json:"assertion_subject,omitempty" yaml:"assertion_subject"`
	// Claims are further claims of a signed assertion, such as the
	// "scope" claim Google's service accounts send; iss, sub, aud, iat,
	// nbf, exp and jti are tokenwire's.
	Claims map[string]any `json:"assertion_claims,omitempty" yaml:"assertion_claims"`
}

func (JWTBearer) grantKind() string { return grantJWTBearer }

// jwtBearerGrant is a JWTBearer ready to prepare requests.
type jwtBearerGrant struct {
	def      string
	supplied Supplier
	now      func() time.Time
	// signing
	iss, sub, aud, kid string
	method             jwt.SigningMethod
	key                any
	life               time.Duration
	claims             map[string]any
}

func newJWTBearer(cfg Config, g JWTBearer, now func() time.Time) (endpointGrant, error) {
	bad := func(field, reason string) error {
		return &ConfigError{Definition: cfg.Name, Field: field, Reason: reason}
	}
	jb := &jwtBearerGrant{def: cfg.Name, supplied: g.Assertion, now: now}
	if g.Assertion != nil {
		if g.Subject != "" || g.Issuer != "" || len(g.Claims) > 0 {
			return nil, bad("assertion", "a supplied assertion is sent as it is: assertion_issuer, assertion_subject and assertion_claims are for one tokenwire signs")
		}
		return jb, nil
	}
	if g.Subject == "" {
		return nil, bad("assertion_subject", "missing: the subject of the assertion tokenwire signs (or supply an assertion)")
	}
	for k := range g.Claims {
		switch k {
		case "iss", "sub", "aud", "iat", "nbf", "exp", "jti":
			return nil, bad("assertion_claims."+k, "is set by tokenwire")
		}
	}
	key, method, err := assertionKey(cfg, "missing: the key that signs the assertion (or supply an assertion)")
	if err != nil {
		return nil, err
	}
	iss := cmp.Or(g.Issuer, cfg.ClientID)
	if iss == "" {
		return nil, bad("assertion_issuer", "missing (default client_id, which is empty too)")
	}
	jb.iss, jb.sub, jb.aud, jb.kid = iss, g.Subject, cfg.AssertionAudience, cfg.KeyID
	jb.method, jb.key, jb.life, jb.claims = method, key, cfg.AssertionLifetime, maps.Clone(g.Claims)
	return jb, nil
}

func (g *jwtBearerGrant) kind() string { return grantJWTBearer }

func (g *jwtBearerGrant) identity() []string {
	if g.supplied != nil {
		return []string{"supplied"}
	}
	claims, _ := json.Marshal(g.claims) // map keys sorted; values from the configuration
	return []string{"signed", g.iss, g.sub, g.aud, string(claims)}
}

func (g *jwtBearerGrant) prepare(ctx context.Context) (*prepared, error) {
	form := url.Values{"grant_type": {grantType[grantJWTBearer]}}
	if g.supplied == nil {
		return &prepared{form: form, sign: g.sign}, nil
	}
	a, exp, err := supply(ctx, g.def, "assertion", g.supplied)
	if err != nil {
		return nil, err
	}
	claims, isJWT := unverifiedClaims(a)
	if exp.IsZero() && isJWT {
		exp = claimTime(claims["exp"])
	}
	if now := g.now(); !exp.IsZero() && !now.Before(exp) {
		return nil, fmt.Errorf("security definition %q: assertion: expired at %s (is its file being rotated?)", g.def, exp.UTC().Format(time.RFC3339))
	}
	part := hashed(a)
	if isJWT {
		aud, _ := json.Marshal(claims["aud"])
		part = hashed(str(claims["iss"]) + "\x00" + str(claims["sub"]) + "\x00" + string(aud))
	}
	form.Set("assertion", a)
	return &prepared{form: form, parts: []string{part}, secrets: []string{a}}, nil
}

// sign adds a freshly signed assertion for the token endpoint tokenURL.
func (g *jwtBearerGrant) sign(tokenURL string, form url.Values) (string, error) {
	now := g.now()
	jti := make([]byte, 16)
	if _, err := rand.Read(jti); err != nil {
		return "", err
	}
	claims := jwt.MapClaims{}
	maps.Copy(claims, g.claims)
	claims["iss"], claims["sub"], claims["aud"] = g.iss, g.sub, cmp.Or(g.aud, tokenURL)
	claims["iat"], claims["nbf"], claims["exp"] = now.Unix(), now.Unix(), now.Add(g.life).Unix()
	claims["jti"] = hex.EncodeToString(jti)
	t := jwt.NewWithClaims(g.method, claims)
	if g.kid != "" {
		t.Header["kid"] = g.kid
	}
	signed, err := t.SignedString(g.key)
	if err != nil {
		return "", fmt.Errorf("signing the assertion: %w", err)
	}
	form.Set("assertion", signed)
	return signed, nil
}

// unverifiedClaims decodes the claims of v when it is a JWT, without
// verifying it (the server does): they only tell tokens apart and size
// their lifetime.
func unverifiedClaims(v string) (map[string]any, bool) {
	parts := strings.Split(v, ".")
	if len(parts) != 3 || len(parts[1]) > 16<<10 {
		return nil, false
	}
	t, _, err := jwt.NewParser().ParseUnverified(v, jwt.MapClaims{})
	if err != nil {
		return nil, false
	}
	claims, _ := t.Claims.(jwt.MapClaims)
	return claims, claims != nil
}

// jwtExpiry is the exp of v when it is a JWT that has one, else zero.
func jwtExpiry(v string) time.Time {
	claims, ok := unverifiedClaims(v)
	if !ok {
		return time.Time{}
	}
	return claimTime(claims["exp"])
}

// claimTime reads a NumericDate claim; zero when it is none.
func claimTime(v any) time.Time {
	switch x := v.(type) {
	case float64:
		if x > 0 && x < 1e11 {
			sec, frac := math.Modf(x)
			return time.Unix(int64(sec), int64(frac*1e9))
		}
	case json.Number:
		if f, err := x.Float64(); err == nil {
			return claimTime(f)
		}
	}
	return time.Time{}
}
