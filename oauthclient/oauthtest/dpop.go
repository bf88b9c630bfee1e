package oauthtest

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tokenwire/tokenwire/internal/jose"
)

// DPoP (RFC 9449). A token request with a DPoP proof gets a DPoP-bound
// token (token_type "DPoP", bound to the proof key's thumbprint);
// RequireToken then wants "Authorization: DPoP <token>" with a fresh proof
// of the same key for the request's method and URL.

// dpopAlgs are the proof algorithms the server accepts.
var dpopAlgs = []string{"ES256", "ES384", "RS256", "PS256"}

// dpopIATWindow is how far a proof's iat may be from the server's clock.
const dpopIATWindow = time.Minute

// WithDPoPNonce makes the server demand DPoP nonces (RFC 9449 §8, §9): a
// proof without the current nonce is answered use_dpop_nonce with a
// DPoP-Nonce header, at the token endpoint (400) and at RequireToken (401).
// Every response of the token endpoint carries the current nonce.
func WithDPoPNonce() Option {
	return func(s *Server) { s.dpopNonce = rand.Text() }
}

// RotateDPoPNonce replaces the server's DPoP nonce, as servers do from time
// to time: proofs with the old one are answered use_dpop_nonce.
func (s *Server) RotateDPoPNonce() {
	s.mu.Lock()
	s.dpopNonce = rand.Text()
	s.mu.Unlock()
}

// DPoPNonceChallenges counts the use_dpop_nonce answers the server gave.
func (s *Server) DPoPNonceChallenges() int { return int(s.nonceChallenges.Load()) }

var errNonce = errors.New("use_dpop_nonce")

// checkProof verifies the DPoP proof of r for method and htu (and ath, for
// a resource request) and returns the thumbprint of its key.
func (s *Server) checkProof(r *http.Request, htu, accessToken string) (string, error) {
	vals := r.Header.Values("DPoP")
	if len(vals) != 1 {
		return "", errors.New("exactly one DPoP header is required")
	}
	now := s.clock()
	var jkt string
	claims := jwt.MapClaims{}
	_, err := jwt.NewParser(jwt.WithValidMethods(dpopAlgs), jwt.WithoutClaimsValidation()).ParseWithClaims(vals[0], claims,
		func(t *jwt.Token) (any, error) {
			if t.Header["typ"] != "dpop+jwt" {
				return nil, errors.New("typ is not dpop+jwt")
			}
			jwk, ok := t.Header["jwk"].(map[string]any)
			if !ok {
				return nil, errors.New("no jwk header")
			}
			key, err := jose.ParsePublicJWK(jwk)
			if err != nil {
				return nil, err
			}
			jkt, err = jose.Thumbprint(jwk)
			return key, err
		})
	if err != nil {
		return "", fmt.Errorf("proof rejected: %w", err)
	}
	str := func(k string) string { v, _ := claims[k].(string); return v }
	iat, _ := claims["iat"].(float64)
	switch {
	case str("htm") != r.Method:
		return "", errors.New("htm does not match the request method")
	case str("htu") != htu:
		return "", fmt.Errorf("htu %q does not match %q", str("htu"), htu)
	case iat == 0 || time.Unix(int64(iat), 0).Sub(now).Abs() > dpopIATWindow:
		return "", errors.New("iat is missing or too far from now")
	case str("jti") == "":
		return "", errors.New("jti is missing")
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		if str("ath") != base64.RawURLEncoding.EncodeToString(sum[:]) {
			return "", errors.New("ath does not match the access token")
		}
	}
	if !s.useJTI("dpop:"+jkt, str("jti"), now.Add(dpopIATWindow), now) {
		return "", errors.New("proof replayed (jti seen before)")
	}
	s.mu.Lock()
	nonce := s.dpopNonce
	s.mu.Unlock()
	if nonce != "" && str("nonce") != nonce {
		s.nonceChallenges.Add(1)
		return "", errNonce
	}
	return jkt, nil
}

// htu is the URL a proof for r must name: scheme, host and path.
func htu(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return (&url.URL{Scheme: scheme, Host: r.Host, Path: r.URL.Path, RawPath: r.URL.RawPath}).String()
}

// nonceHeader sets the current nonce on h, when the server uses nonces.
func (s *Server) nonceHeader(h http.Header) {
	s.mu.Lock()
	n := s.dpopNonce
	s.mu.Unlock()
	if n != "" {
		h.Set("DPoP-Nonce", n)
	}
}
