package oauthclient

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// PKCE is a code verifier and its S256 challenge (RFC 7636 §4.1, §4.2),
// for authorising once with the authorization code grant: the challenge
// goes in the authorization URL, the verifier with the code to the token
// endpoint. It prints without its verifier.
type PKCE struct {
	Verifier  Secret // 43 characters of base64url: 32 random bytes
	Challenge string // BASE64URL(SHA256(verifier))
}

// NewPKCE returns a fresh verifier and its S256 challenge.
func NewPKCE() PKCE {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand, Go 1.24+)
	v := base64.RawURLEncoding.EncodeToString(b)
	return PKCE{Verifier: NewSecret(v), Challenge: s256(v)}
}

// s256 is the S256 code challenge of verifier (RFC 7636 §4.2).
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// NewState returns a random state value for an authorization request
// (RFC 6749 §10.12), to compare with the one the redirect brings back.
func NewState() string { return rand.Text() }

// AuthCodeURL returns the URL of authorizeURL (the authorization
// endpoint) that asks for a code for cfg's client and scopes, to be sent
// to redirectURI, with state and the PKCE challenge (method S256). Extra
// parameters of cfg.Params are added (prompt, access_type…).
func AuthCodeURL(authorizeURL string, cfg Config, redirectURI, state string, p PKCE) (string, error) {
	u, err := url.Parse(authorizeURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", &ConfigError{Definition: cfg.Name, Field: "authorize_url", Reason: "not an absolute http(s) URL"}
	}
	if cfg.ClientID == "" {
		return "", &ConfigError{Definition: cfg.Name, Field: "client_id", Reason: "missing"}
	}
	if state == "" || p.Challenge == "" {
		return "", errors.New("oauthclient: AuthCodeURL needs a state and a PKCE challenge")
	}
	q := u.Query()
	q.Set("response_type", "code")
	q.Set("client_id", cfg.ClientID)
	q.Set("redirect_uri", redirectURI)
	q.Set("state", state)
	q.Set("code_challenge", p.Challenge)
	q.Set("code_challenge_method", "S256")
	if len(cfg.Scopes) > 0 {
		q.Set("scope", strings.Join(cfg.Scopes, " "))
	}
	for k, v := range cfg.Params {
		q.Add(k, v.Reveal())
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// LoopbackRedirect reports whether redirectURI is a loopback redirect of
// RFC 8252 §7.3: http on an IP literal of the loopback interface (any
// port), as a native program that receives the code itself uses.
func LoopbackRedirect(redirectURI string) bool {
	u, err := url.Parse(redirectURI)
	if err != nil || u.Scheme != "http" || u.User != nil {
		return false
	}
	ip := net.ParseIP(u.Hostname())
	return ip != nil && ip.IsLoopback()
}

// authCodeGrant redeems one authorization code.
type authCodeGrant struct {
	code, redirectURI string
	verifier          Secret
}

func (authCodeGrant) grantKind() string            { return grantAuthCode }
func (authCodeGrant) kind() string                 { return grantAuthCode }
func (authCodeGrant) identity() []string           { return nil }
func (g authCodeGrant) String() string             { return "oauthclient.authorizationCode{" + "[redacted]" + "}" }
func (g authCodeGrant) Format(f fmt.State, _ rune) { described(g.String()).format(f) }

func (g authCodeGrant) prepare(context.Context) (*prepared, error) {
	form := url.Values{"grant_type": {grantType[grantAuthCode]}, "code": {g.code}, "redirect_uri": {g.redirectURI}}
	secrets := []string{g.code}
	if !g.verifier.IsZero() {
		form.Set("code_verifier", g.verifier.Reveal())
		secrets = append(secrets, g.verifier.Reveal())
	}
	return &prepared{form: form, secrets: secrets}, nil
}

// ExchangeCode redeems an authorization code (RFC 6749 §4.1.3) with its
// PKCE verifier at cfg's token endpoint, authenticating as cfg says (a
// public client with no secret sends its client_id), and returns the
// access token and the refresh token the server issued with it (empty
// when it issued none). It makes one request, outside any store; its
// errors are those of a token request (*[Error], *[ConfigError]).
func ExchangeCode(ctx context.Context, cfg Config, opts Options, code, redirectURI string, verifier Secret) (*Token, Secret, error) {
	if code == "" {
		return nil, Secret{}, errors.New("oauthclient: ExchangeCode: empty code")
	}
	cfg.Grant = authCodeGrant{code: code, redirectURI: redirectURI, verifier: verifier}
	opts.Store = nil
	opts.MaxBackoffWait = -1
	src, err := NewSource(cfg, opts)
	if err != nil {
		return nil, Secret{}, err
	}
	defer src.Close()
	tok, err := src.TokenContext(ctx)
	if err != nil {
		return nil, Secret{}, err
	}
	rt, _ := tok.cred.extra["refresh_token"].(string)
	return tok.without("refresh_token"), NewSecret(rt), nil
}
