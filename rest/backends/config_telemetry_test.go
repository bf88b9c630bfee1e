package backends

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"

	"github.com/tokenwire/tokenwire/internal/leaktest"
	"github.com/tokenwire/tokenwire/internal/oteltest"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
	"github.com/tokenwire/tokenwire/rest"
)

// useGlobalMeter makes kit's provider the global one for the test, as a
// service that installs its provider does.
func useGlobalMeter(t *testing.T) *oteltest.Kit {
	kit := oteltest.New(t)
	prev := otel.GetMeterProvider()
	otel.SetMeterProvider(kit.MeterProvider)
	t.Cleanup(func() { otel.SetMeterProvider(prev) })
	return kit
}

// Loading checks every definition without building a token source (it
// validates with oauthclient.Config.Validate): a mere Parse publishes no
// tokenwire.token.* series and leaves no goroutine running, whatever the
// grant.
func TestParseStartsNothing(t *testing.T) {
	kit := useGlobalMeter(t)
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	var cfg *Config
	started := leaktest.Started(func() {
		cfg, err = Parse([]byte(`
security:
  crm-oauth: {type: oauth2, token_url: 'https://login.example.com/token', client_id: svc, client_secret: s, dpop: true}
  vendor: {type: login, token_url: 'https://vendor.example.com/login', client_id: svc, client_secret: pw}
  partner: {type: bearer, token_from: {value: tok}, expires_at: "2099-01-01T00:00:00Z"}
  saas: {type: oauth2, token_url: 'https://login.example.com/token', client_id: app, grant: refresh_token, refresh_token: {value: rt}}
  orders: {type: oauth2, token_url: 'https://login.example.com/token', grant: token_exchange, subject_token: {definition: crm-oauth}}
  workload: {type: oauth2, token_url: 'https://login.example.com/token', grant: jwt_bearer, assertion: {command: [cat, /dev/null]}}
  ehr-smart: {type: oauth2, client_id: ehr, private_key: '${KEY}', key_id: k1}
fhir:
  ehr: {base_url: 'https://ehr.example.org/fhir', security: ehr-smart, smart: true}
`), env(map[string]string{"KEY": pemKey(t, key)}))
	})
	require.NoError(t, err)
	require.Len(t, cfg.Security, 7)
	assert.Empty(t, started, "goroutines left running by Parse")
	for name := range kit.Metrics(t) {
		assert.False(t, strings.HasPrefix(name, "tokenwire.token."), "%s published by a definition that does not run", name)
	}
}

// A reload checks the file without a second source for a definition that
// runs: the backoff gauge of a definition that is backing off still reads
// its backoff after the reload (it read 0: the check's source, never
// failed, reported under the same name).
func TestGaugesSurviveAReload(t *testing.T) {
	kit := useGlobalMeter(t)
	as := oauthtest.NewServer()
	t.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: "svc", Secret: "svc-secret"})
	as.FailNext(100, oauthtest.OAuthError(http.StatusServiceUnavailable, "temporarily_unavailable", "down"))
	dir := t.TempDir()
	file := filepath.Join(dir, "tokenwire.yaml")
	require.NoError(t, os.WriteFile(file, []byte(`
security:
  crm-oauth: {type: oauth2, token_url: '${TOKEN_URL}', client_id: svc, client_secret: svc-secret}
rest:
  crm: {base_url: 'https://crm.example.com', security: crm-oauth}
`), 0o600))
	cfg, err := Load(file, rest.AllowInsecureHTTP(), env(map[string]string{"TOKEN_URL": as.TokenURL()}))
	require.NoError(t, err)
	reg, err := Open(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = reg.Close() })
	src, err := reg.security.Source("crm-oauth")
	require.NoError(t, err)
	_, err = src.TokenContext(context.Background())
	require.Error(t, err, "the authorization server is down: the source backs off")

	backoff := func() float64 {
		v, ok := oteltest.Gauge(t, kit.Metric(t, "tokenwire.token.backoff"))
		require.True(t, ok)
		return v
	}
	require.Positive(t, backoff())
	_, err = reg.ReloadFile(context.Background(), file)
	require.NoError(t, err)
	assert.Positive(t, backoff(), "the gauge of the running source, not of a source built to check the file")
}
