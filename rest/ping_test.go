package rest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPingREST(t *testing.T) {
	tests := []struct {
		name    string
		ping    PingConfig
		status  int
		sent    string // method and path the server sees
		wantErr error  // nil: the ping succeeds
	}{
		{"HEAD 200", PingConfig{}, http.StatusOK, "HEAD /api/", nil},
		{"HEAD 204", PingConfig{}, http.StatusNoContent, "HEAD /api/", nil},
		{"HEAD 300 not followed", PingConfig{}, http.StatusMultipleChoices, "HEAD /api/", nil},
		{"HEAD 405 is reachable", PingConfig{}, http.StatusMethodNotAllowed, "HEAD /api/", nil},
		{"HEAD 501 is reachable", PingConfig{}, http.StatusNotImplemented, "HEAD /api/", nil},
		{"GET 405 fails", PingConfig{Method: "GET"}, http.StatusMethodNotAllowed, "GET /api/", ErrClientError},
		{"404 fails", PingConfig{Path: "health"}, http.StatusNotFound, "HEAD /api/health", ErrNotFound},
		{"401 fails", PingConfig{}, http.StatusUnauthorized, "HEAD /api/", ErrUnauthorized},
		{"500 fails", PingConfig{Method: "options"}, http.StatusInternalServerError, "OPTIONS /api/", ErrServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			var mu sync.Mutex
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				got = append(got, r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("X-Default"))
				mu.Unlock()
				w.WriteHeader(tt.status)
			})
			c, _ := testConn(t, srv.URL+"/api/", None(), ConnConfig{Ping: tt.ping, Headers: map[string]string{"X-Default": "d"},
				Retry: RetryPolicy{MaxAttempts: 1}})
			err := c.Ping(context.Background())
			if tt.wantErr == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tt.wantErr)
				var e *Error
				require.ErrorAs(t, err, &e)
				assert.Equal(t, "crm", e.Conn)
			}
			assert.Equal(t, []string{tt.sent + " d"}, got, "one request, with the default headers")
		})
	}
}

func TestPingPathAndQuery(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.RequestURI() != "/v1/status?deep=1" {
			http.NotFound(w, r)
		}
	})
	c, _ := testConn(t, srv.URL+"/v1", None(), ConnConfig{Ping: PingConfig{Method: "GET", Path: "/status?deep=1"}})
	require.NoError(t, c.Ping(context.Background()))
}

func TestPingRefusesUnsafeSettings(t *testing.T) {
	var hits int
	srv := newServer(t, func(http.ResponseWriter, *http.Request) { hits++ })
	for _, p := range []PingConfig{{Method: "POST"}, {Method: "DELETE"}, {Path: "../admin"}, {Path: "a#b"}} {
		c, _ := testConn(t, srv.URL, None(), ConnConfig{Ping: p})
		err := c.Ping(context.Background())
		require.Error(t, err, "%+v", p)
		assert.Contains(t, err.Error(), "ping: ")
	}
	assert.Zero(t, hits, "nothing is sent")
}

func TestPingTransportError(t *testing.T) {
	srv := newServer(t, func(http.ResponseWriter, *http.Request) {})
	srv.Close()
	c, _ := testConn(t, srv.URL, None(), ConnConfig{Retry: RetryPolicy{MaxAttempts: 1}})
	require.ErrorIs(t, c.Ping(context.Background()), ErrTransport)
}

func TestPingCarriesTheCredential(t *testing.T) {
	a := newAssembly(t)
	for _, name := range []string{"crm", "billing", "legacy", "hook", "ehr"} {
		c, err := a.reg.Conn(name)
		require.NoError(t, err)
		assert.NoError(t, c.Ping(context.Background()), name)
	}
	assert.Equal(t, 1, a.as.Requests("svc"), "one token for both OAuth connections")
}

func TestPingFHIR(t *testing.T) {
	tests := []struct {
		name, body string
		status     int
		want       string // "" for success, else in the error
	}{
		{"capability statement", `{"resourceType":"CapabilityStatement","status":"active"}`, 200, ""},
		{"resourceType after other members", `{"meta":{"tag":[{"code":"x"}]},"text":{"div":"<div/>"},"resourceType":"CapabilityStatement"}`, 200, ""},
		{"another resource", `{"resourceType":"OperationOutcome","issue":[]}`, 200, `not a CapabilityStatement (resourceType "OperationOutcome")`},
		{"no resourceType", `{"status":"active"}`, 200, "not a FHIR resource"},
		{"not JSON", `<html>login</html>`, 200, "not a JSON object"},
		{"resourceType not a string", `{"resourceType":7}`, 200, "resourceType is not a string"},
		{"truncated", `{"meta":{"x":[1,2`, 200, "not a FHIR resource"},
		{"not found", `{"resourceType":"OperationOutcome"}`, 404, "404 Not Found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newAssembly(t)
			a.fhirStatus, a.fhirBody = tt.status, tt.body
			c, err := a.reg.Conn("ehr")
			require.NoError(t, err)
			require.Equal(t, KindFHIR, c.Kind())
			err = c.Ping(context.Background())
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotErrorIs(t, err, ErrTransport)
		})
	}
}

func TestPingFHIRAsksForFHIRJSON(t *testing.T) {
	var accept, path string
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		accept, path = r.Header.Get("Accept"), r.URL.Path
		_, _ = io.WriteString(w, `{"resourceType":"CapabilityStatement"}`)
	})
	c, _ := testConn(t, srv.URL+"/r4/", None(), ConnConfig{})
	c.kind = KindFHIR
	require.NoError(t, c.Ping(context.Background()))
	assert.Equal(t, "application/fhir+json", accept)
	assert.Equal(t, "/r4/metadata", path, "metadata, not /CapabilityStatement")
}

func TestKind(t *testing.T) {
	a := newAssembly(t)
	for name, want := range map[string]string{"crm": KindREST, "ehr": KindFHIR} {
		c, err := a.reg.Conn(name)
		require.NoError(t, err)
		assert.Equal(t, want, c.Kind(), name)
	}
	c, err := NewConn("x", ConnConfig{BaseURL: "https://example.test"}, nil)
	require.NoError(t, err)
	assert.Equal(t, KindREST, c.Kind())
}

func TestResourceTypeIgnoresNestedKeys(t *testing.T) {
	rt, err := resourceType(strings.NewReader(`{"contained":[{"resourceType":"Patient"}],"resourceType":"CapabilityStatement"}`))
	require.NoError(t, err)
	assert.Equal(t, "CapabilityStatement", rt)
	_, err = resourceType(strings.NewReader(`[]`))
	assert.True(t, err != nil && !errors.Is(err, errNoResourceType))
}
