package oauthclient_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

// The vendor login of oauthtest: credentials in a JSON body under names of
// its own, the token at data.jwt, its lifetime only inside the JWT.
func TestLoginEndpoint(t *testing.T) {
	clk := newFakeClock(time.Now())
	as := oauthtest.NewServer(oauthtest.WithClock(clk.Now), oauthtest.WithTokenLifetime(30*time.Minute))
	t.Cleanup(as.Close)
	as.AddLoginUser("svc-integration", "pa55word")
	api := httptest.NewServer(as.RequireToken(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })))
	t.Cleanup(api.Close)

	src, err := oauthclient.NewSource(oauthclient.Config{Name: "vendor", TokenURL: as.LoginURL(), ClientID: "svc-integration",
		ClientSecret: oauthclient.NewSecret("pa55word"),
		Grant:        oauthclient.Login{ClientIDField: "username", ClientSecretField: "password", TokenPath: "data.jwt"}},
		oauthclient.Options{Now: clk.Now, AllowInsecureHTTP: true})
	require.NoError(t, err)
	t.Cleanup(src.Close)
	tok, err := src.TokenContext(context.Background())
	require.NoError(t, err)
	assert.Equal(t, clk.Now().Add(30*time.Minute).Unix(), tok.Expiry().Unix(), "lifetime from the JWT's exp")
	assert.Equal(t, "Bearer", tok.Scheme())
	assert.Equal(t, "login", src.Status().Grant)

	c, err := oauthclient.NewClient(src, api.URL)
	require.NoError(t, err)
	resp, err := c.Get(api.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	// Wrong credentials: a typed error with the status and a scrubbed
	// excerpt of what the vendor said, no retry storm (permanent).
	bad, err := oauthclient.NewSource(oauthclient.Config{Name: "vendor", TokenURL: as.LoginURL(), ClientID: "svc-integration",
		ClientSecret: oauthclient.NewSecret("wrong-password"),
		Grant:        oauthclient.Login{ClientIDField: "username", ClientSecretField: "password", TokenPath: "data.jwt"}},
		oauthclient.Options{Now: clk.Now, AllowInsecureHTTP: true, MaxBackoffWait: -1})
	require.NoError(t, err)
	t.Cleanup(bad.Close)
	_, err = bad.TokenContext(context.Background())
	var oe *oauthclient.Error
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, http.StatusUnauthorized, oe.StatusCode)
	assert.Contains(t, oe.Excerpt, "invalid credentials")
	assert.False(t, oe.Temporary())
}

// A vendor of its own: a form or nested JSON body with constants, an API
// key header, Basic authentication, lifetimes from a field (seconds or a
// date), a scheme of its own, a GET with the fields in the query.
func TestLoginShapes(t *testing.T) {
	exp := time.Now().Add(2 * time.Hour).UTC().Truncate(time.Second)
	var got struct {
		method, ctype, body, query, apiKey, basic string
	}
	vendor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got.method, got.ctype, got.body, got.query = r.Method, r.Header.Get("Content-Type"), string(b), r.URL.RawQuery
		got.apiKey = r.Header.Get("X-Api-Key")
		got.basic, _, _ = strings.Cut(r.Header.Get("Authorization"), " ")
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"result":{"items":[{"token":"opaque-123","ttl":"900","until":"`+exp.Format(time.RFC3339)+`"}]}}`)
	}))
	t.Cleanup(vendor.Close)
	base := oauthclient.Config{Name: "legacy", TokenURL: vendor.URL + "/auth", ClientID: "svc", ClientSecret: oauthclient.NewSecret("s3cr3t-pw")}
	for name, tc := range map[string]struct {
		login  oauthclient.Login
		auth   oauthclient.AuthMethod
		check  func(t *testing.T)
		expiry time.Duration // from now; 0: exp
		scheme string
	}{
		"nested JSON with constants and a header": {
			login: oauthclient.Login{ClientIDField: "auth.user", ClientSecretField: "auth.pass", TokenPath: "result.items.0.token",
				ExpiresInPath: "result.items.0.ttl", Fields: map[string]oauthclient.Secret{"auth.tenant": oauthclient.NewSecret("acme"),
					"client": oauthclient.NewSecret("tokenwire")}, Header: map[string]oauthclient.Secret{"X-Api-Key": oauthclient.NewSecret("key-42")}},
			check: func(t *testing.T) {
				assert.Equal(t, "application/json", got.ctype)
				assert.JSONEq(t, `{"auth":{"user":"svc","pass":"s3cr3t-pw","tenant":"acme"},"client":"tokenwire"}`, got.body)
				assert.Equal(t, "key-42", got.apiKey)
			},
			expiry: 15 * time.Minute,
		},
		"form with Basic and a date": {
			login: oauthclient.Login{Body: "form", TokenPath: "result.items.0.token", ExpiresAtPath: "result.items.0.until", Scheme: "Token",
				Fields: map[string]oauthclient.Secret{"grant": oauthclient.NewSecret("password")}},
			auth: oauthclient.AuthClientSecretBasic,
			check: func(t *testing.T) {
				assert.Equal(t, "application/x-www-form-urlencoded", got.ctype)
				assert.Equal(t, "grant=password", got.body)
				assert.Equal(t, "Basic", got.basic)
			},
			scheme: "Token",
		},
		"GET with the fields in the query": {
			login: oauthclient.Login{Method: "GET", ClientIDField: "user", ClientSecretField: "key", TokenPath: "result.items.0.token"},
			check: func(t *testing.T) {
				assert.Equal(t, http.MethodGet, got.method)
				assert.Equal(t, "key=s3cr3t-pw&user=svc", got.query)
			},
			expiry: time.Hour, // the default lifetime: an opaque token, no field named
		},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := base
			cfg.Grant, cfg.AuthMethod = tc.login, tc.auth
			src, err := oauthclient.NewSource(cfg, oauthclient.Options{AllowInsecureHTTP: true})
			require.NoError(t, err)
			t.Cleanup(src.Close)
			tok, err := src.TokenContext(context.Background())
			require.NoError(t, err)
			assert.Equal(t, "opaque-123", tok.AccessToken())
			tc.check(t)
			want := exp
			if tc.expiry > 0 {
				want = time.Now().Add(tc.expiry)
			}
			assert.WithinDuration(t, want, tok.Expiry(), 5*time.Second)
			assert.Equal(t, cmpOr(tc.scheme, "Bearer"), tok.Scheme())
			assert.Equal(t, cmpOr(tc.scheme, "Bearer"), tok.OAuth2().TokenType)
		})
	}
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// What a login endpoint answers wrong gets a clear, scrubbed error.
func TestLoginErrors(t *testing.T) {
	const pw = "s3cr3t-pw-echoed"
	jwtTok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "x"}).SignedString([]byte("k"))
	answers := map[string]struct {
		status int
		body   string
		want   string
	}{
		"echo of the request": {500, `{"error":"bad","request":{"password":"` + pw + `"},"token":"` + jwtTok + `"}`, "HTTP 500"},
		"no token there":      {200, `{"data":{}}`, "no token at data.jwt"},
		"not JSON":            {200, `<html>login</html>`, "not JSON"},
		"bad lifetime":        {200, `{"data":{"jwt":"t","exp":"soon"}}`, "data.exp"},
	}
	for name, a := range answers {
		t.Run(name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(a.status)
				_, _ = io.WriteString(w, a.body)
			}))
			t.Cleanup(srv.Close)
			src, err := oauthclient.NewSource(oauthclient.Config{Name: "legacy", TokenURL: srv.URL, ClientID: "svc", ClientSecret: oauthclient.NewSecret(pw),
				Grant: oauthclient.Login{ClientIDField: "user", ClientSecretField: "password", TokenPath: "data.jwt", ExpiresAtPath: "data.exp"}},
				oauthclient.Options{AllowInsecureHTTP: true, MaxBackoffWait: -1})
			require.NoError(t, err)
			t.Cleanup(src.Close)
			_, err = src.TokenContext(context.Background())
			require.Error(t, err)
			var oe *oauthclient.Error
			require.ErrorAs(t, err, &oe)
			assert.Contains(t, err.Error(), a.want)
			assert.NotContains(t, err.Error(), pw)
			assert.NotContains(t, err.Error(), jwtTok)
			if a.status == 200 {
				assert.ErrorIs(t, err, oauthclient.ErrMalformedResponse)
			}
		})
	}
}

func TestLoginConfigErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		cfg   oauthclient.Config
		field string
	}{
		"method":            {oauthclient.Config{Grant: oauthclient.Login{Method: "DELETE"}}, "method"},
		"body":              {oauthclient.Config{Grant: oauthclient.Login{Body: "xml"}}, "body"},
		"auth":              {oauthclient.Config{AuthMethod: oauthclient.AuthPrivateKeyJWT, Grant: oauthclient.Login{}}, "auth_method"},
		"no client id":      {oauthclient.Config{Grant: oauthclient.Login{ClientIDField: "u"}}, "client_id"},
		"no secret":         {oauthclient.Config{ClientID: "c", Grant: oauthclient.Login{ClientSecretField: "p"}}, "client_secret"},
		"field twice":       {oauthclient.Config{ClientID: "c", Grant: oauthclient.Login{ClientIDField: "u", Fields: map[string]oauthclient.Secret{"u": oauthclient.NewSecret("x")}}}, "fields.u"},
		"value and object":  {oauthclient.Config{Grant: oauthclient.Login{Fields: map[string]oauthclient.Secret{"a": oauthclient.NewSecret("x"), "a.b": oauthclient.NewSecret("y")}}}, "fields"},
		"empty path":        {oauthclient.Config{Grant: oauthclient.Login{TokenPath: "data..jwt"}}, "token_path"},
		"header":            {oauthclient.Config{Grant: oauthclient.Login{Header: map[string]oauthclient.Secret{"Bad Header": oauthclient.NewSecret("x")}}}, "headers"},
		"http":              {oauthclient.Config{TokenURL: "http://vendor.example.com/login", Grant: oauthclient.Login{}}, "token_url"},
		"scheme with space": {oauthclient.Config{Grant: oauthclient.Login{Scheme: "Bearer x"}}, "scheme"},
	} {
		t.Run(name, func(t *testing.T) {
			tc.cfg.Name = "legacy"
			if tc.cfg.TokenURL == "" {
				tc.cfg.TokenURL = "https://vendor.example.com/login"
			}
			_, err := oauthclient.NewSource(tc.cfg, oauthclient.Options{})
			var ce *oauthclient.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.field, ce.Field)
			assert.Equal(t, "legacy", ce.Definition)
		})
	}
}

// An imported token is re-read when it enters its renewal window: replaced
// where it lives, the new one is served; read past its expiry, it is an
// error matching ErrExpired.
func TestImportedToken(t *testing.T) {
	clk := newFakeClock(time.Now())
	path := filepath.Join(t.TempDir(), "partner-token")
	key := []byte("partner-signing-key")
	mint := func(life time.Duration) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"exp": clk.Now().Add(life).Unix()}).SignedString(key)
		require.NoError(t, err)
		return s
	}
	first := mint(time.Hour)
	writeRotated(t, path, first)
	src, err := oauthclient.NewSource(oauthclient.Config{Name: "partner", Grant: oauthclient.Imported{Token: oauthclient.FileSupplier(path)}},
		oauthclient.Options{Now: clk.Now, MaxBackoffWait: -1})
	require.NoError(t, err)
	t.Cleanup(src.Close)
	tok, err := src.TokenContext(context.Background())
	require.NoError(t, err)
	assert.Equal(t, first, tok.AccessToken())
	assert.Equal(t, clk.Now().Add(time.Hour).Unix(), tok.Expiry().Unix())
	assert.Equal(t, "imported", src.Status().Grant)

	clk.Advance(58 * time.Minute) // in the renewal window: re-read
	second := mint(time.Hour)
	writeRotated(t, path, second)
	_, _ = src.TokenContext(context.Background()) // starts the background re-read
	require.Eventually(t, func() bool {
		tok, err := src.TokenContext(context.Background())
		return err == nil && tok.AccessToken() == second
	}, 5*time.Second, time.Millisecond)

	clk.Advance(2 * time.Hour) // nobody replaced it
	_, err = src.TokenContext(context.Background())
	require.ErrorIs(t, err, oauthclient.ErrExpired)
	assert.NotContains(t, err.Error(), second)

	// An opaque token with its expiry given.
	opaque, err := oauthclient.NewSource(oauthclient.Config{Name: "partner", Grant: oauthclient.Imported{
		Token: oauthclient.ValueSupplier(oauthclient.NewSecret("opaque-partner-token"), time.Time{}), Expiry: clk.Now().Add(time.Minute)}},
		oauthclient.Options{Now: clk.Now})
	require.NoError(t, err)
	t.Cleanup(opaque.Close)
	tok, err = opaque.TokenContext(context.Background())
	require.NoError(t, err)
	assert.Equal(t, clk.Now().Add(time.Minute).Unix(), tok.Expiry().Unix())

	_, err = oauthclient.NewSource(oauthclient.Config{Name: "partner", Grant: oauthclient.Imported{}}, oauthclient.Options{})
	var ce *oauthclient.ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "token", ce.Field)

	missing, err := oauthclient.NewSource(oauthclient.Config{Name: "partner", Grant: oauthclient.Imported{Token: oauthclient.FileSupplier(filepath.Join(t.TempDir(), "none"))}},
		oauthclient.Options{MaxBackoffWait: -1})
	require.NoError(t, err)
	t.Cleanup(missing.Close)
	_, err = missing.TokenContext(context.Background())
	assert.True(t, errors.Is(err, os.ErrNotExist), "%v", err)
}

// echoURLTransport fails every request with an error that repeats its URL,
// as a proxy may.
type echoURLTransport struct{}

func (echoURLTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return nil, errors.New("proxy refused " + r.URL.String())
}

// A login sent as GET carries its fields in the query: a transport error
// that repeats the URL shows none of them (the secret, the fields), as a
// token request's does.
func TestLoginTransportErrorShowsNoField(t *testing.T) {
	const pw = "s3cr3t-pw-in-query"
	src, err := oauthclient.NewSource(oauthclient.Config{Name: "vendor", TokenURL: "https://login.example/api/login", ClientID: "svc",
		ClientSecret: oauthclient.NewSecret(pw),
		Grant: oauthclient.Login{Method: "GET", ClientIDField: "user", ClientSecretField: "key",
			Fields: map[string]oauthclient.Secret{"tenant": oauthclient.NewSecret("tenant-secret-7")}}},
		oauthclient.Options{HTTPClient: &http.Client{Transport: echoURLTransport{}}})
	require.NoError(t, err)
	t.Cleanup(src.Close)
	_, err = src.TokenContext(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "proxy refused https://login.example/api/login?")
	assert.NotContains(t, err.Error(), pw)
	assert.NotContains(t, err.Error(), "tenant-secret-7")
}
