package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

// The fakes' credentials. Real ones come from the environment or mounted
// files (see config.yaml).
const (
	clientID      = "integration-service"
	clientSecret  = "demo-client-secret"
	billingAPIKey = "demo-billing-key"
	tokenLifetime = 5 * time.Minute
)

// fakes are the in-process stand-ins for an authorization server, a CRM
// that accepts only its tokens, a billing API that wants an API key, and
// an EHR (a FHIR server with its own SMART authorization server).
type fakes struct {
	auth         *oauthtest.Server
	crm, billing *httptest.Server
	ehr          *fakeEHR
	calls        atomic.Int64 // requests to the CRM and billing
	mu           sync.Mutex
	crmStatus    map[int]int // CRM responses by status
}

func startFakes(now func() time.Time) (*fakes, error) {
	ehr, err := startEHR(now)
	if err != nil {
		return nil, err
	}
	f := &fakes{crmStatus: map[int]int{}, ehr: ehr}
	f.auth = oauthtest.NewServer(oauthtest.WithClock(now), oauthtest.WithTokenLifetime(tokenLifetime))
	f.auth.AddClient(oauthtest.Client{ID: clientID, Secret: clientSecret, Scopes: []string{"crm.read"}})
	f.crm = httptest.NewServer(f.count(true, f.auth.RequireToken(crmAPI())))
	f.billing = httptest.NewServer(f.count(false, billingAPI()))
	return f, nil
}

func (f *fakes) Close() {
	f.crm.Close()
	f.billing.Close()
	f.auth.Close()
	f.ehr.Close()
}

// env fills the ${...} references of config.yaml.
func (f *fakes) env(name string) (string, bool) {
	v, ok := map[string]string{
		"TOKEN_URL": f.auth.TokenURL(), "CRM_CLIENT_SECRET": clientSecret,
		"CRM_URL": f.crm.URL, "BILLING_URL": f.billing.URL, "BILLING_API_KEY": billingAPIKey,
		"EHR_URL": f.ehr.fhir.URL, "EHR_PRIVATE_KEY": f.ehr.keyPEM,
	}[name]
	return v, ok
}

// tokenRequests tells how many tokens each security definition asked for.
func (f *fakes) tokenRequests() string {
	return fmt.Sprintf("token requests: crm-oauth %d, ehr-smart %d", f.auth.Requests(clientID), f.ehr.tokenRequests())
}

func (f *fakes) crmResponses(status int) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.crmStatus[status]
}

// count records every request to the REST fakes, and the CRM's response
// statuses.
func (f *fakes) count(crm bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.calls.Add(1)
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		if crm {
			f.mu.Lock()
			f.crmStatus[sw.status]++
			f.mu.Unlock()
		}
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

var customers = map[string]Customer{
	"C001": {"C001", "Ada Lovelace", "ada@example.com"},
	"C002": {"C002", "Alan Turing", "alan@example.com"},
	"C003": {"C003", "Grace Hopper", "grace@example.com"},
	"C004": {"C004", "Edsger Dijkstra", "edsger@example.com"},
	"C005": {"C005", "Barbara Liskov", "barbara@example.com"},
	"C006": {"C006", "Donald Knuth", "don@example.com"},
	"C007": {"C007", "Margaret Hamilton", "margaret@example.com"},
	"C008": {"C008", "Ken Thompson", "ken@example.com"},
}

// crmAPI serves /api/customers/{id}, /api/customers/{id}/orders and
// /api/health.
func crmAPI() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/health", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, map[string]string{"status": "ok"}) })
	mux.HandleFunc("GET /api/customers/{id}", func(w http.ResponseWriter, r *http.Request) {
		if c, ok := customers[r.PathValue("id")]; ok {
			writeJSON(w, c)
			return
		}
		http.Error(w, `{"error":"no such customer"}`, http.StatusNotFound)
	})
	mux.HandleFunc("GET /api/customers/{id}/orders", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("id")
		orders := []Order{}
		for i := range int64(id[len(id)-1]) % 4 { // a few orders each
			orders = append(orders, Order{ID: fmt.Sprintf("%s-O%d", id, i+1), TotalCents: 1999 + 1000*i})
		}
		writeJSON(w, orders)
	})
	return mux
}

// billingAPI serves /v1/invoices?customer=ID&status=open to holders of
// the API key.
func billingAPI() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-API-Key") != billingAPIKey {
			http.Error(w, `{"error":"bad api key"}`, http.StatusUnauthorized)
			return
		}
		if r.URL.Path != "/v1/invoices" {
			http.NotFound(w, r)
			return
		}
		id := r.URL.Query().Get("customer")
		invoices := []Invoice{}
		if id != "" && id[len(id)-1]%2 == 1 { // odd customers owe money
			invoices = append(invoices, Invoice{ID: id + "-I1", AmountCents: 25000, Status: "open"})
		}
		writeJSON(w, invoices)
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
