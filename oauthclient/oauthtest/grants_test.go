package oauthtest_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

func TestJWTBearerGrant(t *testing.T) {
	clk := newClock()
	s := newServer(t, oauthtest.WithClock(clk.Now))
	s.AddAssertionIssuer("https://issuer.example", p256Key())
	s.AddClient(oauthtest.Client{ID: "svc", Secret: "pw", Scopes: []string{"read"}})
	assertion := func(c jwt.MapClaims) url.Values {
		return url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {sign(t, jwt.SigningMethodES256, p256Key(), "", c)}}
	}
	good := jwt.MapClaims{"iss": "https://issuer.example", "sub": "wl-1", "aud": s.TokenURL(), "exp": clk.Now().Add(time.Hour).Unix()}

	r := post(t, http.DefaultClient, s.TokenURL(), assertion(good), nil)
	require.Equal(t, 200, r.Status, r.Body)
	info, ok := s.TokenInfo(r.str("access_token"))
	require.True(t, ok)
	assert.Equal(t, "wl-1", info.Subject)
	assert.Empty(t, info.ClientID, "no client authenticated")
	r = post(t, http.DefaultClient, s.TokenURL(), assertion(good), nil)
	assert.Equal(t, 200, r.Status, "an assertion may be sent again until it expires")

	r = post(t, http.DefaultClient, s.TokenURL(), assertion(good), basic("svc", "pw"))
	require.Equal(t, 200, r.Status, r.Body)
	info, _ = s.TokenInfo(r.str("access_token"))
	assert.Equal(t, "svc", info.ClientID, "with client authentication, the token is the client's too")

	for name, c := range map[string]jwt.MapClaims{
		"expired":        {"iss": "https://issuer.example", "sub": "wl-1", "aud": s.TokenURL(), "exp": clk.Now().Add(-time.Minute).Unix()},
		"no exp":         {"iss": "https://issuer.example", "sub": "wl-1", "aud": s.TokenURL()},
		"other audience": {"iss": "https://issuer.example", "sub": "wl-1", "aud": "https://elsewhere", "exp": clk.Now().Add(time.Hour).Unix()},
		"unknown issuer": {"iss": "https://nobody.example", "sub": "wl-1", "aud": s.TokenURL(), "exp": clk.Now().Add(time.Hour).Unix()},
		"no subject":     {"iss": "https://issuer.example", "aud": s.TokenURL(), "exp": clk.Now().Add(time.Hour).Unix()},
	} {
		r := post(t, http.DefaultClient, s.TokenURL(), assertion(c), nil)
		assert.Equal(t, "invalid_grant", r.str("error"), name)
	}
	other := must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	forged := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:jwt-bearer"}, "assertion": {sign(t, jwt.SigningMethodES256, other, "", good)}}
	assert.Equal(t, "invalid_grant", post(t, http.DefaultClient, s.TokenURL(), forged, nil).str("error"), "a signature of another key")
}

func TestTokenExchangeGrant(t *testing.T) {
	s := newServer(t)
	s.AddClient(oauthtest.Client{ID: "gw", Secret: "gw-pw"})
	s.AddClient(oauthtest.Client{ID: "alice", Secret: "a-pw"})
	s.AddAssertionIssuer("https://idp.example", rsaKey())
	subj := post(t, http.DefaultClient, s.TokenURL(), ccForm(), basic("alice", "a-pw")).str("access_token")
	exchange := func(kv ...string) reply {
		f := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}}
		for i := 0; i+1 < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return post(t, http.DefaultClient, s.TokenURL(), f, basic("gw", "gw-pw"))
	}
	r := exchange("subject_token", subj, "subject_token_type", "urn:ietf:params:oauth:token-type:access_token")
	require.Equal(t, 200, r.Status, r.Body)
	assert.Equal(t, "urn:ietf:params:oauth:token-type:access_token", r.str("issued_token_type"))
	info, _ := s.TokenInfo(r.str("access_token"))
	assert.Equal(t, "alice", info.Subject)
	assert.Equal(t, "gw", info.ClientID)

	idTok := sign(t, jwt.SigningMethodRS256, rsaKey(), "", jwt.MapClaims{"iss": "https://idp.example", "sub": "bob", "exp": time.Now().Add(time.Hour).Unix()})
	r = exchange("subject_token", idTok, "subject_token_type", "urn:ietf:params:oauth:token-type:jwt", "actor_token", subj, "actor_token_type", "urn:ietf:params:oauth:token-type:access_token")
	require.Equal(t, 200, r.Status, r.Body)
	info, _ = s.TokenInfo(r.str("access_token"))
	assert.Equal(t, "bob", info.Subject)
	assert.Equal(t, "alice", info.Actor)

	s.Revoke(subj)
	assert.Equal(t, "invalid_grant", exchange("subject_token", subj, "subject_token_type", "urn:ietf:params:oauth:token-type:access_token").str("error"), "a revoked subject")
	assert.Equal(t, "invalid_request", exchange("subject_token", subj).str("error"), "no subject_token_type")
	assert.Equal(t, "invalid_request", exchange("subject_token_type", "urn:ietf:params:oauth:token-type:access_token").str("error"), "no subject_token")
	noAuth := post(t, http.DefaultClient, s.TokenURL(), url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"}, "subject_token": {subj}}, nil)
	assert.Equal(t, "invalid_client", noAuth.str("error"), "the exchanging client authenticates")
}

func TestRefreshGrantRotationAndReuse(t *testing.T) {
	s := newServer(t)
	s.AddClient(oauthtest.Client{ID: "app", Scopes: []string{"read", "write"}})
	s.AddClient(oauthtest.Client{ID: "other"})
	rt := s.IssueRefreshToken("app", "alice", "read write")
	refresh := func(id, v string, kv ...string) reply {
		f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {v}, "client_id": {id}}
		for i := 0; i+1 < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return post(t, http.DefaultClient, s.TokenURL(), f, nil)
	}
	r1 := refresh("app", rt)
	require.Equal(t, 200, r1.Status, r1.Body)
	next := r1.str("refresh_token")
	require.NotEmpty(t, next)
	assert.NotEqual(t, rt, next, "rotated")
	info, _ := s.TokenInfo(r1.str("access_token"))
	assert.Equal(t, "alice", info.Subject)
	assert.Equal(t, "read write", info.Scope)

	r2 := refresh("app", next, "scope", "read")
	require.Equal(t, 200, r2.Status, r2.Body)
	assert.Equal(t, "read", r2.str("scope"), "a narrower scope")
	assert.Equal(t, "invalid_scope", refresh("app", r2.str("refresh_token"), "scope", "admin").str("error"))
	assert.Equal(t, "invalid_grant", refresh("other", r2.str("refresh_token")).str("error"), "another client's")

	// Reuse: the family goes, access tokens included.
	assert.Equal(t, "invalid_grant", refresh("app", rt).str("error"))
	assert.False(t, s.Valid(r1.str("access_token")))
	assert.False(t, s.Valid(r2.str("access_token")))
	assert.Equal(t, "invalid_grant", refresh("app", r2.str("refresh_token")).str("error"), "the newest is revoked too")
	st := s.RefreshStats()
	assert.Equal(t, 1, st.Reused)
	assert.Equal(t, 2, st.Used)

	// Without rotation the same refresh token serves again.
	s.AddClient(oauthtest.Client{ID: "keeper", KeepRefreshToken: true})
	rt2 := s.IssueRefreshToken("keeper", "bob", "read")
	for range 3 {
		r := refresh("keeper", rt2)
		require.Equal(t, 200, r.Status, r.Body)
		assert.Equal(t, rt2, r.str("refresh_token"))
	}
}

func TestAuthorizationCodeWithPKCE(t *testing.T) {
	s := newServer(t)
	s.AddClient(oauthtest.Client{ID: "cli", Scopes: []string{"files.read"}, Subject: "admin"})
	const redirect = "http://127.0.0.1:5000/cb"
	verifier := strings.Repeat("v", 43)
	sum := sha256.Sum256([]byte(verifier))
	challenge := base64.RawURLEncoding.EncodeToString(sum[:])
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	authorize := func(kv ...string) *http.Response {
		q := url.Values{"response_type": {"code"}, "client_id": {"cli"}, "redirect_uri": {redirect}, "state": {"st-1"},
			"code_challenge": {challenge}, "code_challenge_method": {"S256"}}
		for i := 0; i+1 < len(kv); i += 2 {
			q.Set(kv[i], kv[i+1])
		}
		resp, err := noFollow.Get(s.AuthorizeURL() + "?" + q.Encode())
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	resp := authorize()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	back, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, "st-1", back.Query().Get("state"))
	code := back.Query().Get("code")
	require.NotEmpty(t, code)

	redeem := func(code, verifier, redirect string) reply {
		return post(t, http.DefaultClient, s.TokenURL(), url.Values{"grant_type": {"authorization_code"}, "code": {code}, "client_id": {"cli"},
			"redirect_uri": {redirect}, "code_verifier": {verifier}}, nil)
	}
	assert.Equal(t, "invalid_grant", redeem(code, strings.Repeat("w", 43), redirect).str("error"), "the wrong verifier")
	assert.Equal(t, "invalid_grant", redeem(code, verifier, "http://127.0.0.1:5001/cb").str("error"), "another redirect_uri")
	r := redeem(code, verifier, redirect)
	require.Equal(t, 200, r.Status, r.Body)
	require.NotEmpty(t, r.str("refresh_token"))
	info, _ := s.TokenInfo(r.str("access_token"))
	assert.Equal(t, "admin", info.Subject)
	assert.Equal(t, "invalid_grant", redeem(code, verifier, redirect).str("error"), "a code is used once")
	assert.False(t, s.Valid(r.str("access_token")), "and using it again revokes what it gave")

	// Refused without a redirect: unknown client, a redirect that is not
	// loopback. With one: no PKCE, plain PKCE.
	assert.Equal(t, http.StatusBadRequest, authorize("client_id", "nobody").StatusCode)
	assert.Equal(t, http.StatusBadRequest, authorize("redirect_uri", "https://attacker.example/cb").StatusCode)
	assert.Equal(t, http.StatusBadRequest, authorize("redirect_uri", "http://localhost:5000/cb").StatusCode, "RFC 8252 §7.3: an IP literal")
	for name, kv := range map[string][]string{"no challenge": {"code_challenge", ""}, "plain": {"code_challenge_method", "plain"},
		"token response": {"response_type", "token"}} {
		resp := authorize(kv...)
		require.Equal(t, http.StatusFound, resp.StatusCode, name)
		back, _ := url.Parse(resp.Header.Get("Location"))
		assert.NotEmpty(t, back.Query().Get("error"), name)
		assert.Equal(t, "st-1", back.Query().Get("state"), name)
	}
	assert.Equal(t, http.StatusFound, authorize("redirect_uri", "http://[::1]:5000/cb").StatusCode, "IPv6 loopback")
}

func TestLoginEndpoint(t *testing.T) {
	clk := newClock()
	s := newServer(t, oauthtest.WithClock(clk.Now))
	s.AddLoginUser("svc", "pw")
	login := func(body, ctype string) (int, map[string]any) {
		resp, err := http.Post(s.LoginURL(), ctype, strings.NewReader(body))
		require.NoError(t, err)
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	status, m := login(`{"username":"svc","password":"pw"}`, "application/json")
	require.Equal(t, 200, status)
	tok := m["data"].(map[string]any)["jwt"].(string)
	assert.True(t, s.Valid(tok))
	var claims jwt.RegisteredClaims
	_, _, err := jwt.NewParser().ParseUnverified(tok, &claims)
	require.NoError(t, err)
	assert.Equal(t, clk.Now().Add(time.Hour).Unix(), claims.ExpiresAt.Unix())
	status, _ = login("username=svc&password=pw", "application/x-www-form-urlencoded")
	assert.Equal(t, 200, status)
	status, m = login(`{"username":"svc","password":"nope"}`, "application/json")
	assert.Equal(t, 401, status)
	assert.Equal(t, "invalid credentials", m["message"])
	assert.Equal(t, 3, s.Requests("svc"))
}
