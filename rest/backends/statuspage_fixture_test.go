package backends

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
	"github.com/tokenwire/tokenwire/rest"
)

// The secrets of the test assembly: none may ever show on a page, in a
// report or in JSON.
const (
	fixClientSecret = "client-secret-Zq8w3RtY"
	fixAPIKey       = "api-key-Hn4k9PqLm"
	fixPassword     = "password-Jd7s2XcVb"
	fixBearer       = "bearer-token-Xc5v1NmKo"
)

// assembly is a registry with one connection of each kind of security,
// a FHIR server, and a fake authorization server, all on loopback with a
// fake clock.
type assembly struct {
	reg  *Registry
	as   *oauthtest.Server
	clk  *fakeClock
	urls map[string]string
	// fhirStatus and fhirBody are what the FHIR server's metadata answers
	// (status 0 is 200).
	fhirStatus int
	fhirBody   string
}

const assemblyConfig = `
security:
  crm-oauth:
    type: oauth2
    token_url: ${TOKEN_URL}
    client_id: svc
    client_secret: ${CLIENT_SECRET}
    scopes: [crm.read]
  billing-key: {type: apikey, name: X-API-Key, value: "${API_KEY}"}
  legacy-basic: {type: basic, username: svc, password: "${PASSWORD}"}
  hook-bearer: {type: bearer, token: "${BEARER}"}
rest:
  crm: {base_url: "${CRM_URL}/api", security: crm-oauth, ping: {path: health}}
  billing: {base_url: "${BILLING_URL}/v1?key=${API_KEY}", security: billing-key}
  legacy: {base_url: "${LEGACY_URL}", security: legacy-basic}
  hook: {base_url: "${HOOK_URL}", security: hook-bearer, ping: {method: GET, path: "status?x=1"}}
fhir:
  ehr: {base_url: "${EHR_URL}/fhir", security: crm-oauth}
store:
  memory: {size: 16}
`

func newAssembly(t *testing.T, opts ...rest.Option) *assembly {
	t.Helper()
	a := &assembly{clk: newFakeClock(), fhirBody: `{"resourceType":"CapabilityStatement","status":"active"}`}
	a.as = oauthtest.NewServer(oauthtest.WithClock(a.clk.Now))
	t.Cleanup(a.as.Close)
	a.as.AddClient(oauthtest.Client{ID: "svc", Secret: fixClientSecret, Scopes: []string{"crm.read"}})
	a.urls = map[string]string{
		"TOKEN_URL": a.as.TokenURL(), "CLIENT_SECRET": fixClientSecret, "API_KEY": fixAPIKey, "PASSWORD": fixPassword, "BEARER": fixBearer,
		"CRM_URL":     newServer(t, a.as.RequireToken(http.HandlerFunc(okAt("/api/health"))).ServeHTTP).URL,
		"BILLING_URL": newServer(t, requireHeader("X-API-Key", fixAPIKey, okAt("/v1"))).URL,
		"LEGACY_URL":  newServer(t, requireBasic(headNotAllowed)).URL,
		"HOOK_URL":    newServer(t, requireHeader("Authorization", "Bearer "+fixBearer, okAt("/status"))).URL,
		"EHR_URL":     newServer(t, a.as.RequireToken(http.HandlerFunc(a.metadata)).ServeHTTP).URL,
	}
	cfg, err := Parse([]byte(assemblyConfig), rest.AllowInsecureHTTP(),
		WithLookupEnv(func(k string) (string, bool) { v, ok := a.urls[k]; return v, ok }))
	require.NoError(t, err)
	a.reg, err = Open(context.Background(), cfg, append([]rest.Option{rest.WithClock(a.clk.Now), rest.WithSleep(a.clk.Sleep)}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = a.reg.Close() })
	return a
}

// secrets are every secret of the assembly, and every token it was given.
func (a *assembly) secrets() []string {
	return append([]string{fixClientSecret, fixAPIKey, fixPassword, fixBearer}, a.as.SeenTokens()...)
}

func (a *assembly) metadata(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/fhir/metadata" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/fhir+json")
	if a.fhirStatus != 0 {
		w.WriteHeader(a.fhirStatus)
	}
	_, _ = io.WriteString(w, a.fhirBody)
}

// okAt answers 200 at path, 404 elsewhere.
func okAt(path string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if strings.TrimSuffix(r.URL.Path, "/") != path {
			http.NotFound(w, r)
		}
	}
}

// headNotAllowed answers 405 to HEAD, like servers that route GET only.
func headNotAllowed(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodHead {
		w.Header().Set("Allow", "GET")
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

func requireHeader(name, value string, next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get(name) != value {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next(w, r)
	}
}

func requireBasic(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "svc" || p != fixPassword {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next(w, r)
	}
}

// get serves a GET of target to h and returns the response.
func get(t *testing.T, h http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	return do(t, h, http.MethodGet, target, nil)
}

// do serves one request to h, with the headers given as name, value…
func do(t *testing.T, h http.Handler, method, target string, body io.Reader, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, target, body)
	if strings.HasPrefix(target, "/") {
		r.Host = "127.0.0.1:8080" // the page answers to loopback names (httptest says example.com)
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// noSecretIn fails t if s shows one of secrets.
func noSecretIn(t *testing.T, what, s string, secrets []string) {
	t.Helper()
	for _, sec := range secrets {
		require.NotEmpty(t, sec)
		require.NotContains(t, s, sec, "%s shows a secret", what)
	}
}
