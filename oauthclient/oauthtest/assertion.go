package oauthtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// assertionType is the client_assertion_type of private_key_jwt (RFC 7523).
const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// maxAssertionLifetime is how far in the future a client assertion's exp
// may be.
const maxAssertionLifetime = 5 * time.Minute

var assertionAlgs = []string{"RS256", "RS384", "PS256", "ES256", "ES384", "HS256", "HS384", "HS512"}

// publicKey validates a key given to AddClient and returns its public
// half.
func publicKey(key crypto.PublicKey) crypto.PublicKey {
	if k, ok := key.(interface{ Public() crypto.PublicKey }); ok {
		key = k.Public()
	}
	switch k := key.(type) {
	case *rsa.PublicKey:
		return k
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() || k.Curve == elliptic.P384() {
			return k
		}
	}
	panic(fmt.Sprintf("oauthtest: AddClient: unsupported key type %T (want RSA or ECDSA P-256/P-384)", key))
}

// assertionIssuer returns the unverified iss of a client assertion, or "".
func assertionIssuer(raw string) string {
	if raw == "" {
		return ""
	}
	var claims jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(raw, &claims); err != nil {
		return ""
	}
	return claims.Issuer
}

// authAssertion authenticates a private_key_jwt client.
func (s *Server) authAssertion(form url.Values) (*client, string, *Response) {
	if form.Get("client_assertion_type") != assertionType {
		return nil, "", badRequest("unsupported client_assertion_type")
	}
	raw := form.Get("client_assertion")
	if raw == "" {
		return nil, "", badRequest("client_assertion is missing")
	}
	id := assertionIssuer(raw)
	if id == "" {
		return nil, "", invalidClient("malformed client assertion or no iss", false)
	}
	if fid := form.Get("client_id"); fid != "" && fid != id {
		return nil, "", invalidClient("client_id does not match the assertion issuer", false)
	}
	c := s.lookup(id)
	if c == nil || (c.kind != jwtClient && c.kind != secretJWTClient) {
		return nil, "", invalidClient("unknown client or not a private_key_jwt or client_secret_jwt client", false)
	}
	now := s.clock()
	claims, err := s.verifyAssertion(c, raw, now)
	if err != nil {
		return nil, "", invalidClient("client assertion rejected: "+err.Error(), false)
	}
	if !s.useJTI(c.id, claims.ID, claims.ExpiresAt.Time, now) {
		return nil, "", invalidClient("client assertion replayed (jti seen before)", false)
	}
	if c.kind == secretJWTClient {
		return c, authClientSecretJWT, nil
	}
	return c, authPrivateKeyJWT, nil
}

func (s *Server) verifyAssertion(c *client, raw string, now time.Time) (*jwt.RegisteredClaims, error) {
	p := jwt.NewParser(
		jwt.WithValidMethods(assertionAlgs),
		jwt.WithTimeFunc(func() time.Time { return now }),
		jwt.WithExpirationRequired(),
		jwt.WithIssuer(c.id),
		jwt.WithSubject(c.id),
		jwt.WithAudience(s.TokenURL(), s.base, s.base+"/"),
	)
	var claims jwt.RegisteredClaims
	if _, err := p.ParseWithClaims(raw, &claims, c.keyFunc); err != nil {
		return nil, err // jwt errors name the failed check, never the token
	}
	if claims.ExpiresAt.Sub(now) > maxAssertionLifetime {
		return nil, fmt.Errorf("exp more than %v in the future", maxAssertionLifetime)
	}
	if claims.ID == "" {
		return nil, errors.New("jti is missing")
	}
	return &claims, nil
}

// keyFunc returns the client's key if it fits the token's algorithm and kid.
func (c *client) keyFunc(t *jwt.Token) (any, error) {
	if kid, _ := t.Header["kid"].(string); c.kid != "" && kid != "" && kid != c.kid {
		return nil, errors.New("unknown kid")
	}
	if c.kind == secretJWTClient {
		if _, ok := t.Method.(*jwt.SigningMethodHMAC); !ok {
			return nil, fmt.Errorf("algorithm %s is not HMAC: this client signs with its secret", t.Method.Alg())
		}
		return []byte(c.secret), nil
	}
	var ok bool
	switch k := c.key.(type) {
	case *rsa.PublicKey:
		_, ok = t.Method.(*jwt.SigningMethodRSA)
		if !ok {
			_, ok = t.Method.(*jwt.SigningMethodRSAPSS)
		}
	case *ecdsa.PublicKey:
		m, isEC := t.Method.(*jwt.SigningMethodECDSA)
		ok = isEC && m.CurveBits == k.Curve.Params().BitSize
	}
	if !ok {
		return nil, fmt.Errorf("algorithm %s does not fit the registered key", t.Method.Alg())
	}
	return c.key, nil
}

// useJTI records a jti until its assertion expires; it reports false if the
// jti was already used by the client.
func (s *Server) useJTI(clientID, jti string, exp, now time.Time) bool {
	key := clientID + "\x00" + jti
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, e := range s.jtis {
		if !e.After(now) {
			delete(s.jtis, k)
		}
	}
	if _, seen := s.jtis[key]; seen {
		return false
	}
	s.jtis[key] = exp
	return true
}
