package fhir_test

import (
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/rest"
)

func TestSupportsFromFhirtest(t *testing.T) {
	srv, conn := setup(t)
	tests := []struct {
		typ  string
		i    string
		want bool
	}{
		{"Patient", "read", true},
		{"Patient", "vread", true},
		{"Patient", "patch", true},
		{"Patient", "delete", true},
		{"Patient", "history-instance", true},
		{"Observation", "search-type", true},
		{"Patient", "frobnicate", false},
		{"Basic", "read", false}, // not in the statement
		{"", "transaction", true},
		{"", "batch", true},
		{"Patient", "history-system", true}, // system-wide whatever the type
		{"", "search-system", false},
		{"", "read", false},
	}
	for _, tt := range tests {
		t.Run(tt.typ+" "+string(tt.i), func(t *testing.T) {
			ok, err := conn.Supports(ctx(t), tt.typ, tt.i)
			require.NoError(t, err)
			assert.Equal(t, tt.want, ok)
		})
	}
	v, err := conn.FHIRVersion(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, "4.0.1", v)
	cs, err := conn.Capabilities(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, "4.0.1", cs.FhirVersion.Code())
	assert.Equal(t, 1, srv.Hits("GET", "metadata"), "read once per connection")

	require.NoError(t, conn.Ping(ctx(t)))
	require.NoError(t, conn.Ping(ctx(t)))
	assert.Equal(t, 3, srv.Hits("GET", "metadata"), "every Ping asks the server")
	assert.Zero(t, srv.Hits("GET", "CapabilityStatement"))

	other := srv.Conn("ehr2")
	_, err = other.Supports(ctx(t), "Patient", "read")
	require.NoError(t, err)
	assert.Equal(t, 4, srv.Hits("GET", "metadata"), "each connection keeps its own")
}

func TestCapabilitiesConcurrentCallersShareOneRead(t *testing.T) {
	release := make(chan struct{})
	var hits atomic.Int32
	conn, _ := rawServer(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		<-release
		w.Header().Set("Content-Type", "application/fhir+json")
		_, _ = io.WriteString(w, plainStatement)
	})
	const n = 32
	var started, done sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		started.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			started.Done()
			var err error
			switch i % 3 {
			case 0:
				var ok bool
				ok, err = conn.Supports(t.Context(), "Patient", "read")
				if err == nil && !ok {
					err = errors.New("Patient read not supported")
				}
			case 1:
				_, err = conn.Capabilities(t.Context())
			default:
				_, err = conn.FHIRVersion(t.Context())
			}
			errs <- err
		}()
	}
	started.Wait()
	close(release)
	done.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	assert.Equal(t, int32(1), hits.Load(), "one metadata request for all callers")
}

func TestCapabilitiesFailedReadIsNotKept(t *testing.T) {
	answers := []struct {
		status int
		body   string
	}{
		{http.StatusServiceUnavailable, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"transient"}]}`},
		{http.StatusOK, `{"resourceType":"Patient","id":"1"}`},
		{http.StatusOK, `<html>proxy error</html>`},
		{http.StatusOK, statement},
	}
	var mu sync.Mutex
	conn, rec := rawServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		a := answers[0]
		if len(answers) > 1 {
			answers = answers[1:]
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/fhir+json")
		w.WriteHeader(a.status)
		_, _ = io.WriteString(w, a.body)
	})

	_, err := conn.Supports(ctx(t), "Patient", "read")
	assert.ErrorIs(t, err, rest.ErrServerError)
	_, err = conn.Supports(ctx(t), "Patient", "read")
	assert.ErrorContains(t, err, `fhir: ehr: metadata returned "Patient", not a CapabilityStatement`)
	_, err = conn.FHIRVersion(ctx(t))
	assert.ErrorContains(t, err, "fhir: ehr: metadata is not JSON")
	ok, err := conn.Supports(ctx(t), "Patient", "read")
	require.NoError(t, err)
	assert.True(t, ok)
	assert.Equal(t, 4, rec.count(), "each failure was retried by the next call")
	_, err = conn.Supports(ctx(t), "Patient", "delete")
	require.NoError(t, err)
	assert.Equal(t, 4, rec.count(), "the success is kept")
	assert.Equal(t, "/fhir/metadata", rec.last(t).URL.Path)
}

func TestPingRefreshesCapabilities(t *testing.T) {
	var mu sync.Mutex
	body, status := statement, http.StatusOK
	set := func(b string, s int) { mu.Lock(); body, status = b, s; mu.Unlock() }
	conn, rec := rawServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		b, s := body, status
		mu.Unlock()
		w.WriteHeader(s)
		_, _ = io.WriteString(w, b)
	})
	ok, err := conn.Supports(ctx(t), "Patient", "patch")
	require.NoError(t, err)
	assert.False(t, ok)

	set(`{"resourceType":"CapabilityStatement","fhirVersion":"4.0.1","rest":[{"mode":"server","resource":[{"type":"Patient","interaction":[{"code":"patch"}]}]}]}`, 200)
	require.NoError(t, conn.Ping(ctx(t)))
	ok, err = conn.Supports(ctx(t), "Patient", "patch")
	require.NoError(t, err)
	assert.True(t, ok, "the new statement")

	set(`{}`, http.StatusBadGateway)
	assert.ErrorIs(t, conn.Ping(ctx(t)), rest.ErrServerError)
	ok, err = conn.Supports(ctx(t), "Patient", "patch")
	require.NoError(t, err)
	assert.True(t, ok, "a failed refresh keeps what was read before")
	assert.Equal(t, 3, rec.count())
}

// plainStatement is a CapabilityStatement that fits the models.
const plainStatement = `{"resourceType":"CapabilityStatement","status":"active","date":"2024-01-01","kind":"instance",
  "fhirVersion":"4.0.1","format":["json"],
  "rest":[{"mode":"server","resource":[{"type":"Patient","interaction":[{"code":"read"}]}]}]}`

// statement is a CapabilityStatement as a real server may send it: codes
// this package's models do not know, a client-mode rest entry, values of
// an unexpected type. Supports reads what it needs regardless.
const statement = `{
  "resourceType": "CapabilityStatement",
  "status": "active",
  "kind": "instance-of-something-new",
  "date": 20240101,
  "fhirVersion": "4.0.1",
  "format": ["json", "application/fhir+json"],
  "rest": [
    {"mode": "client", "resource": [{"type": "Patient", "interaction": [{"code": "delete"}]}]},
    {"mode": "server",
     "security": {"service": [{"coding": [{"code": "SMART-on-FHIR"}]}]},
     "resource": [
       {"type": "Patient", "versioning": "versioned-update-new",
        "conditionalDelete": "some-future-mode",
        "interaction": [{"code": "read"}, {"code": 7}, {"code": "search-type"}, {"code": "frobnicate"}],
        "operation": [{"name": "everything", "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything"}]},
       {"type": "Observation", "interaction": [{"code": "create"}]}
     ],
     "interaction": [{"code": "transaction"}],
     "operation": [{"name": "$export"}]}
  ]
}`

func TestSupportsLenient(t *testing.T) {
	conn, _ := rawServer(t, func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, statement) })
	tests := []struct {
		typ  string
		i    string
		want bool
	}{
		{"Patient", "read", true},
		{"Patient", "search-type", true},
		{"Patient", "frobnicate", true},
		{"Patient", "delete", false}, // only the client-mode entry lists it
		{"Observation", "create", true},
		{"", "transaction", true},
		{"", "batch", false},
	}
	for _, tt := range tests {
		ok, err := conn.Supports(ctx(t), tt.typ, tt.i)
		require.NoError(t, err, "%s %s", tt.typ, tt.i)
		assert.Equal(t, tt.want, ok, "%s %s", tt.typ, tt.i)
	}
	for _, op := range []struct {
		typ, name string
		want      bool
	}{{"Patient", "$everything", true}, {"", "$export", true}, {"", "$everything", false}, {"Observation", "$lastn", false}, {"Patient", "everything", false}} {
		ok, err := conn.Supports(ctx(t), op.typ, op.name)
		require.NoError(t, err)
		assert.Equal(t, op.want, ok, "%s %s", op.typ, op.name)
	}
	v, err := conn.FHIRVersion(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, "4.0.1", v)

	if _, err := conn.Capabilities(ctx(t)); err != nil { // the models may refuse unknown codes
		var de *fhir.DecodeError
		assert.ErrorAs(t, err, &de)
	}
}
