package oauthclient

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/tokenwire/tokenwire/internal/redact"
)

// Token is an access token as the authorization server issued it. It is
// immutable and safe to share; it never prints its value (see [Token.String]).
type Token struct {
	cred      *credential // behind a pointer: no fmt verb, not even %p, reaches it
	tokenType string      // as sent, e.g. "bearer", "BearerToken", ""
	scheme    string      // the Authorization scheme a Login configures; "" follows tokenType
	storeKey  string      // the store key it was kept under, when not the source's own
	cert      *certState  // the client certificate presented when it was fetched: the one it may be bound to
	issued    time.Time
	expiry    time.Time
	scope     string
}

// credential is what of a token is secret.
type credential struct {
	access string
	header []string       // precomputed Authorization header value
	extra  map[string]any // every member of the response (refresh_token, id_token…)
	dpop   bool           // token_type DPoP: sent with a proof of possession
}

// NewToken returns a token for a custom [Fetcher]: its value, token_type as
// the server sent it, when it was issued and when it expires. The issue time
// sizes the renewal window; a zero one means "now".
func NewToken(accessToken, tokenType string, issuedAt, expiry time.Time) *Token {
	return newToken(accessToken, tokenType, "", issuedAt, expiry, nil)
}

// newToken builds a token and precomputes its header value.
func newToken(access, typ, scope string, issued, expiry time.Time, extra map[string]any) *Token {
	t := &Token{tokenType: typ, scope: scope, issued: issued, expiry: expiry}
	t.cred = &credential{access: access, header: []string{t.Scheme() + " " + access}, extra: extra, dpop: t.Scheme() == "DPoP"}
	return t
}

// newSchemeToken returns a token sent with the given Authorization scheme
// (a Login's), whatever its type.
func newSchemeToken(access, scheme string, issued, expiry time.Time) *Token {
	t := &Token{tokenType: scheme, scheme: scheme, issued: issued, expiry: expiry}
	t.cred = &credential{access: access, header: []string{scheme + " " + access}}
	return t
}

// AccessToken returns the token value to send to the backend.
func (t *Token) AccessToken() string { return t.cred.access }

// Type returns token_type exactly as the server sent it (may be empty).
func (t *Token) Type() string { return t.tokenType }

// Scheme returns the Authorization scheme to use: "DPoP" for DPoP-bound
// tokens, the configured one for a [Login], "Bearer" for everything else
// (any case of "bearer", a missing token_type, vendor spellings such as
// Apigee's "BearerToken").
func (t *Token) Scheme() string {
	if t.scheme != "" {
		return t.scheme
	}
	if strings.EqualFold(t.tokenType, "dpop") {
		return "DPoP"
	}
	return "Bearer"
}

// Expiry returns the instant the token expires.
func (t *Token) Expiry() time.Time { return t.expiry }

// IssuedAt returns when the token was received.
func (t *Token) IssuedAt() time.Time { return t.issued }

// Scope returns the granted scope, or "" when the server did not say.
func (t *Token) Scope() string { return t.scope }

// Extra returns a member of the token response, such as "id_token" or a
// vendor field, or nil.
func (t *Token) Extra(key string) any { return t.cred.extra[key] }

// String describes the token without its value, for fmt and slog's text
// handler; encoding/json, YAML and slog's JSON handler see no exported
// field. Its value receiver makes a dereferenced Token print as safely as
// a *Token (and a nil *Token print "<nil>"). The value sits behind a
// pointer, so %#v and %p show an address.
func (t Token) String() string {
	return fmt.Sprintf("Token{type:%q scope:%q expiry:%s value:%s}", t.tokenType, t.scope, t.expiry.UTC().Format(time.RFC3339), redact.Mark)
}

// OAuth2 converts the token for use with golang.org/x/oauth2.
func (t *Token) OAuth2() *oauth2.Token {
	o := &oauth2.Token{AccessToken: t.cred.access, TokenType: t.Scheme(), Expiry: t.expiry}
	return o.WithExtra(t.cred.extra)
}

// fromOAuth2 converts an x/oauth2 token; a zero expiry gets lifetime def.
func fromOAuth2(o *oauth2.Token, now time.Time, def time.Duration) *Token {
	exp := o.Expiry
	if exp.IsZero() {
		exp = now.Add(def)
	}
	extra := map[string]any{}
	if s, ok := o.Extra("scope").(string); ok {
		extra["scope"] = s
	}
	scope, _ := extra["scope"].(string)
	return newToken(o.AccessToken, o.TokenType, scope, time.Time{}, exp, extra)
}

// stored is the serialized form kept in a cache.Store.
type stored struct {
	AccessToken string         `json:"a"`
	TokenType   string         `json:"t,omitempty"`
	Scope       string         `json:"s,omitempty"`
	Issued      int64          `json:"i"`
	Expiry      int64          `json:"e"`
	Extra       map[string]any `json:"x,omitempty"`
	Scheme      string         `json:"c,omitempty"`
}

// marshal serializes t for a store; a token without an issue time is
// stamped with now, so that readers size its renewal window right.
func (t *Token) marshal(now time.Time) ([]byte, error) {
	issued := t.issued
	if issued.IsZero() {
		issued = now
	}
	return json.Marshal(stored{t.cred.access, t.tokenType, t.scope, issued.UnixNano(), t.expiry.UnixNano(), t.cred.extra, t.scheme})
}

func unmarshalToken(b []byte) (*Token, error) {
	var s stored
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, err
	}
	if s.AccessToken == "" || s.Expiry == 0 {
		return nil, fmt.Errorf("incomplete cached token")
	}
	if s.Scheme != "" {
		return newSchemeToken(s.AccessToken, s.Scheme, time.Unix(0, s.Issued), time.Unix(0, s.Expiry)), nil
	}
	return newToken(s.AccessToken, s.TokenType, s.Scope, time.Unix(0, s.Issued), time.Unix(0, s.Expiry), s.Extra), nil
}

// capped returns t expiring no later than notAfter (zero: no bound).
func (t *Token) capped(notAfter time.Time) *Token {
	if notAfter.IsZero() || !t.expiry.After(notAfter) {
		return t
	}
	out := *t
	out.expiry = notAfter
	return &out
}

// boundTo is t fetched with the client certificate st.
func (t *Token) boundTo(st *certState) *Token {
	if st == nil || t.cert == st {
		return t
	}
	out := *t
	out.cert = st
	return &out
}

// keptUnder returns t noting the store key it is kept under.
func (t *Token) keptUnder(key string) *Token {
	if t.storeKey == key {
		return t
	}
	out := *t
	out.storeKey = key
	return &out
}
