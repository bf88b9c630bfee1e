package fhir_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/fhir/fhirtest"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

func TestBackendServicesAssertionAndDiscovery(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	ecKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	for _, tc := range []struct {
		alg string
		key crypto.Signer
	}{{"RS384", rsaKey}, {"ES384", ecKey}} {
		t.Run(tc.alg, func(t *testing.T) {
			as := oauthtest.NewServer()
			t.Cleanup(as.Close)
			as.AddJWTClient("ehr-client", tc.key.Public(), "kid-1", "system/Patient.rs", "system/Observation.rs")
			sc := *smartConfig
			sc.TokenEndpoint = as.TokenURL()
			srv := fhirtest.NewServer(fhirtest.WithSmartConfiguration(&sc), fhirtest.WithTokenCheck(as.Valid))
			t.Cleanup(srv.Close)

			disc := fhir.NewDiscovery(srv.Client())
			cfg, err := fhir.BackendServices(disc, srv.URL(), oauthclient.Config{
				Name: "ehr", ClientID: "ehr-client", PrivateKey: tc.key, KeyID: "kid-1", SigningAlg: tc.alg,
				Scopes: []string{"system/Patient.rs", "system/Observation.rs"}, AllowInsecureHTTP: true,
			})
			require.NoError(t, err)
			// MinBackoff also spaces invalidations; the loop below invalidates at once.
			src, err := oauthclient.NewSource(cfg, oauthclient.Options{MinBackoff: time.Nanosecond})
			require.NoError(t, err)
			for range 3 { // a new assertion each time, one discovery
				tok, err := src.TokenContext(context.Background())
				require.NoError(t, err)
				assert.True(t, as.Valid(tok.AccessToken()))
				assert.Equal(t, "system/Patient.rs system/Observation.rs", tok.Scope())
				last, ok := as.LastRequest()
				require.True(t, ok)
				assert.Equal(t, oauthtest.AuthPrivateKeyJWT, last.AuthMethod)
				checkAssertion(t, last.Form.Get("client_assertion"), tc.key.Public(), tc.alg, as.TokenURL())
				src.Invalidate(tok)
			}
			assert.Equal(t, 3, as.Requests("ehr-client"))
			assert.Equal(t, 1, srv.Hits("GET", wellKnown), "discovery is cached")
		})
	}
}

func checkAssertion(t *testing.T, raw string, pub crypto.PublicKey, alg, aud string) {
	t.Helper()
	claims := jwt.RegisteredClaims{}
	tok, err := jwt.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return pub, nil },
		jwt.WithValidMethods([]string{alg}), jwt.WithAudience(aud), jwt.WithIssuer("ehr-client"), jwt.WithSubject("ehr-client"))
	require.NoError(t, err)
	assert.Equal(t, "kid-1", tok.Header["kid"])
	assert.Equal(t, "JWT", tok.Header["typ"])
	assert.NotEmpty(t, claims.ID)
	life := claims.ExpiresAt.Sub(claims.IssuedAt.Time)
	assert.LessOrEqual(t, life, 5*time.Minute)
	assert.Positive(t, life)
}

func TestBackendServicesValidation(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	good := oauthclient.Config{Name: "ehr", ClientID: "c", PrivateKey: ecKey, KeyID: "k"}
	for _, tc := range []struct {
		name  string
		edit  func(*oauthclient.Config)
		field string
	}{
		{"secret method", func(c *oauthclient.Config) { c.AuthMethod = oauthclient.AuthClientSecretBasic }, "auth_method"},
		{"RS256", func(c *oauthclient.Config) { c.SigningAlg = "RS256" }, "signing_alg"},
		{"no kid", func(c *oauthclient.Config) { c.KeyID = "" }, "key_id"},
		{"long assertion", func(c *oauthclient.Config) { c.AssertionLifetime = 10 * time.Minute }, "assertion_lifetime"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			tc.edit(&c)
			_, err := fhir.BackendServices(fhir.NewDiscovery(nil), "https://fhir.example.com", c)
			var ce *oauthclient.ConfigError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tc.field, ce.Field)
			assert.Equal(t, "ehr", ce.Definition)
		})
	}
	_, err = fhir.BackendServices(nil, "https://fhir.example.com", good)
	assert.ErrorContains(t, err, "token_url")
}

func TestBackendServicesRejectsServerWithoutPrivateKeyJWT(t *testing.T) {
	sc := *smartConfig
	sc.TokenEndpointAuthMethodsSupported = []string{"client_secret_basic"}
	srv := fhirtest.NewServer(fhirtest.WithSmartConfiguration(&sc))
	t.Cleanup(srv.Close)
	ecKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	cfg, err := fhir.BackendServices(fhir.NewDiscovery(srv.Client()), srv.URL(), oauthclient.Config{Name: "ehr", ClientID: "c", PrivateKey: ecKey, KeyID: "k"})
	require.NoError(t, err)
	src, err := oauthclient.NewSource(cfg, oauthclient.Options{})
	require.NoError(t, err)
	_, err = src.TokenContext(context.Background())
	assert.ErrorContains(t, err, "private_key_jwt")
}
