package oauthclient_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

// k8sIssuer is the issuer of the projected service-account tokens in the
// tests: what a cluster's API server names itself.
const k8sIssuer = "https://kubernetes.default.svc"

func ecKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	return k
}

// saToken signs a service-account token as the cluster would.
func saToken(t testing.TB, key crypto.Signer, aud, sub string, iat time.Time, life time.Duration) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"iss": k8sIssuer, "sub": sub, "aud": aud,
		"iat": iat.Unix(), "exp": iat.Add(life).Unix(), "jti": rand.Text()}).SignedString(key)
	require.NoError(t, err)
	return s
}

// writeRotated replaces the file at path as the kubelet does: a new file
// renamed over the old one.
func writeRotated(t testing.TB, path, v string) {
	t.Helper()
	tmp := path + ".tmp"
	require.NoError(t, os.WriteFile(tmp, []byte(v+"\n"), 0o600))
	require.NoError(t, os.Rename(tmp, path))
}

// A projected service-account token is read from its file for each token
// request: rotated on disk, the new one is picked up without a restart —
// even when the old one has expired meanwhile.
func TestJWTBearerFileAssertionRotation(t *testing.T) {
	clk := newFakeClock(time.Now())
	as := oauthtest.NewServer(oauthtest.WithClock(clk.Now))
	t.Cleanup(as.Close)
	cluster := ecKey(t)
	as.AddAssertionIssuer(k8sIssuer, cluster.Public())
	path := filepath.Join(t.TempDir(), "token")
	const sub = "system:serviceaccount:integration:crm-sync"
	writeRotated(t, path, saToken(t, cluster, as.TokenURL(), sub, clk.Now(), 10*time.Minute))

	src, err := oauthclient.NewSource(oauthclient.Config{Name: "crm", TokenURL: as.TokenURL(), Scopes: []string{"crm.read"},
		Grant: oauthclient.JWTBearer{Assertion: oauthclient.FileSupplier(path)}}, oauthclient.Options{Now: clk.Now, AllowInsecureHTTP: true})
	require.NoError(t, err)
	t.Cleanup(src.Close)
	tok, err := src.TokenContext(context.Background())
	require.NoError(t, err)
	info, ok := as.TokenInfo(tok.AccessToken())
	require.True(t, ok)
	assert.Equal(t, sub, info.Subject)
	assert.Equal(t, "urn:ietf:params:oauth:grant-type:jwt-bearer", info.Grant)
	req, _ := as.LastRequest()
	assert.Empty(t, req.AuthMethod, "no client authentication: the assertion is the credential")

	// An hour later the first assertion is long expired; the kubelet has
	// rotated the file.
	clk.Advance(time.Hour)
	rotated := saToken(t, cluster, as.TokenURL(), sub, clk.Now(), 10*time.Minute)
	writeRotated(t, path, rotated)
	tok2, err := src.TokenContext(context.Background())
	require.NoError(t, err)
	assert.NotEqual(t, tok.AccessToken(), tok2.AccessToken())
	req, _ = as.LastRequest()
	assert.Equal(t, rotated, req.Form.Get("assertion"), "the rotated assertion was sent")

	// Not rotated in time: refused before anything is sent, with a clear
	// error that does not show it.
	clk.Advance(time.Hour)
	n := as.Requests("")
	_, err = src.TokenContext(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "assertion: expired at")
	assert.NotContains(t, err.Error(), rotated)
	assert.Equal(t, n, as.Requests(""))
}

// tokenwire signs the assertion with the definition's key: iss defaults to
// the client, sub and further claims as configured, aud the token
// endpoint; the server verifies the signature.
func TestJWTBearerSignedAssertion(t *testing.T) {
	as := oauthtest.NewServer()
	t.Cleanup(as.Close)
	key := ecKey(t)
	as.AddAssertionIssuer("svc-robot", key.Public())
	as.AddClient(oauthtest.Client{ID: "svc-robot", Scopes: []string{"files.read"}})
	src, err := oauthclient.NewSource(oauthclient.Config{Name: "drive", TokenURL: as.TokenURL(), ClientID: "svc-robot", PrivateKey: key, KeyID: "k1",
		Scopes: []string{"files.read"},
		Grant:  oauthclient.JWTBearer{Subject: "alice@example.com", Claims: map[string]any{"tenant": "acme"}}},
		oauthclient.Options{AllowInsecureHTTP: true})
	require.NoError(t, err)
	t.Cleanup(src.Close)
	tok, err := src.TokenContext(context.Background())
	require.NoError(t, err)
	info, _ := as.TokenInfo(tok.AccessToken())
	assert.Equal(t, "alice@example.com", info.Subject)
	assert.Equal(t, "svc-robot", info.ClientID)
	req, _ := as.LastRequest()
	var claims jwt.MapClaims
	_, _, err = jwt.NewParser().ParseUnverified(req.Form.Get("assertion"), &claims)
	require.NoError(t, err)
	assert.Equal(t, "svc-robot", claims["iss"])
	assert.Equal(t, as.TokenURL(), claims["aud"])
	assert.Equal(t, "acme", claims["tenant"])
	assert.NotEmpty(t, claims["jti"])

	// A key the server does not trust is refused: invalid_grant, typed.
	other, err := oauthclient.NewSource(oauthclient.Config{Name: "drive", TokenURL: as.TokenURL(), ClientID: "svc-robot", PrivateKey: ecKey(t),
		Grant: oauthclient.JWTBearer{Subject: "alice@example.com"}}, oauthclient.Options{AllowInsecureHTTP: true, MaxBackoffWait: -1})
	require.NoError(t, err)
	t.Cleanup(other.Close)
	_, err = other.TokenContext(context.Background())
	assert.ErrorIs(t, err, oauthclient.ErrInvalidGrant)
}

// The other suppliers: a command's output and a Go function.
func TestJWTBearerCommandAndFuncSuppliers(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("uses /bin/sh")
	}
	as := oauthtest.NewServer()
	t.Cleanup(as.Close)
	cluster := ecKey(t)
	as.AddAssertionIssuer(k8sIssuer, cluster.Public())
	a := saToken(t, cluster, as.TokenURL(), "sa-1", time.Now(), time.Hour)
	path := filepath.Join(t.TempDir(), "a")
	require.NoError(t, os.WriteFile(path, []byte(a), 0o600))
	for name, sup := range map[string]oauthclient.Supplier{
		"command": oauthclient.CommandSupplier("/bin/sh", "-c", "cat "+path),
		"func": oauthclient.SupplierFunc(func(context.Context) (string, time.Time, error) {
			return a, time.Time{}, nil
		}),
	} {
		t.Run(name, func(t *testing.T) {
			src, err := oauthclient.NewSource(oauthclient.Config{Name: "crm", TokenURL: as.TokenURL(), Grant: oauthclient.JWTBearer{Assertion: sup}},
				oauthclient.Options{AllowInsecureHTTP: true})
			require.NoError(t, err)
			t.Cleanup(src.Close)
			tok, err := src.TokenContext(context.Background())
			require.NoError(t, err)
			info, _ := as.TokenInfo(tok.AccessToken())
			assert.Equal(t, "sa-1", info.Subject)
		})
	}
}

// A command that fails says how, without what it printed that looks like
// a token, and without its arguments.
func TestCommandSupplierFailure(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("uses /bin/sh")
	}
	const leaked = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXRoYXQtaXMtbG9uZw"
	sup := oauthclient.CommandSupplier("/bin/sh", "-c", "echo 'helper: cannot refresh "+leaked+"' >&2; exit 3", "--password=hunter2")
	_, _, err := sup.Supply(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "exit status 3")
	assert.Contains(t, err.Error(), "helper: cannot refresh")
	assert.NotContains(t, err.Error(), leaked)
	assert.NotContains(t, err.Error(), "hunter2")
	assert.NotContains(t, (fmtAll(sup)), "hunter2")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err = oauthclient.CommandSupplier("/bin/sh", "-c", "sleep 5").Supply(ctx)
	assert.Error(t, err, "a cancelled fetch stops the command")
}

// Two definitions asserting different subjects never share a token, also
// through a shared store; replicas asserting the same subject (each with
// its own service-account token) do.
func TestJWTBearerCacheKeyHoldsTheSubject(t *testing.T) {
	as := oauthtest.NewServer()
	t.Cleanup(as.Close)
	cluster := ecKey(t)
	as.AddAssertionIssuer(k8sIssuer, cluster.Public())
	store := cache.NewMemory(10)
	source := func(sub string) *oauthclient.Source {
		a := saToken(t, cluster, as.TokenURL(), sub, time.Now(), time.Hour) // its own jti, like each pod's
		src, err := oauthclient.NewSource(oauthclient.Config{Name: "crm", TokenURL: as.TokenURL(),
			Grant: oauthclient.JWTBearer{Assertion: oauthclient.ValueSupplier(oauthclient.NewSecret(a), time.Time{})}},
			oauthclient.Options{Store: store, AllowInsecureHTTP: true})
		require.NoError(t, err)
		t.Cleanup(src.Close)
		return src
	}
	subjectOf := func(src *oauthclient.Source) string {
		tok, err := src.TokenContext(context.Background())
		require.NoError(t, err)
		info, _ := as.TokenInfo(tok.AccessToken())
		return info.Subject
	}
	assert.Equal(t, "sa-a", subjectOf(source("sa-a")))
	assert.Equal(t, "sa-b", subjectOf(source("sa-b")))
	assert.Equal(t, 2, as.Requests(""))
	assert.Equal(t, "sa-a", subjectOf(source("sa-a")), "a replica of sa-a")
	assert.Equal(t, 2, as.Requests(""), "took sa-a's token from the store")
}

// Bad definitions name the field.
func TestJWTBearerConfigErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		cfg   oauthclient.Config
		field string
	}{
		"no subject": {oauthclient.Config{PrivateKey: ecKey(t), ClientID: "c", Grant: oauthclient.JWTBearer{}}, "assertion_subject"},
		"no key":     {oauthclient.Config{ClientID: "c", Grant: oauthclient.JWTBearer{Subject: "s"}}, "private_key"},
		"supplied with claims": {oauthclient.Config{Grant: oauthclient.JWTBearer{Assertion: oauthclient.FileSupplier("/x"),
			Subject: "s"}}, "assertion"},
		"registered claim": {oauthclient.Config{PrivateKey: ecKey(t), ClientID: "c", Grant: oauthclient.JWTBearer{Subject: "s",
			Claims: map[string]any{"exp": 1}}}, "assertion_claims.exp"},
		"no issuer": {oauthclient.Config{PrivateKey: ecKey(t), Grant: oauthclient.JWTBearer{Subject: "s"}}, "assertion_issuer"},
	} {
		t.Run(name, func(t *testing.T) {
			tc.cfg.Name, tc.cfg.TokenURL = "crm", "https://idp.example.com/token"
			_, err := oauthclient.NewSource(tc.cfg, oauthclient.Options{})
			var ce *oauthclient.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.field, ce.Field)
			assert.Equal(t, "crm", ce.Definition)
		})
	}
}

// Signed assertions for different subjects, and a grant beside client
// credentials of the same client, never share a token through the store.
func TestGrantCacheKeysApart(t *testing.T) {
	as := oauthtest.NewServer()
	t.Cleanup(as.Close)
	key := ecKey(t)
	as.AddAssertionIssuer("robot", key.Public())
	as.AddClient(oauthtest.Client{ID: "robot", Secret: "pw"})
	store := cache.NewMemory(10)
	base := oauthclient.Config{Name: "drive", TokenURL: as.TokenURL(), ClientID: "robot", ClientSecret: oauthclient.NewSecret("pw"), PrivateKey: key}
	subjectOf := func(g oauthclient.Grant) string {
		cfg := base
		cfg.Grant = g
		src, err := oauthclient.NewSource(cfg, oauthclient.Options{Store: store, AllowInsecureHTTP: true})
		require.NoError(t, err)
		t.Cleanup(src.Close)
		tok, err := src.TokenContext(context.Background())
		require.NoError(t, err)
		info, _ := as.TokenInfo(tok.AccessToken())
		return info.Subject
	}
	assert.Equal(t, "alice", subjectOf(oauthclient.JWTBearer{Subject: "alice"}))
	assert.Equal(t, "bob", subjectOf(oauthclient.JWTBearer{Subject: "bob"}))
	assert.Equal(t, "", subjectOf(nil), "client credentials: the client's own token")
	assert.Equal(t, "alice", subjectOf(oauthclient.JWTBearer{Subject: "alice"}), "alice's again, from the store")
	assert.Equal(t, 3, as.Requests(""))

	keys := map[string]bool{}
	for _, g := range []oauthclient.Grant{nil, oauthclient.JWTBearer{Subject: "alice"}, oauthclient.JWTBearer{Subject: "bob"},
		oauthclient.JWTBearer{Subject: "alice", Claims: map[string]any{"scope": "x"}}} {
		cfg := base
		cfg.Grant = g
		keys[oauthclient.CacheKey(cfg)] = true
	}
	assert.Len(t, keys, 4)
}
