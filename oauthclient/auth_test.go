package oauthclient

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recorder is a token endpoint that remembers the last request it got.
type recorder struct {
	mu     sync.Mutex
	form   url.Values
	header http.Header
	*httptest.Server
}

func newRecorder(t *testing.T) *recorder {
	t.Helper()
	r := &recorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_ = req.ParseForm()
		r.mu.Lock()
		r.form, r.header = req.PostForm, req.Header.Clone()
		r.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"tok","token_type":"Bearer","expires_in":3600}`))
	}))
	t.Cleanup(r.Close)
	return r
}

func fetchWith(t *testing.T, cfg Config) *Token {
	t.Helper()
	s, err := NewSource(cfg, Options{Now: func() time.Time { return t0 }, AllowInsecureHTTP: true})
	require.NoError(t, err)
	tok, err := s.TokenContext(context.Background())
	require.NoError(t, err)
	return tok
}

func TestClientSecretBasicEncodesBeforeBase64(t *testing.T) {
	r := newRecorder(t)
	fetchWith(t, Config{Name: "crm", TokenURL: r.URL, ClientID: "id:with space", ClientSecret: NewSecret("p@ss:w%rd+"),
		Scopes: []string{"read", "write"}, Audience: "api://crm", Resources: []string{"https://a", "https://b"},
		Params: map[string]Secret{"tenant": NewSecret("t1")}})
	req := &http.Request{Header: r.header}
	user, pass, ok := req.BasicAuth()
	require.True(t, ok)
	// RFC 6749 §2.3.1: both parts are form-encoded before Base64.
	assert.Equal(t, url.QueryEscape("id:with space"), user)
	assert.Equal(t, url.QueryEscape("p@ss:w%rd+"), pass)
	assert.Equal(t, "client_credentials", r.form.Get("grant_type"))
	assert.Equal(t, "read write", r.form.Get("scope"))
	assert.Equal(t, "api://crm", r.form.Get("audience"))
	assert.Equal(t, []string{"https://a", "https://b"}, r.form["resource"])
	assert.Equal(t, "t1", r.form.Get("tenant"))
	assert.Empty(t, r.form.Get("client_secret"))
	assert.Equal(t, "application/x-www-form-urlencoded", r.header.Get("Content-Type"))
}

func TestClientSecretPost(t *testing.T) {
	r := newRecorder(t)
	fetchWith(t, Config{Name: "crm", TokenURL: r.URL, ClientID: "id", ClientSecret: NewSecret("sec"), AuthMethod: AuthClientSecretPost})
	assert.Equal(t, "id", r.form.Get("client_id"))
	assert.Equal(t, "sec", r.form.Get("client_secret"))
	assert.Empty(t, r.header.Get("Authorization"))
}

func TestAuthNone(t *testing.T) {
	r := newRecorder(t)
	fetchWith(t, Config{Name: "pub", TokenURL: r.URL, ClientID: "id", AuthMethod: AuthNone})
	assert.Equal(t, "id", r.form.Get("client_id"))
	assert.Empty(t, r.form.Get("client_secret"))
	assert.Empty(t, r.header.Get("Authorization"))
}

func TestPrivateKeyJWT(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	for _, tc := range []struct {
		alg  string
		key  crypto.Signer
		want string
	}{
		{"", rsaKey, "RS384"}, {"RS256", rsaKey, "RS256"}, {"RS384", rsaKey, "RS384"}, {"PS256", rsaKey, "PS256"},
		{"", p256, "ES256"}, {"ES256", p256, "ES256"}, {"ES384", p384, "ES384"},
	} {
		t.Run(tc.want+"/"+tc.alg, func(t *testing.T) {
			r := newRecorder(t)
			der, err := x509.MarshalPKCS8PrivateKey(tc.key)
			require.NoError(t, err)
			pemKey := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
			fetchWith(t, Config{Name: "ehr", TokenURL: r.URL, ClientID: "cid", AuthMethod: AuthPrivateKeyJWT,
				PrivateKeyPEM: NewSecret(string(pemKey)), KeyID: "k1", SigningAlg: tc.alg})
			seen := map[string]bool{}
			for range 2 { // a fresh assertion each time
				assertion := r.form.Get("client_assertion")
				assert.Equal(t, assertionType, r.form.Get("client_assertion_type"))
				assert.Equal(t, "cid", r.form.Get("client_id"))
				claims := jwt.RegisteredClaims{}
				pub := tc.key.Public()
				tok, err := jwt.ParseWithClaims(assertion, &claims, func(*jwt.Token) (any, error) { return pub, nil },
					jwt.WithTimeFunc(func() time.Time { return t0 }), jwt.WithValidMethods([]string{tc.want}))
				require.NoError(t, err)
				assert.Equal(t, "k1", tok.Header["kid"])
				assert.Equal(t, "cid", claims.Issuer)
				assert.Equal(t, "cid", claims.Subject)
				assert.Equal(t, jwt.ClaimStrings{r.URL}, claims.Audience)
				assert.Equal(t, t0.Add(time.Minute), claims.ExpiresAt.Time.UTC())
				assert.NotEmpty(t, claims.ID)
				assert.False(t, seen[claims.ID], "jti reused")
				seen[claims.ID] = true
				fetchWith(t, Config{Name: "ehr", TokenURL: r.URL, ClientID: "cid", AuthMethod: AuthPrivateKeyJWT,
					PrivateKeyPEM: NewSecret(string(pemKey)), KeyID: "k1", SigningAlg: tc.alg})
			}
		})
	}
}

func TestTLSClientAuthPresentsCertificate(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) == 0 {
			w.WriteHeader(401)
			_, _ = w.Write([]byte(`{"error":"invalid_client"}`))
			return
		}
		_ = r.ParseForm()
		assert.Equal(t, "mtls-client", r.PostForm.Get("client_id"))
		_, _ = w.Write([]byte(`{"access_token":"tok","expires_in":60}`))
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	cert := srv.TLS.Certificates[0] // any certificate will do for the handshake
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	s, err := NewSource(Config{Name: "mtls", TokenURL: srv.URL, ClientID: "mtls-client", AuthMethod: AuthTLSClientAuth,
		Certificate: &cert, RootCAs: pool}, Options{})
	require.NoError(t, err)
	tok, err := s.TokenContext(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "tok", tok.AccessToken())
}

func TestConfigValidation(t *testing.T) {
	good := Config{Name: "crm", TokenURL: "https://idp.example.com/token", ClientID: "id", ClientSecret: NewSecret("sec")}
	for _, tc := range []struct {
		name  string
		edit  func(*Config)
		field string
	}{
		{"missing token url", func(c *Config) { c.TokenURL = "" }, "token_url"},
		{"relative token url", func(c *Config) { c.TokenURL = "/token" }, "token_url"},
		{"ftp token url", func(c *Config) { c.TokenURL = "ftp://idp/token" }, "token_url"},
		{"plain http", func(c *Config) { c.TokenURL = "http://idp.example.com/token" }, "token_url"},
		{"credentials in url", func(c *Config) { c.TokenURL = "https://u:p@idp.example.com/token" }, "token_url"},
		{"missing client id", func(c *Config) { c.ClientID = "" }, "client_id"},
		{"missing secret", func(c *Config) { c.ClientSecret = NewSecret("") }, "client_secret"},
		{"unknown method", func(c *Config) { c.AuthMethod = "client_secret_jwt2" }, "auth_method"},
		{"jwt without key", func(c *Config) { c.AuthMethod = AuthPrivateKeyJWT }, "private_key"},
		{"unparsable key", func(c *Config) {
			c.AuthMethod, c.PrivateKeyPEM = AuthPrivateKeyJWT, NewSecret("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
		}, "private_key"},
		{"not pem", func(c *Config) { c.AuthMethod, c.PrivateKeyPEM = AuthPrivateKeyJWT, NewSecret("sekrit-key-bytes") }, "private_key"},
		{"tls without cert", func(c *Config) { c.AuthMethod = AuthTLSClientAuth }, "certificate"},
		{"assertion too long", func(c *Config) { c.AssertionLifetime = time.Hour }, "assertion_lifetime"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.edit(&c)
			_, err := NewSource(c, Options{})
			var ce *ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, "crm", ce.Definition)
			assert.Equal(t, tc.field, ce.Field)
			assert.Contains(t, err.Error(), `"crm"`)
			assert.NotContains(t, err.Error(), "sekrit")
			assert.NotContains(t, err.Error(), "AAAA")
		})
	}
	_, err := NewSource(good, Options{})
	assert.NoError(t, err)
	c := good
	c.TokenURL = "http://127.0.0.1:1/token"
	_, err = NewSource(c, Options{AllowInsecureHTTP: true})
	assert.NoError(t, err)
}

func TestSigningAlgMustFitKey(t *testing.T) {
	p256, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	_, err = NewSource(Config{Name: "ehr", TokenURL: "https://idp/token", ClientID: "id", AuthMethod: AuthPrivateKeyJWT,
		PrivateKey: p256, SigningAlg: "RS384"}, Options{})
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "signing_alg", ce.Field)
	assert.True(t, strings.Contains(err.Error(), "ES256"))
}

func TestTokenURLFuncDiscoversEndpoint(t *testing.T) {
	r := newRecorder(t)
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	calls := 0
	discover := func(context.Context) (string, error) { calls++; return r.URL + "/token", nil }
	tok := fetchWith(t, Config{Name: "ehr", TokenURLFunc: discover, ClientID: "cid", AuthMethod: AuthPrivateKeyJWT, PrivateKey: key})
	assert.Equal(t, "tok", tok.AccessToken())
	assert.Equal(t, 1, calls)
	claims := jwt.RegisteredClaims{}
	_, _, err = jwt.NewParser().ParseUnverified(r.form.Get("client_assertion"), &claims)
	require.NoError(t, err)
	assert.Equal(t, jwt.ClaimStrings{r.URL + "/token"}, claims.Audience, "aud is the discovered endpoint")

	for name, d := range map[string]func(context.Context) (string, error){
		"failing":   func(context.Context) (string, error) { return "", errors.New("no smart-configuration") },
		"plainhttp": func(context.Context) (string, error) { return "http://idp.example.com/token", nil },
	} {
		s, err := NewSource(Config{Name: "ehr", TokenURLFunc: d, ClientID: "cid", ClientSecret: NewSecret("x")}, Options{})
		require.NoError(t, err, name)
		_, err = s.TokenContext(context.Background())
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), `"ehr"`, name)
	}
}

func TestDiscoveredEndpointsOfDifferentServersHaveDifferentKeys(t *testing.T) {
	d := func(context.Context) (string, error) { return "", nil }
	a := CacheKey(Config{Name: "ehr", ClientID: "c", TokenURLFunc: d, Issuer: "https://a.example/fhir"})
	b := CacheKey(Config{Name: "ehr", ClientID: "c", TokenURLFunc: d, Issuer: "https://b.example/fhir"})
	assert.NotEqual(t, a, b)
	assert.NotContains(t, a, "example")
}
