package oauthclient_test

import (
	"cmp"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/internal/logbuf"
	"github.com/tokenwire/tokenwire/internal/rendertest"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

// Every grant type, supplier and error that holds a credential, rendered
// every way (fmt verbs, slog text and JSON, encoding/json, YAML, nested),
// shows none of it.
func TestGrantRenderingsShowNoSecret(t *testing.T) {
	const (
		assertion = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzYSJ9.assertion-signature-value"
		subject   = "subject-token-value-0042"
		actor     = "actor-token-value-0043"
		refresh   = "refresh-token-value-0044"
		password  = "login-password-0045"
		imported  = "imported-token-value-0046"
		apiKey    = "api-key-value-0047"
	)
	secrets := []string{assertion, subject, actor, refresh, password, imported, apiKey}
	val := func(s string) oauthclient.Supplier {
		return oauthclient.ValueSupplier(oauthclient.NewSecret(s), time.Time{})
	}
	login := oauthclient.Login{ClientIDField: "user", ClientSecretField: "pass",
		Fields: map[string]oauthclient.Secret{"tenant": oauthclient.NewSecret(password)}, Header: map[string]oauthclient.Secret{"X-Key": oauthclient.NewSecret(apiKey)}}
	grants := map[string]oauthclient.Grant{
		"JWTBearer":        oauthclient.JWTBearer{Assertion: val(assertion)},
		"JWTBearer signed": oauthclient.JWTBearer{Subject: "alice", Claims: map[string]any{"scope": "x"}},
		"TokenExchange":    oauthclient.TokenExchange{SubjectToken: val(subject), ActorToken: val(actor)},
		"RefreshToken":     oauthclient.RefreshToken{Token: val(refresh), OnRotate: func(context.Context, oauthclient.Secret) error { return nil }},
		"Login":            login,
		"Imported":         oauthclient.Imported{Token: val(imported), Expiry: time.Now()},
		"*RefreshToken":    &oauthclient.RefreshToken{Token: val(refresh)},
	}
	values := map[string]any{
		"ValueSupplier":   val(refresh),
		"FileSupplier":    oauthclient.FileSupplier("/run/secrets/token"),
		"CommandSupplier": oauthclient.CommandSupplier("vault", "read", "-field=token", "--password="+password),
		"SupplierFunc":    oauthclient.SupplierFunc(func(context.Context) (string, time.Time, error) { return refresh, time.Time{}, nil }),
		"PKCE":            oauthclient.NewPKCE(),
		"ReauthorizeError": &oauthclient.ReauthorizeError{Definition: "saas",
			Err: &oauthclient.Error{Definition: "saas", StatusCode: 400, Code: "invalid_grant"}},
	}
	for name, g := range grants {
		values[name] = g
		values["Config with "+name] = oauthclient.Config{Name: "x", TokenURL: "https://idp.example.com/t", Grant: g,
			ClientSecret: oauthclient.NewSecret(password)}
	}
	// A source keeps what its grant and client authentication need: it
	// shows none of it either.
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	for name, cfg := range map[string]oauthclient.Config{
		"client_secret_post": {AuthMethod: oauthclient.AuthClientSecretPost},
		"client_secret_jwt":  {AuthMethod: oauthclient.AuthClientSecretJWT},
		"private_key_jwt":    {AuthMethod: oauthclient.AuthPrivateKeyJWT, PrivateKey: key, ClientSecret: oauthclient.Secret{}},
		"DPoP":               {DPoPKey: key},
	} {
		grants[name] = nil
		values["Config with "+name] = cfg
	}
	for name := range grants {
		cfg, _ := values["Config with "+name].(oauthclient.Config)
		cfg.Name, cfg.TokenURL, cfg.ClientID = name, cmp.Or(cfg.TokenURL, "https://idp.example.com/t"), "app"
		if name == "JWTBearer signed" {
			cfg.PrivateKey = key
		}
		if cfg.ClientSecret.IsZero() && cfg.PrivateKey == nil {
			cfg.ClientSecret = oauthclient.NewSecret(password)
		}
		src, err := oauthclient.NewSource(cfg, oauthclient.Options{})
		require.NoError(t, err, name)
		t.Cleanup(src.Close)
		values["*Source with "+name] = src
	}
	pkce := values["PKCE"].(oauthclient.PKCE)
	for name, v := range values {
		rendertest.NoSecret(t, name, v, append(secrets, pkce.Verifier.Reveal())...)
	}
	assert.Contains(t, fmt.Sprint(values["CommandSupplier"]), "vault")
	assert.Contains(t, fmt.Sprint(grants["JWTBearer signed"]), "alice")
}

// What every grant logs and reports while it works and fails — logs,
// status snapshots, errors — never shows its credentials, even when the
// server echoes the whole request.
func TestGrantFlowsLogNoSecret(t *testing.T) {
	const (
		refresh  = "refresh-token-value-0101"
		echoed   = "refresh-token-value-0105" // its own family: one refresh token shared by two definitions is one family
		subject  = "subject-token-value-0102"
		password = "login-password-0103"
		secret   = "client-secret-0104"
	)
	logs := &logbuf.Buffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	echo := newEchoServer(t) // an HTML error page with the request in it
	as := oauthtest.NewServer()
	t.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: "app", Secret: secret, Scopes: []string{"read"}})
	seed := as.IssueRefreshToken("app", "alice", "read")
	as.AddLoginUser("svc", password)
	val := func(s string) oauthclient.Supplier {
		return oauthclient.ValueSupplier(oauthclient.NewSecret(s), time.Time{})
	}
	var rotated []string
	var mu sync.Mutex
	opts := oauthclient.Options{Logger: logger, AllowInsecureHTTP: true, Store: cache.NewMemory(10), MaxBackoffWait: -1}
	var texts []string
	var sources []*oauthclient.Source
	for name, cfg := range map[string]oauthclient.Config{
		"refresh ok": {TokenURL: as.TokenURL(), ClientID: "app", ClientSecret: oauthclient.NewSecret(secret),
			Grant: oauthclient.RefreshToken{Token: val(seed), OnRotate: func(_ context.Context, rt oauthclient.Secret) error {
				mu.Lock()
				rotated = append(rotated, rt.Reveal())
				mu.Unlock()
				return fmt.Errorf("vault unreachable for %s", rt.Reveal()) // a callback that echoes it
			}}},
		"refresh refused": {TokenURL: as.TokenURL(), ClientID: "app", ClientSecret: oauthclient.NewSecret(secret), Grant: oauthclient.RefreshToken{Token: val(refresh)}},
		"refresh echoed":  {TokenURL: echo.URL, ClientID: "app", ClientSecret: oauthclient.NewSecret(secret), Grant: oauthclient.RefreshToken{Token: val(echoed)}},
		"exchange echoed": {TokenURL: echo.URL, ClientID: "app", ClientSecret: oauthclient.NewSecret(secret), Grant: oauthclient.TokenExchange{SubjectToken: val(subject)}},
		"exchange refused": {TokenURL: as.TokenURL(), ClientID: "app", ClientSecret: oauthclient.NewSecret(secret),
			Grant: oauthclient.TokenExchange{SubjectToken: val(subject)}},
		"jwt echoed":   {TokenURL: echo.URL, Grant: oauthclient.JWTBearer{Assertion: val("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzYSJ9.c2ln")}},
		"login ok":     {TokenURL: as.LoginURL(), ClientID: "svc", ClientSecret: oauthclient.NewSecret(password), Grant: oauthclient.Login{ClientIDField: "username", ClientSecretField: "password", TokenPath: "data.jwt"}},
		"login echoed": {TokenURL: echo.URL, ClientID: "svc", ClientSecret: oauthclient.NewSecret(password), Grant: oauthclient.Login{ClientIDField: "username", ClientSecretField: "password"}},
	} {
		cfg.Name = name
		src, err := oauthclient.NewSource(cfg, opts)
		require.NoError(t, err, name)
		t.Cleanup(src.Close)
		if _, err := src.TokenContext(context.Background()); err != nil {
			texts = append(texts, err.Error())
			rendertest.NoSecret(t, name+" error", err, refresh, echoed, subject, password, secret, seed)
		}
		st, _ := json.Marshal(src.Status())
		texts = append(texts, string(st))
		sources = append(sources, src)
	}
	mu.Lock()
	secrets := append([]string{refresh, echoed, subject, password, secret, seed, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzYSJ9.c2ln"}, rotated...)
	mu.Unlock()
	require.NotEmpty(t, rotated)
	for _, src := range sources { // each now holds what it fetched and rotated
		rendertest.NoSecret(t, "source", src, secrets...)
	}
	out := logs.String() + strings.Join(texts, "\n")
	for _, s := range secrets {
		assert.NotContains(t, out, s)
	}
	assert.Contains(t, out, "refresh token was refused")
	assert.Contains(t, out, "OnRotate failed")
}

// A backend that has the login token go out with its own scheme gets it.
func TestLoginSchemeOnTheWire(t *testing.T) {
	var auth string
	api := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { auth = r.Header.Get("Authorization") }))
	t.Cleanup(api.Close)
	vendor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"token":"tkn-1","expires_in":60}`)
	}))
	t.Cleanup(vendor.Close)
	src, err := oauthclient.NewSource(oauthclient.Config{Name: "legacy", TokenURL: vendor.URL,
		Grant: oauthclient.Login{TokenPath: "token", ExpiresInPath: "expires_in", Scheme: "JWT"}}, oauthclient.Options{AllowInsecureHTTP: true, Store: cache.NewMemory(4)})
	require.NoError(t, err)
	t.Cleanup(src.Close)
	c, err := oauthclient.NewClient(src, api.URL)
	require.NoError(t, err)
	resp, err := c.Get(api.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "JWT tkn-1", auth)
}
