package backends_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
	"github.com/tokenwire/tokenwire/rest"
	"github.com/tokenwire/tokenwire/rest/backends"
)

// openHealthDemo opens a CRM behind OAuth with a health endpoint and a FHIR
// server, both in-process fakes.
func openHealthDemo() (*backends.Registry, func(), error) {
	as := oauthtest.NewServer()
	as.AddClient(oauthtest.Client{ID: "integration", Secret: "s3cret", Scopes: []string{"crm.read"}})
	crm := httptest.NewServer(as.RequireToken(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/health" {
			http.NotFound(w, r)
		}
	})))
	ehr := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"resourceType":"CapabilityStatement","status":"active","fhirVersion":"4.0.1"}`)
	}))
	stop := func() { ehr.Close(); crm.Close(); as.Close() }
	vars := map[string]string{"TOKEN_URL": as.TokenURL(), "CRM_URL": crm.URL, "EHR_URL": ehr.URL}
	cfg, err := backends.Parse([]byte(`
security:
  crm-oauth: {type: oauth2, token_url: "${TOKEN_URL}", client_id: integration, client_secret: s3cret, scopes: [crm.read]}
rest:
  crm:
    base_url: ${CRM_URL}/api
    security: crm-oauth
    ping: {method: GET, path: health}   # default: HEAD of the base URL
fhir:
  ehr: {base_url: "${EHR_URL}/r4"}      # pinged with GET [base]/metadata
`), backends.WithLookupEnv(func(k string) (string, bool) { v, ok := vars[k]; return v, ok }), rest.AllowInsecureHTTP())
	if err != nil {
		stop()
		return nil, nil, err
	}
	reg, err := backends.Open(context.Background(), cfg)
	if err != nil {
		stop()
		return nil, nil, err
	}
	return reg, func() { _ = reg.Close(); stop() }, nil
}

// A ping checks a backend through its connection: with its token, TLS
// settings and default headers. A REST connection sends its ping setting;
// a FHIR connection asks for its CapabilityStatement.
func ExampleRegistry_FHIR() {
	reg, stop, err := openHealthDemo()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	crm, _ := reg.REST("crm")
	fmt.Println("crm:", crm.Ping(context.Background()))
	ehr, _ := reg.FHIR("ehr")
	fmt.Println("ehr:", ehr.Ping(context.Background()))
	again, _ := reg.FHIR("ehr")
	fmt.Println("the same connection:", again == ehr)
	// Output:
	// crm: <nil>
	// ehr: <nil>
	// the same connection: true
}

// Check gets every token and pings every backend, concurrently, for a
// readiness probe; HealthHandler serves it as 200 or 503 with the report.
func ExampleHealthHandler() {
	reg, stop, err := openHealthDemo()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	rep := reg.Check(context.Background(), backends.CheckTimeout(5*time.Second))
	fmt.Println("ok:", rep.OK)
	for _, r := range append(rep.Tokens, rep.Connections...) {
		fmt.Printf("  %s %s: %t%s\n", r.Kind, r.Name, r.OK, r.Error) // Error is "" when OK
	}

	mux := http.NewServeMux()
	mux.Handle("GET /readyz", backends.HealthHandler(reg))
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	fmt.Println("GET /readyz:", w.Code, w.Header().Get("Content-Type"))
	// Output:
	// ok: true
	//   oauth2 crm-oauth: true
	//   rest crm: true
	//   fhir ehr: true
	// GET /readyz: 200 application/json
}

// StatusHandler is a page for operators (and ?format=json for programs).
// Mount it where the public cannot reach it; it answers to loopback names
// and its listening address (AllowHosts adds others). AllowRenew adds a
// "renew now" button per OAuth definition, protected against cross-site
// requests.
func ExampleStatusHandler() {
	reg, stop, err := openHealthDemo()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	mux := http.NewServeMux()
	mux.Handle("/debug/tokenwire/", http.StripPrefix("/debug/tokenwire", backends.StatusHandler(reg, backends.AllowRenew())))

	w := httptest.NewRecorder()
	mux.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "http://localhost:8080/debug/tokenwire/", nil))
	page := w.Body.String()
	fmt.Println(w.Code, w.Header().Get("Content-Type"))
	fmt.Println("shows the connections:", strings.Contains(page, "<td>crm</td>") && strings.Contains(page, "<td>ehr</td>"))
	fmt.Println("renew button:", strings.Contains(page, "Renew now"))
	fmt.Println(w.Header().Get("X-Frame-Options"), w.Header().Get("Cache-Control"))
	// Output:
	// 200 text/html; charset=utf-8
	// shows the connections: true
	// renew button: true
	// DENY no-store
}
