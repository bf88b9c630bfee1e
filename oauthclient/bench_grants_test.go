package oauthclient_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

// BenchmarkGrantToken measures a warm token of every grant side by side:
// whatever the grant, the hot path is the same atomic load (the grant is
// asked only when the token is renewed).
func BenchmarkGrantToken(b *testing.B) {
	ctx := context.Background()
	as := oauthtest.NewServer()
	b.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: "svc", Secret: "s3cret"})
	key := ecKey(b)
	as.AddAssertionIssuer("svc", key.Public())
	as.AddLoginUser("user", "pw")
	opts := oauthclient.Options{AllowInsecureHTTP: true}
	val := func(s string) oauthclient.Supplier {
		return oauthclient.ValueSupplier(oauthclient.NewSecret(s), time.Time{})
	}
	base := oauthclient.Config{TokenURL: as.TokenURL(), ClientID: "svc", ClientSecret: oauthclient.NewSecret("s3cret")}
	cc, err := oauthclient.NewSource(withName(base, "cc", nil), opts)
	require.NoError(b, err)
	subject, err := cc.TokenContext(ctx)
	require.NoError(b, err)
	cfgs := []oauthclient.Config{
		withName(base, "client_credentials", nil),
		withName(base, "jwt_bearer", oauthclient.JWTBearer{Subject: "alice"}),
		withName(base, "token_exchange", oauthclient.TokenExchange{SubjectToken: oauthclient.SourceSupplier(cc)}),
		withName(base, "refresh_token", oauthclient.RefreshToken{Token: val(as.IssueRefreshToken("svc", "alice", ""))}),
		{Name: "login", TokenURL: as.LoginURL(), ClientID: "user", ClientSecret: oauthclient.NewSecret("pw"),
			Grant: oauthclient.Login{ClientIDField: "username", ClientSecretField: "password", TokenPath: "data.jwt"}},
		{Name: "imported", Grant: oauthclient.Imported{Token: val(subject.AccessToken())}},
	}
	cfgs[1].PrivateKey = key
	var peers []peer
	for _, cfg := range cfgs {
		src, err := oauthclient.NewSource(cfg, opts)
		require.NoError(b, err)
		b.Cleanup(src.Close)
		_, err = src.TokenContext(ctx)
		require.NoError(b, err, cfg.Name)
		peers = append(peers, peer{cfg.Name + "-TokenContext", func() error { _, err := src.TokenContext(ctx); return err }})
	}
	runPeers(b, peers)
}

func withName(c oauthclient.Config, name string, g oauthclient.Grant) oauthclient.Config {
	c.Name, c.Grant = name, g
	return c
}
