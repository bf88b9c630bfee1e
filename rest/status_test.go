package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/internal/oteltest"
	"github.com/tokenwire/tokenwire/oauthclient"
)

// The registry's status lists every definition with its kind (and the
// token state of the OAuth one), every connection with its stats, and the
// store; as JSON it shows no secret and no token.
func TestRegistryStatus(t *testing.T) {
	clk := newFakeClock()
	var logs bytes.Buffer
	reg, as := telRegistry(t, oteltest.New(t), clk, &logs, func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "{}")
	})
	crm, err := reg.Conn("crm")
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

	b, err := json.Marshal(st)
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

// The latency summary's quantiles are the bounds of the buckets they fall
// in, never beyond the largest latency seen.
func TestLatencySummary(t *testing.T) {
	var s connStats
	req, _ := http.NewRequest(http.MethodGet, "https://api.example.com/x", nil)
	ok := &http.Response{StatusCode: 200}
	for range 90 {
		s.record(req, ok, 1, nil, 3*time.Millisecond, time.Now())
	}
	for range 9 {
		s.record(req, ok, 1, nil, 40*time.Millisecond, time.Now())
	}
	s.record(req, ok, 1, nil, 20*time.Second, time.Now())
	l := s.latency(s.calls.Load())
	assert.Equal(t, 5*time.Millisecond, l.P50)
	assert.Equal(t, 50*time.Millisecond, l.P95)
	assert.Equal(t, 50*time.Millisecond, l.P99)
	assert.Equal(t, 20*time.Second, l.Max)
	assert.Equal(t, 20*time.Second, l.Last)
	assert.Equal(t, (90*3*time.Millisecond+9*40*time.Millisecond+20*time.Second)/100, l.Mean)
}
