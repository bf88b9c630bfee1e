package oauthclient_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

// A workload identity: the projected Kubernetes service-account token is
// read from its file for every token request, so the kubelet's rotation is
// picked up without a restart.
func ExampleJWTBearer() {
	as := oauthtest.NewServer()
	defer as.Close()
	cluster, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	as.AddAssertionIssuer("https://kubernetes.default.svc", cluster.Public())

	dir, _ := os.MkdirTemp("", "sa")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "token") // /var/run/secrets/tokens/crm in a pod
	sa, _ := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"iss": "https://kubernetes.default.svc",
		"sub": "system:serviceaccount:integration:crm-sync", "aud": as.TokenURL(), "exp": time.Now().Add(time.Hour).Unix()}).SignedString(cluster)
	_ = os.WriteFile(path, []byte(sa), 0o600)

	src, err := oauthclient.NewSource(oauthclient.Config{
		Name:     "crm",
		TokenURL: as.TokenURL(),
		Scopes:   []string{"crm.read"},
		Grant:    oauthclient.JWTBearer{Assertion: oauthclient.FileSupplier(path)},
	}, oauthclient.Options{AllowInsecureHTTP: true}) // test server only
	if err != nil {
		panic(err)
	}
	defer src.Close()
	tok, err := src.TokenContext(context.Background())
	if err != nil {
		panic(err)
	}
	info, _ := as.TokenInfo(tok.AccessToken())
	fmt.Println(src.Status().Grant, info.Subject)
	// Output: jwt_bearer system:serviceaccount:integration:crm-sync
}

// A gateway exchanges its own token (another definition of the registry)
// for one the orders API accepts.
func ExampleTokenExchange() {
	as := oauthtest.NewServer()
	defer as.Close()
	as.AddClient(oauthtest.Client{ID: "gateway", Secret: "gw-secret"})
	as.AddClient(oauthtest.Client{ID: "frontend", Secret: "fe-secret"})

	reg := oauthclient.NewRegistry(oauthclient.Options{AllowInsecureHTTP: true})
	defer reg.Close()
	_ = reg.Define(oauthclient.Config{Name: "frontend", TokenURL: as.TokenURL(), ClientID: "frontend", ClientSecret: oauthclient.NewSecret("fe-secret")})
	err := reg.Define(oauthclient.Config{
		Name: "orders", TokenURL: as.TokenURL(), ClientID: "gateway", ClientSecret: oauthclient.NewSecret("gw-secret"),
		Audience: "https://orders.example.com",
		Grant:    oauthclient.TokenExchange{SubjectToken: reg.Supplier("frontend")},
	})
	if err != nil {
		panic(err)
	}
	src, _ := reg.Source("orders")
	tok, err := src.TokenContext(context.Background())
	if err != nil {
		panic(err)
	}
	info, _ := as.TokenInfo(tok.AccessToken())
	fmt.Println("for", info.Subject, "via", info.ClientID)
	// Output: for frontend via gateway
}

// An organisation authorised the integration once; its refresh token
// renews access tokens, and each rotation is kept in the store and told to
// the callback.
func ExampleRefreshToken() {
	as := oauthtest.NewServer()
	defer as.Close()
	as.AddClient(oauthtest.Client{ID: "integration", Secret: "s3cret", Scopes: []string{"files.read"}})
	refreshToken := as.IssueRefreshToken("integration", "admin@acme.example", "files.read") // what examples/authorize obtains

	rotations := 0
	src, err := oauthclient.NewSource(oauthclient.Config{
		Name: "drive", TokenURL: as.TokenURL(), ClientID: "integration", ClientSecret: oauthclient.NewSecret("s3cret"),
		Grant: oauthclient.RefreshToken{
			Token: oauthclient.ValueSupplier(oauthclient.NewSecret(refreshToken), time.Time{}), // or FileSupplier
			OnRotate: func(context.Context, oauthclient.Secret) error {
				rotations++
				return nil
			},
		},
	}, oauthclient.Options{Store: cache.NewMemory(0), AllowInsecureHTTP: true})
	if err != nil {
		panic(err)
	}
	defer src.Close()
	if _, err := src.TokenContext(context.Background()); err != nil {
		panic(err)
	}
	fmt.Println("rotations:", rotations, "reuses:", as.RefreshStats().Reused)
	// Output: rotations: 1 reuses: 0
}

// A refresh token the server refuses stops renewal with an error that
// says what to do, and is never sent again.
func ExampleReauthorizeError() {
	as := oauthtest.NewServer()
	defer as.Close()
	as.AddClient(oauthtest.Client{ID: "app"})
	src, _ := oauthclient.NewSource(oauthclient.Config{
		Name: "drive", TokenURL: as.TokenURL(), ClientID: "app",
		Grant: oauthclient.RefreshToken{Token: oauthclient.ValueSupplier(oauthclient.NewSecret("revoked-long-ago"), time.Time{})},
	}, oauthclient.Options{AllowInsecureHTTP: true, MaxBackoffWait: -1})
	defer src.Close()
	_, err := src.TokenContext(context.Background())
	fmt.Println(errors.Is(err, oauthclient.ErrReauthorize), errors.Is(err, oauthclient.ErrInvalidGrant))
	_, err = src.TokenContext(context.Background())
	fmt.Println(errors.Is(err, oauthclient.ErrReauthorize), "token requests:", as.Requests(""))
	// Output:
	// true true
	// true token requests: 1
}

// A vendor login that is not OAuth: credentials under names of its own,
// the token at data.jwt, its lifetime in the JWT.
func ExampleLogin() {
	as := oauthtest.NewServer()
	defer as.Close()
	as.AddLoginUser("svc-integration", "pa55word")
	src, err := oauthclient.NewSource(oauthclient.Config{
		Name: "vendor", TokenURL: as.LoginURL(),
		ClientID: "svc-integration", ClientSecret: oauthclient.NewSecret("pa55word"),
		Grant: oauthclient.Login{
			ClientIDField:     "username",
			ClientSecretField: "password",
			TokenPath:         "data.jwt",
		},
	}, oauthclient.Options{AllowInsecureHTTP: true})
	if err != nil {
		panic(err)
	}
	defer src.Close()
	tok, err := src.TokenContext(context.Background())
	if err != nil {
		panic(err)
	}
	fmt.Println(tok.Scheme(), time.Until(tok.Expiry()).Round(time.Minute))
	// Output: Bearer 1h0m0s
}

// A token issued elsewhere, with its expiry, re-read when it is due.
func ExampleImported() {
	src, err := oauthclient.NewSource(oauthclient.Config{
		Name: "partner",
		Grant: oauthclient.Imported{
			Token:  oauthclient.ValueSupplier(oauthclient.NewSecret("partner-api-token"), time.Time{}), // or FileSupplier("/run/secrets/partner")
			Expiry: time.Now().Add(24 * time.Hour),
		},
	}, oauthclient.Options{})
	if err != nil {
		panic(err)
	}
	defer src.Close()
	tok, _ := src.TokenContext(context.Background())
	fmt.Println(src.Status().Grant, time.Until(tok.Expiry()).Round(time.Hour))
	// Output: imported 24h0m0s
}

// Authorising once: the authorization URL with PKCE and state, the code
// coming back on a loopback redirect, exchanged for the refresh token
// (examples/authorize is the program that does this for an operator).
func ExampleExchangeCode() {
	as := oauthtest.NewServer()
	defer as.Close()
	as.AddClient(oauthtest.Client{ID: "cli", Scopes: []string{"files.read"}})
	cfg := oauthclient.Config{Name: "drive", TokenURL: as.TokenURL(), ClientID: "cli", Scopes: []string{"files.read"}}

	pkce, state := oauthclient.NewPKCE(), oauthclient.NewState()
	redirect := "http://127.0.0.1:8910/callback"
	authURL, _ := oauthclient.AuthCodeURL(as.AuthorizeURL(), cfg, redirect, state, pkce)

	// The browser: the server approves and redirects to the loopback address.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, _ := noFollow.Get(authURL)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	back, _ := url.Parse(resp.Header.Get("Location"))
	if back.Query().Get("state") != state {
		panic("state mismatch")
	}
	_, refresh, err := oauthclient.ExchangeCode(context.Background(), cfg, oauthclient.Options{AllowInsecureHTTP: true},
		back.Query().Get("code"), redirect, pkce.Verifier)
	if err != nil {
		panic(err)
	}
	fmt.Println("refresh token:", refresh, "loopback:", oauthclient.LoopbackRedirect(redirect))
	// Output: refresh token: [redacted] loopback: true
}
