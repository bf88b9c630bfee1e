package backends

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/internal/logbuf"
	"github.com/tokenwire/tokenwire/internal/oteltest"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
	"github.com/tokenwire/tokenwire/rest"
)

// The registry's status lists every definition with its kind (and the
// token state of the OAuth one), every connection with its stats, and the
// store; as JSON it shows no secret and no token.
func TestRegistryStatus(t *testing.T) {
	clk := newFakeClock()
	var logs logbuf.Buffer
	reg, as := telRegistry(t, oteltest.New(t), clk, &logs, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "{}")
	})
	crm, err := reg.REST("crm")
	require.NoError(t, err)
	resp, err := crm.Get(context.Background(), "customers/1")
	require.NoError(t, err)
	resp.Body.Close()

	st := reg.Status()
	var kinds []string
	for _, s := range st.Security {
		kinds = append(kinds, s.Name+":"+s.Kind)
	}
	assert.Equal(t, []string{"billing-key:apikey", "crm-oauth:oauth2", "legacy:basic", "public:none"}, kinds)
	tok := st.Security[1].Token
	require.NotNil(t, tok)
	assert.Equal(t, oauthclient.TokenFresh, tok.State)
	assert.EqualValues(t, 1, tok.Requests)
	assert.Equal(t, clk.Now().Add(time.Hour), tok.ExpiresAt.UTC())
	assert.Nil(t, st.Security[2].Token, "no token state for basic")

	require.Len(t, st.Connections, 2)
	assert.Equal(t, "crm", st.Connections[0].Name)
	assert.EqualValues(t, 1, st.Connections[0].Calls)
	assert.Equal(t, 200, st.Connections[0].LastStatus)
	assert.Equal(t, "legacy", st.Connections[1].Name)
	assert.Equal(t, "basic", st.Connections[1].SecurityKind)
	assert.Zero(t, st.Connections[1].Calls)
	require.NotNil(t, st.Store)
	assert.Equal(t, cache.Status{Kind: "memory", Healthy: true, Entries: 1}, *st.Store)

	b, err := json.Marshal(statusView(st, func(string) string { return kindREST })) // as the status page encodes it
	require.NoError(t, err)
	for _, secret := range append(as.SeenTokens(), telClientSecret, "legacy-Pass-99", "Billing-KEY-12") {
		assert.NotContains(t, string(b), secret)
	}
	var m struct {
		Security []struct {
			Name  string         `json:"name"`
			Token map[string]any `json:"token"`
		} `json:"security"`
		Connections []map[string]any `json:"connections"`
		Store       map[string]any   `json:"store"`
	}
	require.NoError(t, json.Unmarshal(b, &m))
	assert.Equal(t, "fresh", m.Security[1].Token["state"])
	assert.Equal(t, map[string]any{"last_ms": 0.0, "mean_ms": 0.0, "max_ms": 0.0, "p50_ms": 0.0, "p95_ms": 0.0, "p99_ms": 0.0},
		m.Connections[0]["latency"], "the test clock did not move")
	assert.Equal(t, "memory", m.Store["kind"])
}

const telClientSecret = "svc-Tel-secret-31"

// telRegistry opens a registry with one OAuth connection "crm" to a backend
// running handler, instrumented into kit and logging into logs.
func telRegistry(t *testing.T, kit *oteltest.Kit, clk *fakeClock, logs io.Writer, handler http.HandlerFunc, opts ...rest.Option) (*Registry, *oauthtest.Server) {
	t.Helper()
	as := oauthtest.NewServer(oauthtest.WithClock(clk.Now))
	t.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: "svc", Secret: telClientSecret, Scopes: []string{"crm.read"}})
	backend := newServer(t, as.RequireToken(handler).ServeHTTP)
	cfg, err := Parse([]byte(`
security:
  crm-oauth: {type: oauth2, token_url: "${TOKEN_URL}", client_id: svc, client_secret: "${SECRET}", scopes: [crm.read]}
  legacy: {type: basic, username: u, password: legacy-Pass-99}
  billing-key: {type: apikey, in: query, name: api_key, value: Billing-KEY-12}
  public: {type: none}
rest:
  crm: {base_url: "${CRM_URL}/api", security: crm-oauth, retry: {max_attempts: 3}}
  legacy: {base_url: "${CRM_URL}/legacy", security: legacy}
store:
  memory: {size: 16}
`), env(map[string]string{"TOKEN_URL": as.TokenURL(), "CRM_URL": backend.URL, "SECRET": telClientSecret}), rest.AllowInsecureHTTP())
	require.NoError(t, err)
	all := append([]rest.Option{rest.WithClock(clk.Now), rest.WithSleep(clk.Sleep), rest.WithMeterProvider(kit.MeterProvider),
		rest.WithTracerProvider(kit.TracerProvider), rest.WithLogger(slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))}, opts...)
	reg, err := Open(context.Background(), cfg, all...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = reg.Close() })
	return reg, as
}
