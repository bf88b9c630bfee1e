package oauthclient_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

// dpopSetup is an authorization server, a backend that requires its
// tokens (DPoP-bound ones with proofs), and a client for the backend.
func dpopSetup(t *testing.T, cfg oauthclient.Config, opts ...oauthtest.Option) (*oauthtest.Server, *httptest.Server, *http.Client, *[]http.Header) {
	t.Helper()
	as := oauthtest.NewServer(opts...)
	t.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: "svc", Secret: "pw"})
	var mu sync.Mutex
	var seen []http.Header
	api := httptest.NewServer(as.RequireToken(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Clone())
		mu.Unlock()
		_, _ = io.WriteString(w, "ok")
	})))
	t.Cleanup(api.Close)
	cfg.Name, cfg.TokenURL, cfg.ClientID, cfg.ClientSecret = "d", as.TokenURL(), "svc", oauthclient.NewSecret("pw")
	src, err := oauthclient.NewSource(cfg, oauthclient.Options{AllowInsecureHTTP: true})
	require.NoError(t, err)
	client, err := oauthclient.NewClient(src, api.URL)
	require.NoError(t, err)
	return as, api, client, &seen
}

func get(t *testing.T, c *http.Client, url string) int {
	t.Helper()
	resp, err := c.Get(url)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// A DPoP definition gets a DPoP-bound token and sends it as "DPoP <token>"
// with a fresh proof per request (ath, htm, htu), accepted by the server.
func TestDPoPEndToEnd(t *testing.T) {
	as, api, client, seen := dpopSetup(t, oauthclient.Config{DPoP: true})
	for range 3 {
		assert.Equal(t, http.StatusOK, get(t, client, api.URL+"/customers/42?x=1"))
	}
	assert.Equal(t, 1, as.Requests("svc"))
	jtis := map[string]bool{}
	for _, h := range *seen {
		assert.Regexp(t, `^DPoP \S+$`, h.Get("Authorization"))
		var claims jwt.MapClaims
		tok, _, err := jwt.NewParser().ParseUnverified(h.Get("DPoP"), &claims)
		require.NoError(t, err)
		assert.Equal(t, "dpop+jwt", tok.Header["typ"])
		assert.Equal(t, "ES256", tok.Method.Alg())
		assert.Equal(t, "GET", claims["htm"])
		assert.Equal(t, api.URL+"/customers/42", claims["htu"], "no query in htu")
		assert.NotEmpty(t, claims["ath"])
		jtis[claims["jti"].(string)] = true
	}
	assert.Len(t, jtis, 3, "a fresh proof per request, never cached")
}

// The nonce dance: the token endpoint and the resource server each ask for
// their nonce once (use_dpop_nonce); the client retries once with it, keeps
// it per origin, and follows a rotation with one more retry.
func TestDPoPNonces(t *testing.T) {
	as, api, client, seen := dpopSetup(t, oauthclient.Config{DPoP: true}, oauthtest.WithDPoPNonce())
	assert.Equal(t, http.StatusOK, get(t, client, api.URL+"/a"))
	assert.Equal(t, 2, as.DPoPNonceChallenges(), "one at the token endpoint, one at the resource")
	assert.Equal(t, 2, as.Requests(""), "the token request was sent twice: without, then with the nonce")
	assert.Len(t, *seen, 1)
	assert.Equal(t, http.StatusOK, get(t, client, api.URL+"/b"))
	assert.Equal(t, 2, as.DPoPNonceChallenges(), "the nonce is kept")

	as.RotateDPoPNonce()
	assert.Equal(t, http.StatusOK, get(t, client, api.URL+"/c"))
	assert.Equal(t, 3, as.DPoPNonceChallenges())
	assert.Equal(t, 2, as.Requests(""), "a nonce challenge keeps the token")
}

// A resource server that asks for a nonce forever, or rejects every token,
// gets a bounded number of requests: the nonce retry and the 401 → new
// token → resend each happen at most once.
func TestDPoPRetriesAreBounded(t *testing.T) {
	as := oauthtest.NewServer()
	t.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: "svc", Secret: "pw"})
	var hits atomic.Int32
	n := 0
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		n++
		w.Header().Set("DPoP-Nonce", "nonce-"+string(rune('a'+n))) // a new one each time
		w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce"`)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	t.Cleanup(api.Close)
	src, err := oauthclient.NewSource(oauthclient.Config{Name: "d", TokenURL: as.TokenURL(), ClientID: "svc", ClientSecret: oauthclient.NewSecret("pw"), DPoP: true},
		oauthclient.Options{AllowInsecureHTTP: true})
	require.NoError(t, err)
	client, err := oauthclient.NewClient(src, api.URL)
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, get(t, client, api.URL))
	assert.LessOrEqual(t, hits.Load(), int32(4), "nonce retry once, token retry once (its own nonce retry at most once)")
}

// A proof goes only where the token goes: not to another origin, not on a
// redirect to one.
func TestDPoPProofStaysOnItsOrigin(t *testing.T) {
	var other http.Header
	elsewhere := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { other = r.Header.Clone() }))
	t.Cleanup(elsewhere.Close)
	as := oauthtest.NewServer()
	t.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: "svc", Secret: "pw"})
	api := httptest.NewServer(http.RedirectHandler(elsewhere.URL+"/x", http.StatusFound))
	t.Cleanup(api.Close)
	src, err := oauthclient.NewSource(oauthclient.Config{Name: "d", TokenURL: as.TokenURL(), ClientID: "svc", ClientSecret: oauthclient.NewSecret("pw"), DPoP: true},
		oauthclient.Options{AllowInsecureHTTP: true})
	require.NoError(t, err)
	client, err := oauthclient.NewClient(src, api.URL)
	require.NoError(t, err)
	get(t, client, api.URL)
	require.NotNil(t, other, "the redirect was followed")
	assert.Empty(t, other.Get("DPoP"))
	assert.Empty(t, other.Get("Authorization"))
}

func pemOf(t *testing.T, key any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// A configured key signs with its algorithm: ES384 for P-384, PS256 (or
// RS256) for RSA; a key or algorithm that does not fit is a config error.
func TestDPoPKeys(t *testing.T) {
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	for _, tc := range []struct {
		name string
		cfg  oauthclient.Config
		alg  string
	}{
		{"P-384 PEM", oauthclient.Config{DPoPKeyPEM: oauthclient.NewSecret(pemOf(t, p384))}, "ES384"},
		{"RSA default", oauthclient.Config{DPoPKey: rk}, "PS256"},
		{"RSA RS256", oauthclient.Config{DPoPKey: rk, DPoPAlg: "RS256"}, "RS256"},
		{"generated ES384", oauthclient.Config{DPoP: true, DPoPAlg: "ES384"}, "ES384"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, api, client, seen := dpopSetup(t, tc.cfg)
			require.Equal(t, http.StatusOK, get(t, client, api.URL))
			tok, _, err := jwt.NewParser().ParseUnverified((*seen)[0].Get("DPoP"), jwt.MapClaims{})
			require.NoError(t, err)
			assert.Equal(t, tc.alg, tok.Method.Alg())
		})
	}
	for _, bad := range []oauthclient.Config{
		{Name: "d", TokenURL: "https://t", ClientID: "c", ClientSecret: oauthclient.NewSecret("x"), DPoP: true, DPoPAlg: "HS256"},
		{Name: "d", TokenURL: "https://t", ClientID: "c", ClientSecret: oauthclient.NewSecret("x"), DPoPKeyPEM: oauthclient.NewSecret("not a key")},
		{Name: "d", TokenURL: "https://t", ClientID: "c", ClientSecret: oauthclient.NewSecret("x"), DPoPKey: rk, DPoPAlg: "ES256"},
	} {
		_, err := oauthclient.NewSource(bad, oauthclient.Options{})
		var ce *oauthclient.ConfigError
		require.ErrorAs(t, err, &ce)
		assert.Contains(t, []string{"dpop_alg", "dpop_key"}, ce.Field)
		assert.NotContains(t, err.Error(), "not a key")
	}
}

// Tokens are shared through a store only between sources that hold the
// same key: the key's thumbprint is part of the cache key.
func TestDPoPCacheKeyHasTheThumbprint(t *testing.T) {
	k1, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	k2, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	base := oauthclient.Config{Name: "d", TokenURL: "https://t", ClientID: "c"}
	with := func(k *ecdsa.PrivateKey) oauthclient.Config { c := base; c.DPoPKey = k; return c }
	assert.Equal(t, oauthclient.CacheKey(with(k1)), oauthclient.CacheKey(with(k1)))
	assert.NotEqual(t, oauthclient.CacheKey(with(k1)), oauthclient.CacheKey(with(k2)))
	assert.NotEqual(t, oauthclient.CacheKey(base), oauthclient.CacheKey(with(k1)))
	gen := base
	gen.DPoP = true
	assert.NotEqual(t, oauthclient.CacheKey(base), oauthclient.CacheKey(gen))
}

// Concurrent requests that all meet a nonce rotation at the resource
// server each prove again once with the new nonce: none fails and none
// drops the token.
func TestDPoPConcurrentNonceRotation(t *testing.T) {
	as, api, client, _ := dpopSetup(t, oauthclient.Config{DPoP: true}, oauthtest.WithDPoPNonce())
	for range 2 {
		require.Equal(t, http.StatusOK, get(t, client, api.URL))
	}
	tokens := as.Requests("")
	var failed atomic.Int32
	for range 20 {
		as.RotateDPoPNonce()
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := client.Get(api.URL)
				if !assert.NoError(t, err) {
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					failed.Add(1)
				}
			}()
		}
		wg.Wait()
	}
	assert.Zero(t, failed.Load())
	assert.Equal(t, tokens, as.Requests(""), "a nonce rotation never costs a token")
}

// A nonce challenge on a request whose body cannot be sent again keeps the
// token: the challenge is about the nonce, not the token.
func TestDPoPNonceChallengeKeepsTheToken(t *testing.T) {
	as, api, client, _ := dpopSetup(t, oauthclient.Config{DPoP: true}, oauthtest.WithDPoPNonce())
	require.Equal(t, http.StatusOK, get(t, client, api.URL))
	tokens := as.Requests("")
	as.RotateDPoPNonce()
	req, err := http.NewRequest(http.MethodPost, api.URL, io.NopCloser(strings.NewReader("once"))) // no GetBody
	require.NoError(t, err)
	resp, err := client.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, "the body could not be sent again")
	assert.Equal(t, http.StatusOK, get(t, client, api.URL), "the next request carries the new nonce")
	assert.Equal(t, tokens, as.Requests(""), "the token was kept")
}

// dpop_alg RS256 or PS256 without a key generates an RSA key.
func TestDPoPRSAWithoutKey(t *testing.T) {
	for _, alg := range []string{"RS256", "PS256"} {
		_, api, client, seen := dpopSetup(t, oauthclient.Config{DPoPAlg: alg})
		require.Equal(t, http.StatusOK, get(t, client, api.URL), alg)
		tok, _, err := jwt.NewParser().ParseUnverified((*seen)[0].Get("DPoP"), jwt.MapClaims{})
		require.NoError(t, err)
		assert.Equal(t, alg, tok.Method.Alg())
	}
}
