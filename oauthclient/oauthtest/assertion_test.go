package oauthtest_test

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

func TestPrivateKeyJWTAlgorithms(t *testing.T) {
	clock := newClock()
	s := newServer(t, oauthtest.WithClock(clock.Now))
	tests := []struct {
		name   string
		method jwt.SigningMethod
		key    any
	}{
		{"RS256", jwt.SigningMethodRS256, rsaKey()},
		{"RS384", jwt.SigningMethodRS384, rsaKey()},
		{"PS256", jwt.SigningMethodPS256, rsaKey()},
		{"ES256", jwt.SigningMethodES256, p256Key()},
		{"ES384", jwt.SigningMethodES384, p384Key()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := "client-" + tt.name
			// A private key is accepted too: its public half is used.
			s.AddClient(oauthtest.Client{ID: id, Key: tt.key, KeyID: "kid-1", Scopes: []string{"read"}})
			a := sign(t, tt.method, tt.key, "kid-1", claims(id, s.TokenURL(), clock.Now()))
			r := post(t, s.Client(), s.TokenURL(), jwtForm(a), nil)
			require.Equal(t, 200, r.Status, r.Body)
			assert.True(t, s.Valid(r.str("access_token")))
			assert.Equal(t, "read", r.str("scope"))
			last, _ := s.LastRequest()
			assert.Equal(t, "private_key_jwt", last.AuthMethod)
			assert.Equal(t, id, last.ClientID)
			assert.Equal(t, 1, s.Requests(id))
		})
	}
}

func TestPrivateKeyJWTRejected(t *testing.T) {
	clock := newClock()
	s := newServer(t, oauthtest.WithClock(clock.Now))
	s.AddClient(oauthtest.Client{ID: "rsa", Key: rsaKey().Public(), KeyID: "kid-1"})
	s.AddClient(oauthtest.Client{ID: "ec", Key: p256Key().Public()})
	s.AddClient(oauthtest.Client{ID: "secret", Secret: "s"})
	now := clock.Now()
	std := func(id string) jwt.MapClaims { return claims(id, s.TokenURL(), now) }
	with := func(id, k string, v any) jwt.MapClaims {
		c := std(id)
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	rs := jwt.SigningMethodRS256
	tests := []struct {
		name    string
		method  jwt.SigningMethod
		key     any
		kid     string
		claims  jwt.MapClaims
		wantErr string
	}{
		{"wrong key", rs, rsaKey2(), "", std("rsa"), "invalid_client"},
		{"wrong kid", rs, rsaKey(), "kid-2", std("rsa"), "invalid_client"},
		{"expired", rs, rsaKey(), "", with("rsa", "exp", now.Add(-time.Second).Unix()), "invalid_client"},
		{"exp too far", rs, rsaKey(), "", with("rsa", "exp", now.Add(6*time.Minute).Unix()), "invalid_client"},
		{"no exp", rs, rsaKey(), "", with("rsa", "exp", nil), "invalid_client"},
		{"wrong aud", rs, rsaKey(), "", with("rsa", "aud", "https://elsewhere/token"), "invalid_client"},
		{"no aud", rs, rsaKey(), "", with("rsa", "aud", nil), "invalid_client"},
		{"no jti", rs, rsaKey(), "", with("rsa", "jti", nil), "invalid_client"},
		{"sub differs", rs, rsaKey(), "", with("rsa", "sub", "ec"), "invalid_client"},
		{"unknown issuer", rs, rsaKey(), "", std("nobody"), "invalid_client"},
		{"secret client", rs, rsaKey(), "", std("secret"), "invalid_client"},
		{"not yet valid", rs, rsaKey(), "", with("rsa", "nbf", now.Add(time.Minute).Unix()), "invalid_client"},
		{"EC alg on RSA key", jwt.SigningMethodES256, p256Key(), "", std("rsa"), "invalid_client"},
		{"ES384 on P-256 key", jwt.SigningMethodES384, p384Key(), "", std("ec"), "invalid_client"},
		{"HS256", jwt.SigningMethodHS256, []byte("shared"), "", std("ec"), "invalid_client"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := sign(t, tt.method, tt.key, tt.kid, tt.claims)
			r := post(t, s.Client(), s.TokenURL(), jwtForm(a), nil)
			assert.Equal(t, 401, r.Status, r.Body)
			assert.Equal(t, tt.wantErr, r.str("error"))
		})
	}
}

func TestPrivateKeyJWTAlgNone(t *testing.T) {
	s := newServer(t)
	s.AddClient(oauthtest.Client{ID: "rsa", Key: rsaKey().Public()})
	a := sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", claims("rsa", s.TokenURL(), time.Now()))
	r := post(t, s.Client(), s.TokenURL(), jwtForm(a), nil)
	assert.Equal(t, 401, r.Status, r.Body)
}

func TestPrivateKeyJWTReplayAndAudience(t *testing.T) {
	clock := newClock()
	s := newServer(t, oauthtest.WithClock(clock.Now))
	s.AddClient(oauthtest.Client{ID: "ec", Key: &p256Key().PublicKey})

	a := sign(t, jwt.SigningMethodES256, p256Key(), "", claims("ec", s.TokenURL(), clock.Now()))
	require.Equal(t, 200, post(t, s.Client(), s.TokenURL(), jwtForm(a), nil).Status)
	r := post(t, s.Client(), s.TokenURL(), jwtForm(a), nil)
	assert.Equal(t, 401, r.Status)
	assert.Contains(t, r.str("error_description"), "replayed")

	for _, aud := range []string{s.URL, s.URL + "/"} {
		a := sign(t, jwt.SigningMethodES256, p256Key(), "", claims("ec", aud, clock.Now()))
		assert.Equal(t, 200, post(t, s.Client(), s.TokenURL(), jwtForm(a), nil).Status, "aud %s", aud)
	}
	c := claims("ec", "", clock.Now())
	c["aud"] = []string{"https://other", s.TokenURL()}
	a = sign(t, jwt.SigningMethodES256, p256Key(), "", c)
	assert.Equal(t, 200, post(t, s.Client(), s.TokenURL(), jwtForm(a), nil).Status)
}

func TestPrivateKeyJWTFormErrors(t *testing.T) {
	s := newServer(t)
	s.AddClient(oauthtest.Client{ID: "rsa", Key: rsaKey().Public()})
	good := func() string {
		return sign(t, jwt.SigningMethodRS256, rsaKey(), "", claims("rsa", s.TokenURL(), time.Now()))
	}
	tests := []struct {
		name       string
		form       map[string]string
		wantStatus int
		wantErr    string
	}{
		{"wrong assertion type", map[string]string{"client_assertion_type": "urn:x", "client_assertion": good()}, 400, "invalid_request"},
		{"missing assertion", map[string]string{"client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, 400, "invalid_request"},
		{"garbage assertion", map[string]string{"client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "client_assertion": "a.b.c"}, 401, "invalid_client"},
		{"client_id mismatch", map[string]string{"client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "client_assertion": good(), "client_id": "other"}, 401, "invalid_client"},
		{"client_id match", map[string]string{"client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "client_assertion": good(), "client_id": "rsa"}, 200, ""},
		{"also a secret", map[string]string{"client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer", "client_assertion": good(), "client_secret": "x"}, 400, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			form := ccForm()
			for k, v := range tt.form {
				form.Set(k, v)
			}
			r := post(t, s.Client(), s.TokenURL(), form, nil)
			assert.Equal(t, tt.wantStatus, r.Status, r.Body)
			assert.Equal(t, tt.wantErr, r.str("error"))
		})
	}
}

// A client set up wrong stops the test that sets it up.
func TestAddClientPanicsOnMisuse(t *testing.T) {
	s := newServer(t)
	for name, c := range map[string]oauthtest.Client{
		"unsupported key":           {ID: "x", Key: []byte("hmac")},
		"unknown method":            {ID: "x", Secret: "s", Auth: "client_secret_magic"},
		"secret jwt without secret": {ID: "x", Auth: "client_secret_jwt"},
		"private key jwt, no key":   {ID: "x", Auth: "private_key_jwt", Secret: "s"},
		"tls without certificate":   {ID: "x", Auth: "tls_client_auth"},
	} {
		assert.Panics(t, func() { s.AddClient(c) }, name)
	}
}
