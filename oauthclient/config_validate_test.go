package oauthclient_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/internal/leaktest"
	"github.com/tokenwire/tokenwire/internal/oteltest"
	"github.com/tokenwire/tokenwire/oauthclient"
)

// validateCases are definitions of every grant, good and bad: Validate
// must say of each exactly what NewSource says.
func validateCases() map[string]oauthclient.Config {
	const tu = "https://login.example.com/token"
	secret := oauthclient.NewSecret("s")
	value := oauthclient.ValueSupplier(oauthclient.NewSecret("v"), time.Time{})
	return map[string]oauthclient.Config{
		"client credentials":  {Name: "cc", TokenURL: tu, ClientID: "c", ClientSecret: secret},
		"no token url":        {Name: "cc", ClientID: "c", ClientSecret: secret},
		"plain http":          {Name: "cc", TokenURL: "http://login.example.com/t", ClientID: "c", ClientSecret: secret},
		"bad private key":     {Name: "pk", TokenURL: tu, ClientID: "c", AuthMethod: oauthclient.AuthPrivateKeyJWT, PrivateKeyPEM: oauthclient.NewSecret("nope")},
		"assertion too long":  {Name: "pk", TokenURL: tu, ClientID: "c", ClientSecret: secret, AssertionLifetime: time.Hour},
		"dpop alg":            {Name: "dp", TokenURL: tu, ClientID: "c", ClientSecret: secret, DPoPAlg: "HS256"},
		"dpop":                {Name: "dp", TokenURL: tu, ClientID: "c", ClientSecret: secret, DPoP: true},
		"discovery":           {Name: "d", DiscoveryURL: "https://ehr.example.com/.well-known/smart-configuration", ClientID: "c", ClientSecret: secret},
		"jwt bearer supplied": {Name: "jb", TokenURL: tu, Grant: oauthclient.JWTBearer{Assertion: value}},
		"jwt bearer unsigned": {Name: "jb", TokenURL: tu, Grant: oauthclient.JWTBearer{Subject: "s"}},
		"exchange":            {Name: "te", TokenURL: tu, Grant: oauthclient.TokenExchange{SubjectToken: value, SubjectTokenType: "jwt"}},
		"exchange no subject": {Name: "te", TokenURL: tu, Grant: &oauthclient.TokenExchange{}},
		"refresh":             {Name: "rt", TokenURL: tu, ClientID: "c", Grant: oauthclient.RefreshToken{Token: value}},
		"refresh negative":    {Name: "rt", TokenURL: tu, ClientID: "c", Grant: oauthclient.RefreshToken{Token: value, Lifetime: -time.Hour}},
		"login":               {Name: "l", TokenURL: tu, ClientID: "u", ClientSecret: secret, Grant: oauthclient.Login{ClientIDField: "user", ClientSecretField: "pw"}},
		"login method":        {Name: "l", TokenURL: tu, Grant: oauthclient.Login{Method: "DELETE"}},
		"login nesting":       {Name: "l", TokenURL: tu, Grant: oauthclient.Login{Fields: map[string]oauthclient.Secret{"a": secret, "a.b": secret}}},
		"imported":            {Name: "i", Grant: oauthclient.Imported{Token: value}},
		"imported no token":   {Name: "i", Grant: oauthclient.Imported{}},
		"imported scheme":     {Name: "i", Grant: oauthclient.Imported{Token: value, Scheme: "two words"}},
	}
}

// Validate gives the errors NewSource gives, ConfigError for ConfigError,
// for every grant.
func TestValidateSaysWhatNewSourceSays(t *testing.T) {
	bad := 0
	for name, cfg := range validateCases() {
		t.Run(name, func(t *testing.T) {
			opts := oauthclient.Options{MeterProvider: oteltest.New(t).MeterProvider}
			src, want := oauthclient.NewSource(cfg, opts)
			if src != nil {
				src.Close()
			}
			got := cfg.Validate(opts)
			if want == nil {
				assert.NoError(t, got)
				return
			}
			bad++
			var wantCE, gotCE *oauthclient.ConfigError
			require.ErrorAs(t, want, &wantCE)
			require.ErrorAs(t, got, &gotCE)
			assert.Equal(t, *wantCE, *gotCE)
		})
	}
	assert.Greater(t, bad, 10, "the cases hold bad definitions")
}

// Validate builds nothing that runs: it registers no tokenwire.token.*
// instrument and leaves no goroutine behind, where NewSource does
// register them.
func TestValidateStartsNothing(t *testing.T) {
	kit := oteltest.New(t)
	opts := oauthclient.Options{MeterProvider: kit.MeterProvider}
	started := leaktest.Started(func() {
		for _, cfg := range validateCases() {
			_ = cfg.Validate(opts)
		}
	})
	assert.Empty(t, started, "goroutines started by Validate")
	for name := range kit.Metrics(t) {
		assert.False(t, strings.HasPrefix(name, "tokenwire.token."), "%s registered by Validate", name)
	}

	src, err := oauthclient.NewSource(validateCases()["client credentials"], opts)
	require.NoError(t, err)
	t.Cleanup(src.Close)
	assert.Contains(t, kit.Metrics(t), "tokenwire.token.backoff", "the check above can fail: a source registers its instruments")
}
