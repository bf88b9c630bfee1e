package backends

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/rest"
)

func TestConfigPing(t *testing.T) {
	cfg, err := Parse([]byte(`
rest:
  crm: {base_url: "https://crm.example/api", ping: {method: GET, path: /health}}
  billing: {base_url: "https://billing.example"}
`))
	require.NoError(t, err)
	assert.Equal(t, rest.PingConfig{Method: "GET", Path: "/health"}, cfg.REST["crm"].Ping)
	assert.Equal(t, rest.PingConfig{}, cfg.REST["billing"].Ping, "HEAD of the base URL by default")
}

func TestConfigPingProblems(t *testing.T) {
	got := problemsOf(t, `rest:
  a: {base_url: "https://a.example", ping: {method: POST}}
  b: {base_url: "https://b.example", ping: {path: ../admin}}
  c: {base_url: "https://c.example", ping: {methd: GET}}
fhir:
  ehr: {base_url: "https://ehr.example/r4", ping: {path: metadata}}
`)
	want := []Problem{
		{Where: `fhir "ehr"`, Field: "ping", Reason: "does not apply to a FHIR connection: it is pinged with GET [base]/metadata (a CapabilityStatement)", Line: 6},
		{Where: `rest "a"`, Field: "ping.method", Reason: `"POST" is not allowed (want HEAD, GET or OPTIONS: a ping must change nothing)`, Line: 2},
		{Where: `rest "b"`, Field: "ping.path", Reason: `bad request path: ".." climbs out of the base path`, Line: 3},
		{Where: `rest "c"`, Field: "ping.methd", Reason: `unknown field (did you mean "method"?)`, Line: 4},
	}
	assert.Equal(t, want, got)
}

func TestReloadPingIsAChange(t *testing.T) {
	a := newAssembly(t)
	cfg, err := Parse([]byte(assemblyConfig), rest.AllowInsecureHTTP(), WithLookupEnv(func(k string) (string, bool) { v, ok := a.urls[k]; return v, ok }))
	require.NoError(t, err)
	crm := cfg.REST["crm"]
	crm.Ping = rest.PingConfig{Method: "GET", Path: "health"}
	cfg.REST["crm"] = crm
	rep, err := a.reg.Reload(context.Background(), cfg)
	require.NoError(t, err)
	assert.Equal(t, []string{"crm"}, rep.Connections.Changed)
	_, err = a.reg.FHIR("ehr")
	require.NoError(t, err, "an unchanged FHIR connection stays one")
	c, err := a.reg.REST("crm")
	require.NoError(t, err)
	assert.NoError(t, c.Ping(context.Background()))
}

// From the file to the request: ping: {path: /health} with a base_url
// under /api/v2 reaches the origin's /health; path: health stays under
// /api/v2.
func TestConfigPingPathReachesOriginRoot(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.Path)
		mu.Unlock()
	}))
	defer srv.Close()
	cfg, err := Parse([]byte(`
rest:
  root: {base_url: "${URL}/api/v2", ping: {method: GET, path: /health}}
  under: {base_url: "${URL}/api/v2", ping: {method: GET, path: health}}
`), rest.AllowInsecureHTTP(), WithLookupEnv(func(string) (string, bool) { return srv.URL, true }))
	require.NoError(t, err)
	reg, err := Open(context.Background(), cfg)
	require.NoError(t, err)
	defer reg.Close()
	for _, name := range []string{"root", "under"} {
		c, err := reg.REST(name)
		require.NoError(t, err)
		require.NoError(t, c.Ping(context.Background()), name)
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"GET /health", "GET /api/v2/health"}, got)
}
