package oauthtest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The grant types the token endpoint serves besides client_credentials,
// refresh_token and authorization_code.
const (
	grantJWTBearer     = "urn:ietf:params:oauth:grant-type:jwt-bearer"     // RFC 7523 §2.1
	grantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange" // RFC 8693
)

// Token type identifiers of RFC 8693 the server understands.
const (
	tokenTypeAccessToken = "urn:ietf:params:oauth:token-type:access_token"
	tokenTypeJWT         = "urn:ietf:params:oauth:token-type:jwt"
	tokenTypeIDToken     = "urn:ietf:params:oauth:token-type:id_token"
)

// grantState is what the grants beyond client credentials keep: trusted
// assertion issuers, refresh token families, authorization codes, login
// users. It is guarded by the server's mutex.
type grantState struct {
	issuers  map[string]crypto.PublicKey
	refresh  map[string]*refreshToken // by value
	codes    map[string]*authCode
	logins   map[string]string // user → password
	stats    RefreshStats
	loginKey []byte // signs the login endpoint's JWTs
}

func newGrantState() grantState {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return grantState{issuers: map[string]crypto.PublicKey{}, refresh: map[string]*refreshToken{}, codes: map[string]*authCode{},
		logins: map[string]string{}, loginKey: key}
}

// refreshToken is one refresh token of a family.
type refreshToken struct {
	fam      *rtFamily
	clientID string
	subject  string
	scope    string
	used     bool
}

// rtFamily is the refresh tokens descending from one authorisation, and
// the access tokens issued with them: reuse of a used one revokes it all.
type rtFamily struct {
	revoked bool
	members []string // refresh tokens
	access  []string
}

// RefreshStats counts what the refresh tokens went through.
type RefreshStats struct {
	Issued  int // refresh tokens issued (by IssueRefreshToken, a code, a rotation)
	Used    int // refresh requests served
	Reused  int // refresh requests that presented a refresh token already used (the family was revoked)
	Refused int // refresh requests refused otherwise (unknown, revoked, another client's)
}

// AddAssertionIssuer trusts JWTs that issuer signs with the private half
// of key (an RSA or ECDSA P-256/P-384 public key; a private key's public
// half is used): as JWT bearer assertions (RFC 7523 §2.1: iss, sub, aud =
// the token endpoint or the server's URL, exp required, nbf; the token is
// issued to the assertion's sub, and to the client when one authenticated)
// — an assertion may be sent again until it expires, as a projected
// service-account token is until it is rotated — and as subject or actor
// tokens of type jwt or id_token in a token exchange.
func (s *Server) AddAssertionIssuer(issuer string, key crypto.PublicKey) {
	k := publicKey(key)
	s.mu.Lock()
	s.grants.issuers[issuer] = k
	s.mu.Unlock()
}

// IssueRefreshToken issues a refresh token to clientID for subject and
// scope, starting a family, as if an administrator had authorised once:
// for tests of a definition that holds a refresh token. The client must
// authenticate when it uses it (a public client sends its client_id).
func (s *Server) IssueRefreshToken(clientID, subject, scope string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newRefresh(&rtFamily{}, clientID, subject, scope)
}

// newRefresh adds a refresh token to fam (under s.mu).
func (s *Server) newRefresh(fam *rtFamily, clientID, subject, scope string) string {
	v := rand.Text() + rand.Text()
	s.grants.refresh[v] = &refreshToken{fam: fam, clientID: clientID, subject: subject, scope: scope}
	fam.members = append(fam.members, v)
	s.grants.stats.Issued++
	return v
}

// RefreshStats returns what the refresh tokens went through so far.
func (s *Server) RefreshStats() RefreshStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.grants.stats
}

// revokeFamily revokes fam (under s.mu).
func (s *Server) revokeFamily(fam *rtFamily) {
	fam.revoked = true
	for _, a := range fam.access {
		delete(s.tokens, a)
	}
}

// noteAccess links an access token issued with refresh token rt to its
// family (under s.mu).
func (g *grantState) noteAccess(rt, access string) {
	if r := g.refresh[rt]; r != nil {
		r.fam.access = append(r.fam.access, access)
	}
}

// TokenInfo returns what the server knows of an access token it issued
// (and has not revoked), to check what a token stands for.
func (s *Server) TokenInfo(accessToken string) (Token, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[accessToken]
	if !ok {
		return Token{}, false
	}
	return *t, true
}

// grant serves the token requests of the grants beyond client
// credentials; c is the authenticated client, nil for a JWT bearer
// request that sent no client authentication.
func (s *Server) grant(gt string, c *client, form url.Values) (Token, *Response) {
	switch gt {
	case grantJWTBearer:
		return s.jwtBearer(c, form)
	case grantTokenExchange:
		return s.exchange(c, form)
	case "refresh_token":
		return s.refresh(c, form)
	}
	return s.redeemCode(c, form)
}

func invalidScope() *Response {
	r := OAuthError(http.StatusBadRequest, "invalid_scope", "a requested scope is not allowed")
	return &r
}

func invalidGrant(desc string) *Response {
	r := OAuthError(http.StatusBadRequest, "invalid_grant", desc)
	return &r
}

// jwtBearer serves RFC 7523 §2.1.
func (s *Server) jwtBearer(c *client, form url.Values) (Token, *Response) {
	raw := form.Get("assertion")
	if raw == "" {
		return Token{}, badRequest("assertion is missing")
	}
	claims, err := s.verifyIssued(raw, true)
	if err != nil {
		return Token{}, invalidGrant("assertion rejected: " + err.Error())
	}
	var allowed []string
	t := Token{Subject: claims.Subject}
	if c != nil {
		allowed, t.ClientID = c.scopes, c.id
	}
	scope, ok := grantScope(allowed, form.Get("scope"))
	if !ok {
		return Token{}, invalidScope()
	}
	t.Scope = scope
	return t, nil
}

// verifyIssued verifies a JWT signed by a trusted issuer; as an
// assertion, its aud must name the server.
func (s *Server) verifyIssued(raw string, assertion bool) (*jwt.RegisteredClaims, error) {
	iss := assertionIssuer(raw)
	s.mu.Lock()
	key := s.grants.issuers[iss]
	s.mu.Unlock()
	if key == nil {
		return nil, errors.New("unknown issuer")
	}
	now := s.clock()
	opts := []jwt.ParserOption{jwt.WithValidMethods([]string{"RS256", "RS384", "PS256", "ES256", "ES384"}),
		jwt.WithTimeFunc(func() time.Time { return now }), jwt.WithExpirationRequired(), jwt.WithIssuer(iss)}
	if assertion {
		opts = append(opts, jwt.WithAudience(s.TokenURL(), s.base, s.base+"/"))
	}
	var claims jwt.RegisteredClaims
	_, err := jwt.NewParser(opts...).ParseWithClaims(raw, &claims, func(t *jwt.Token) (any, error) {
		switch key.(type) {
		case *rsa.PublicKey:
			if _, ok := t.Method.(*jwt.SigningMethodECDSA); ok {
				return nil, errors.New("algorithm does not fit the issuer's key")
			}
		case *ecdsa.PublicKey:
			if _, ok := t.Method.(*jwt.SigningMethodECDSA); !ok {
				return nil, errors.New("algorithm does not fit the issuer's key")
			}
		}
		return key, nil
	})
	if err != nil {
		return nil, err // jwt errors name the failed check, never the token
	}
	if claims.Subject == "" {
		return nil, errors.New("sub is missing")
	}
	return &claims, nil
}

// exchange serves RFC 8693: the subject token must be one the server
// issued and still honours (access_token) or a JWT of a trusted issuer
// (jwt, id_token); so must an actor token.
func (s *Server) exchange(c *client, form url.Values) (Token, *Response) {
	subject, errResp := s.subjectOf(form.Get("subject_token"), form.Get("subject_token_type"), "subject")
	if errResp != nil {
		return Token{}, errResp
	}
	t := Token{ClientID: c.id, Subject: subject, IssuedTokenType: tokenTypeAccessToken}
	if form.Has("actor_token") {
		if t.Actor, errResp = s.subjectOf(form.Get("actor_token"), form.Get("actor_token_type"), "actor"); errResp != nil {
			return Token{}, errResp
		}
	} else if form.Has("actor_token_type") {
		return Token{}, badRequest("actor_token_type without actor_token")
	}
	if rt := form.Get("requested_token_type"); rt != "" && rt != tokenTypeAccessToken && rt != tokenTypeJWT {
		return Token{}, badRequest("requested_token_type is not supported")
	} else if rt != "" {
		t.IssuedTokenType = rt
	}
	scope, ok := grantScope(c.scopes, form.Get("scope"))
	if !ok {
		return Token{}, invalidScope()
	}
	t.Scope = scope
	return t, nil
}

// subjectOf validates a subject or actor token of type typ and returns
// whom it stands for.
func (s *Server) subjectOf(tok, typ, what string) (string, *Response) {
	if tok == "" {
		return "", badRequest(what + "_token is missing")
	}
	switch typ {
	case tokenTypeAccessToken:
		s.mu.Lock()
		t, ok := s.tokens[tok]
		s.mu.Unlock()
		if !ok || !s.Valid(tok) {
			return "", invalidGrant(what + " token is not a valid access token of this server")
		}
		if t.Subject != "" {
			return t.Subject, nil
		}
		return t.ClientID, nil
	case tokenTypeJWT, tokenTypeIDToken:
		claims, err := s.verifyIssued(tok, false)
		if err != nil {
			return "", invalidGrant(what + " token rejected: " + err.Error())
		}
		return claims.Subject, nil
	case "":
		return "", badRequest(what + "_token_type is missing")
	}
	return "", badRequest(what + "_token_type is not supported")
}

// refresh serves RFC 6749 §6, with rotation and reuse detection.
func (s *Server) refresh(c *client, form url.Values) (Token, *Response) {
	v := form.Get("refresh_token")
	if v == "" {
		return Token{}, badRequest("refresh_token is missing")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := &s.grants
	rt := g.refresh[v]
	switch {
	case rt == nil || rt.clientID != c.id:
		g.stats.Refused++
		return Token{}, invalidGrant("unknown refresh token")
	case rt.fam.revoked:
		g.stats.Refused++
		return Token{}, invalidGrant("refresh token revoked")
	case rt.used:
		g.stats.Reused++
		s.revokeFamily(rt.fam)
		return Token{}, invalidGrant("refresh token used before: its family is revoked")
	}
	scope := rt.scope
	if req := form.Get("scope"); req != "" {
		var ok bool
		if scope, ok = grantScope(strings.Fields(rt.scope), req); !ok || rt.scope == "" {
			return Token{}, invalidScope()
		}
	}
	g.stats.Used++
	t := Token{ClientID: c.id, Subject: rt.subject, Scope: scope, RefreshToken: v}
	if !c.keepRefresh {
		rt.used = true
		t.RefreshToken = s.newRefresh(rt.fam, rt.clientID, rt.subject, rt.scope)
	}
	return t, nil
}

// authCode is an authorization code the authorization endpoint issued.
type authCode struct {
	clientID, redirectURI, challenge, scope, subject string
	expiry                                           time.Time
	used                                             bool
	fam                                              *rtFamily
}

// codeLifetime is how long an authorization code may be redeemed.
const codeLifetime = 10 * time.Minute

var verifierChars = regexp.MustCompile(`^[A-Za-z0-9._~-]{43,128}$`)

// redeemCode serves RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.6): the code
// is the client's, unused and unexpired, redirect_uri is the one of the
// authorization request, and S256(code_verifier) is its challenge. A code
// used twice revokes what it was redeemed for.
func (s *Server) redeemCode(c *client, form url.Values) (Token, *Response) {
	v := form.Get("code")
	if v == "" {
		return Token{}, badRequest("code is missing")
	}
	now := s.clock()
	s.mu.Lock()
	defer s.mu.Unlock()
	ac := s.grants.codes[v]
	switch {
	case ac == nil || ac.clientID != c.id:
		return Token{}, invalidGrant("unknown code")
	case ac.used:
		if ac.fam != nil {
			s.revokeFamily(ac.fam)
		}
		return Token{}, invalidGrant("code used before: what it was redeemed for is revoked")
	case !now.Before(ac.expiry):
		return Token{}, invalidGrant("code expired")
	case form.Get("redirect_uri") != ac.redirectURI:
		return Token{}, invalidGrant("redirect_uri differs from the authorization request's")
	case !verifierChars.MatchString(form.Get("code_verifier")):
		return Token{}, invalidGrant("code_verifier is missing or malformed")
	case s256(form.Get("code_verifier")) != ac.challenge:
		return Token{}, invalidGrant("code_verifier does not match the code_challenge")
	}
	ac.used, ac.fam = true, &rtFamily{}
	rt := s.newRefresh(ac.fam, c.id, ac.subject, ac.scope)
	return Token{ClientID: c.id, Subject: ac.subject, Scope: ac.scope, RefreshToken: rt}, nil
}

func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
