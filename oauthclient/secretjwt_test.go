package oauthclient_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

// client_secret_jwt: a fresh assertion signed with the client secret
// (HS256 by default, HS384, HS512), checked by the server like a
// private_key_jwt one (iss, sub, aud, exp, jti).
func TestClientSecretJWT(t *testing.T) {
	as := oauthtest.NewServer()
	t.Cleanup(as.Close)
	const secret = "shared-secret-for-HMAC-0123456789abcdef"
	as.AddClient(oauthtest.Client{ID: "svc", Auth: "client_secret_jwt", Secret: secret})
	for _, alg := range []string{"", "HS256", "HS384", "HS512"} {
		t.Run("alg "+alg, func(t *testing.T) {
			src, err := oauthclient.NewSource(oauthclient.Config{Name: "s", TokenURL: as.TokenURL(), ClientID: "svc",
				ClientSecret: oauthclient.NewSecret(secret), AuthMethod: oauthclient.AuthClientSecretJWT, SigningAlg: alg},
				oauthclient.Options{AllowInsecureHTTP: true})
			require.NoError(t, err)
			_, err = src.TokenContext(context.Background())
			require.NoError(t, err)
			last, ok := as.LastRequest()
			require.True(t, ok)
			assert.Equal(t, "client_secret_jwt", last.AuthMethod)
			raw := last.Form.Get("client_assertion")
			tok, _, err := jwt.NewParser().ParseUnverified(raw, &jwt.RegisteredClaims{})
			require.NoError(t, err)
			want := alg
			if want == "" {
				want = "HS256"
			}
			assert.Equal(t, want, tok.Method.Alg())
			assert.Empty(t, last.Form.Get("client_secret"), "the secret itself is never sent")
		})
	}

	src, err := oauthclient.NewSource(oauthclient.Config{Name: "s", TokenURL: as.TokenURL(), ClientID: "svc",
		ClientSecret: oauthclient.NewSecret("the-wrong-secret-0123456789"), AuthMethod: oauthclient.AuthClientSecretJWT},
		oauthclient.Options{AllowInsecureHTTP: true})
	require.NoError(t, err)
	_, err = src.TokenContext(context.Background())
	assert.ErrorIs(t, err, oauthclient.ErrInvalidClient)
	assert.NotContains(t, err.Error(), "the-wrong-secret")

	for _, bad := range []struct {
		cfg   oauthclient.Config
		field string
	}{
		{oauthclient.Config{Name: "s", TokenURL: "https://t", ClientID: "svc", AuthMethod: oauthclient.AuthClientSecretJWT}, "client_secret"},
		{oauthclient.Config{Name: "s", TokenURL: "https://t", ClientID: "svc", ClientSecret: oauthclient.NewSecret("x"),
			AuthMethod: oauthclient.AuthClientSecretJWT, SigningAlg: "RS256"}, "signing_alg"},
	} {
		_, err := oauthclient.NewSource(bad.cfg, oauthclient.Options{})
		var ce *oauthclient.ConfigError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, bad.field, ce.Field)
	}
}

// A private_key_jwt client cannot pass an HMAC assertion (no algorithm
// confusion in the fake either).
func TestSecretJWTRefusedForKeyClients(t *testing.T) {
	as := oauthtest.NewServer()
	t.Cleanup(as.Close)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	as.AddClient(oauthtest.Client{ID: "svc", Key: key.Public()})
	src, err := oauthclient.NewSource(oauthclient.Config{Name: "s", TokenURL: as.TokenURL(), ClientID: "svc",
		ClientSecret: oauthclient.NewSecret("guess-0123456789"), AuthMethod: oauthclient.AuthClientSecretJWT},
		oauthclient.Options{AllowInsecureHTTP: true})
	require.NoError(t, err)
	_, err = src.TokenContext(context.Background())
	assert.ErrorIs(t, err, oauthclient.ErrInvalidClient)
}
