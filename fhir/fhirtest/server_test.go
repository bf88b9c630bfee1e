package fhirtest_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/fhir/fhirtest"
	"github.com/tokenwire/tokenwire/rest"
)

// bearer attaches a fixed token.
type bearer struct {
	tok  string
	base http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.tok)
	return b.base.RoundTrip(r)
}

func TestClockSetsLastUpdated(t *testing.T) {
	at := time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC)
	srv := fhirtest.NewServer(fhirtest.WithClock(func() time.Time { return at }))
	t.Cleanup(srv.Close)
	res, err := fhir.Create(t.Context(), srv.Conn("ehr"), &models.Patient{})
	require.NoError(t, err)
	assert.Equal(t, "2024-02-29T12:00:00.000Z", *res.Resource.Meta.LastUpdated)
}

func TestTokenChecks(t *testing.T) {
	srv := fhirtest.NewServer(fhirtest.WithTokenCheck(func(tok string) bool { return tok == "good" }))
	t.Cleanup(srv.Close)
	conn := func(tok string) *fhir.Conn {
		c, err := fhir.New("ehr", srv.URL, &http.Client{Transport: bearer{tok, srv.Client().Transport}})
		require.NoError(t, err)
		return c
	}
	read := func(c *fhir.Conn) error {
		_, err := fhir.Read[models.Patient](context.Background(), c, "1")
		return err
	}
	assert.ErrorIs(t, read(conn("bad")), rest.ErrUnauthorized)
	assert.ErrorIs(t, read(conn("good")), rest.ErrNotFound, "authorized, then not found")

	srv.FailNext(2, http.StatusUnauthorized)
	assert.ErrorIs(t, read(conn("good")), rest.ErrUnauthorized)
	assert.ErrorIs(t, read(conn("good")), rest.ErrUnauthorized)
	assert.ErrorIs(t, read(conn("good")), rest.ErrNotFound)

	srv.RejectToken("good")
	assert.ErrorIs(t, read(conn("good")), rest.ErrUnauthorized)
	assert.Equal(t, "good", srv.LastToken())
	assert.Equal(t, 6, srv.Hits("GET", "Patient/1"))
	assert.Equal(t, 6, srv.Requests())
}

// Discovery never needs a token: without a SMART configuration it is a
// 404, as on a server without SMART, not a 401 a client would take for
// its credentials; with one it is served to a client without a token.
func TestDiscoveryNeedsNoToken(t *testing.T) {
	for name, tt := range map[string]struct {
		opts []fhirtest.Option
		want int
	}{
		"no SMART configuration": {nil, http.StatusNotFound},
		"a SMART configuration":  {[]fhirtest.Option{fhirtest.WithSmartConfiguration(&fhirtest.SmartConfiguration{TokenEndpoint: "https://as.example/token"})}, http.StatusOK},
	} {
		t.Run(name, func(t *testing.T) {
			srv := fhirtest.NewServer(append(tt.opts, fhirtest.WithTokenCheck(func(string) bool { return false }))...)
			t.Cleanup(srv.Close)
			resp, err := srv.Client().Get(srv.URL + "/.well-known/smart-configuration")
			require.NoError(t, err)
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.NoError(t, err)
			assert.Equal(t, tt.want, resp.StatusCode, "%s", body)
		})
	}
}

func TestProtocolErrors(t *testing.T) {
	srv := fhirtest.NewServer()
	t.Cleanup(srv.Close)
	_, err := srv.Seed(models.Patient{Id: ptr("a")})
	require.NoError(t, err)
	tests := []struct {
		name, method, path, ctype, body string
		want                            int
	}{
		{"outside base", "GET", "/other", "", "", 404},
		{"bad type", "GET", "/fhir/patient", "", "", 404},
		{"type mismatch", "POST", "/fhir/Patient", "application/fhir+json", `{"resourceType":"Observation"}`, 400},
		{"id mismatch", "PUT", "/fhir/Patient/a", "application/fhir+json", `{"resourceType":"Patient","id":"b"}`, 400},
		{"not json", "POST", "/fhir/Patient", "application/fhir+json", `<Patient/>`, 400},
		{"patch media type", "PATCH", "/fhir/Patient/a", "application/json", `[]`, 415},
		{"patch id", "PATCH", "/fhir/Patient/a", "application/json-patch+json", `[{"op":"replace","path":"/id","value":"z"}]`, 400},
		{"search form", "POST", "/fhir/Patient/_search", "application/json", `{}`, 415},
		{"bundle type", "POST", "/fhir", "application/fhir+json", `{"resourceType":"Bundle","type":"collection"}`, 400},
		{"method", "POST", "/fhir/Patient/a", "application/fhir+json", `{}`, 405},
		{"vread missing", "GET", "/fhir/Patient/a/_history/9", "", "", 404},
		{"include not a reference", "GET", "/fhir/Patient?_include=Patient:family", "", "", 400},
		{"include unknown", "GET", "/fhir/Patient?_include=Patient:shoe", "", "", 400},
		{"include shape", "GET", "/fhir/Patient?_include=Observation", "", "", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), tt.method, strings.TrimSuffix(srv.URL, "/fhir")+tt.path, strings.NewReader(tt.body))
			require.NoError(t, err)
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			resp, err := srv.Client().Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			assert.Equal(t, tt.want, resp.StatusCode)
			assert.Equal(t, "application/fhir+json", resp.Header.Get("Content-Type"), "an OperationOutcome")
		})
	}
}

func ptr[T any](v T) *T { return &v }

// Request headers over 16 KiB in all are refused with 431 and no body, as
// Node's HTTP server (the real server the fhir tests hold fhirtest to)
// answers; just under passes.
func TestRequestHeaderLimit(t *testing.T) {
	srv := fhirtest.NewServer()
	t.Cleanup(srv.Close)
	get := func(pad int) *http.Response {
		req, err := http.NewRequestWithContext(t.Context(), "GET", srv.URL+"/Patient", nil)
		require.NoError(t, err)
		req.Header.Set("X-Pad", strings.Repeat("x", pad))
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { _ = resp.Body.Close() })
		return resp
	}
	assert.Equal(t, http.StatusOK, get(15<<10).StatusCode)
	resp := get(16 << 10)
	assert.Equal(t, http.StatusRequestHeaderFieldsTooLarge, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Empty(t, b)
}

func TestFailNext(t *testing.T) {
	srv := fhirtest.NewServer()
	defer srv.Close()
	get := func(path string) *http.Response {
		resp, err := srv.Client().Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		return resp
	}
	srv.FailNext(1, http.StatusServiceUnavailable)
	srv.FailNext(1, http.StatusUnauthorized)
	if resp := get("/metadata"); resp.StatusCode != http.StatusOK {
		t.Fatalf("metadata is never failed: %d", resp.StatusCode)
	}
	resp := get("/Patient")
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "0" {
		t.Fatalf("first: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	resp = get("/Patient")
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_token") {
		t.Fatalf("second: %d, WWW-Authenticate %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	if resp := get("/Patient"); resp.StatusCode != http.StatusOK {
		t.Fatalf("the failures are used up: %d", resp.StatusCode)
	}
}
