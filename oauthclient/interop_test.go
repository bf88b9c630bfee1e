package oauthclient_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/internal/suites"
	"github.com/tokenwire/tokenwire/oauthclient"
)

// interop is a real, OpenID-certified authorization server (panva's
// oidc-provider) that .ci/run starts on loopback from .ci/oidc, writing its
// URL, the shared secret and the JWT clients' private keys to
// $TOKENWIRE_OIDC_DIR.
type interop struct{ dir, url, secret string }

func newInterop(t *testing.T) interop {
	t.Helper()
	suites.Interop.Require(t) // skips without TOKENWIRE_OIDC_DIR, or fails under CI
	dir := os.Getenv("TOKENWIRE_OIDC_DIR")
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		return string(b)
	}
	return interop{dir: dir, url: strings.TrimSpace(read("url")), secret: read("secret")}
}

func (i interop) key(t *testing.T, name string) oauthclient.Secret {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(i.dir, name))
	require.NoError(t, err)
	return oauthclient.NewSecret(string(b))
}

// introspect asks the server what it thinks of tok (RFC 7662).
func (i interop) introspect(t *testing.T, tok string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, i.url+"/token/introspection", strings.NewReader(url.Values{"token": {tok}}.Encode()))
	require.NoError(t, err)
	req.SetBasicAuth(url.QueryEscape("basic"), url.QueryEscape(i.secret))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return out
}

// Every client authentication method against the certified server, found
// through its issuer (OpenID discovery); the server's introspection
// confirms the granted scope and the expiry.
func TestInteropClientAuthentication(t *testing.T) {
	i := newInterop(t)
	for _, tc := range []struct {
		name string
		cfg  oauthclient.Config
	}{
		{"client_secret_basic with : + / % & = ? # in the secret", oauthclient.Config{ClientID: "basic", ClientSecret: oauthclient.NewSecret(i.secret)}},
		{"client_secret_post", oauthclient.Config{ClientID: "post", ClientSecret: oauthclient.NewSecret(i.secret), AuthMethod: oauthclient.AuthClientSecretPost}},
		{"client_secret_jwt", oauthclient.Config{ClientID: "secret-jwt", ClientSecret: oauthclient.NewSecret(i.secret), AuthMethod: oauthclient.AuthClientSecretJWT}},
		{"private_key_jwt RS384", oauthclient.Config{ClientID: "jwt-rs384", AuthMethod: oauthclient.AuthPrivateKeyJWT, PrivateKeyPEM: i.key(t, "rs384.pem"), KeyID: "rs", SigningAlg: "RS384"}},
		{"private_key_jwt ES384", oauthclient.Config{ClientID: "jwt-es384", AuthMethod: oauthclient.AuthPrivateKeyJWT, PrivateKeyPEM: i.key(t, "es384.pem"), KeyID: "ec"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cfg.Name, cfg.Issuer, cfg.Scopes = "interop", i.url, []string{"api:read"}
			src, err := oauthclient.NewSource(cfg, oauthclient.Options{AllowInsecureHTTP: true})
			require.NoError(t, err)
			tok, err := src.TokenContext(context.Background())
			require.NoError(t, err)
			assert.Equal(t, "api:read", tok.Scope())
			in := i.introspect(t, tok.AccessToken())
			assert.Equal(t, true, in["active"], "%v", in)
			assert.Equal(t, "api:read", in["scope"])
			assert.Equal(t, cfg.ClientID, in["client_id"])
			assert.InDelta(t, float64(tok.Expiry().Unix()), in["exp"], 2)
		})
	}
}

// A resource indicator (RFC 8707) gets a JWT access token for that
// audience.
func TestInteropResourceIndicatorGivesJWT(t *testing.T) {
	i := newInterop(t)
	src, err := oauthclient.NewSource(oauthclient.Config{Name: "interop", Issuer: i.url, ClientID: "basic", ClientSecret: oauthclient.NewSecret(i.secret),
		Scopes: []string{"api:read"}, Resources: []string{"https://api.example.com"}}, oauthclient.Options{AllowInsecureHTTP: true})
	require.NoError(t, err)
	tok, err := src.TokenContext(context.Background())
	require.NoError(t, err)
	var claims jwt.RegisteredClaims
	_, _, err = jwt.NewParser().ParseUnverified(tok.AccessToken(), &claims)
	require.NoError(t, err, "a JWT access token")
	assert.Contains(t, claims.Audience, "https://api.example.com")
	assert.True(t, tok.Expiry().Equal(claims.ExpiresAt.Time) || tok.Expiry().Sub(claims.ExpiresAt.Time).Abs() < 2*time.Second)
}

// DPoP against the certified server: a DPoP-bound token (cnf.jkt), and the
// nonce dance for a client the server demands nonces of.
func TestInteropDPoP(t *testing.T) {
	i := newInterop(t)
	for _, client := range []string{"basic", "dpop-nonce"} {
		t.Run(client, func(t *testing.T) {
			src, err := oauthclient.NewSource(oauthclient.Config{Name: "interop", Issuer: i.url, ClientID: client, ClientSecret: oauthclient.NewSecret(i.secret),
				Scopes: []string{"api:read"}, DPoP: true}, oauthclient.Options{AllowInsecureHTTP: true})
			require.NoError(t, err)
			tok, err := src.TokenContext(context.Background())
			require.NoError(t, err)
			assert.Equal(t, "DPoP", tok.Scheme())
			in := i.introspect(t, tok.AccessToken())
			assert.Equal(t, true, in["active"], "%v", in)
			cnf, _ := in["cnf"].(map[string]any)
			assert.NotEmpty(t, cnf["jkt"], "bound to the key: %v", in)
		})
	}
}

// The server issues tokens for 5 seconds: they are renewed before they
// expire, and no caller ever gets an error or an expired token.
func TestInteropRenewalBeforeExpiry(t *testing.T) {
	i := newInterop(t)
	src, err := oauthclient.NewSource(oauthclient.Config{Name: "interop", Issuer: i.url, ClientID: "basic", ClientSecret: oauthclient.NewSecret(i.secret),
		Scopes: []string{"api:read"}}, oauthclient.Options{AllowInsecureHTTP: true})
	require.NoError(t, err)
	first, err := src.TokenContext(context.Background())
	require.NoError(t, err)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case <-deadline:
			t.Fatal("the token was not renewed")
		case <-tick.C:
		}
		tok, err := src.TokenContext(context.Background())
		require.NoError(t, err)
		require.True(t, time.Now().Before(tok.Expiry()), "an expired token was served")
		if tok.AccessToken() != first.AccessToken() {
			assert.True(t, time.Now().Before(first.Expiry()), "renewed before the first token expired")
			assert.Equal(t, true, i.introspect(t, tok.AccessToken())["active"])
			return
		}
	}
}
