package fhirtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir/fhirtest"
)

// send makes one raw request to srv (path relative to the FHIR base) and
// returns the response with its body read.
func send(t *testing.T, srv *fhirtest.Server, method, path, body string, header map[string]string) (*http.Response, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+"/"+path, rd)
	require.NoError(t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

func seeded(t *testing.T) *fhirtest.Server {
	t.Helper()
	at := time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC)
	srv := fhirtest.NewServer(fhirtest.WithClock(func() time.Time { return at }))
	t.Cleanup(srv.Close)
	_, err := srv.Seed(`{"resourceType":"Patient","id":"a","name":[{"family":"Twin"}],"active":true}`,
		`{"resourceType":"Patient","id":"b","name":[{"family":"Twin"}]}`,
		`{"resourceType":"Patient","id":"c","name":[{"family":"Solo"}]}`)
	require.NoError(t, err)
	return srv
}

func TestConditionalRead(t *testing.T) {
	srv := seeded(t)
	resp, body := send(t, srv, "GET", "Patient/a", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, `W/"1"`, resp.Header.Get("ETag"))
	assert.Equal(t, "Thu, 29 Feb 2024 12:00:00 GMT", resp.Header.Get("Last-Modified"))
	assert.Contains(t, body, `"family":"Twin"`)

	tests := []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"weak etag", map[string]string{"If-None-Match": `W/"1"`}, http.StatusNotModified},
		{"strong etag", map[string]string{"If-None-Match": `"1"`}, http.StatusNotModified},
		{"in a list", map[string]string{"If-None-Match": `W/"7", W/"1"`}, http.StatusNotModified},
		{"star", map[string]string{"If-None-Match": `*`}, http.StatusNotModified},
		{"other version", map[string]string{"If-None-Match": `W/"2"`}, http.StatusOK},
		{"unquoted", map[string]string{"If-None-Match": `1`}, http.StatusOK},
		{"not modified since", map[string]string{"If-Modified-Since": "Thu, 29 Feb 2024 12:00:00 GMT"}, http.StatusNotModified},
		{"modified since", map[string]string{"If-Modified-Since": "Thu, 29 Feb 2024 11:59:59 GMT"}, http.StatusOK},
		{"etag wins over date", map[string]string{"If-None-Match": `W/"2"`, "If-Modified-Since": "Thu, 29 Feb 2024 12:00:00 GMT"}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := send(t, srv, "GET", "Patient/a", "", tt.header)
			assert.Equal(t, tt.want, resp.StatusCode)
			assert.Equal(t, `W/"1"`, resp.Header.Get("ETag"))
			if tt.want == http.StatusNotModified {
				assert.Empty(t, body, "a 304 has no body")
			}
		})
	}
	resp, _ = send(t, srv, "GET", "Patient/a/_history/1", "", map[string]string{"If-None-Match": `W/"1"`})
	assert.Equal(t, http.StatusNotModified, resp.StatusCode, "a vread too")
}

func TestDeleteIfMatch(t *testing.T) {
	srv := seeded(t)
	resp, body := send(t, srv, "DELETE", "Patient/a", "", map[string]string{"If-Match": `W/"2"`})
	assert.Equal(t, http.StatusPreconditionFailed, resp.StatusCode)
	assert.Contains(t, body, `"code":"processing"`)
	_, ok := srv.Resource("Patient", "a")
	assert.True(t, ok)

	resp, _ = send(t, srv, "DELETE", "Patient/a", "", map[string]string{"If-Match": `W/"1"`})
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = send(t, srv, "DELETE", "Patient/a", "", map[string]string{"If-Match": `W/"1"`})
	assert.Equal(t, http.StatusPreconditionFailed, resp.StatusCode, "no current version to match")
	resp, _ = send(t, srv, "DELETE", "Patient/a", "", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "an unconditional delete of a deleted resource")
}

const patchType = "application/json-patch+json"

func TestPatchIfMatch(t *testing.T) {
	srv := seeded(t)
	ops := `[{"op":"replace","path":"/active","value":false}]`
	resp, _ := send(t, srv, "PATCH", "Patient/a", ops, map[string]string{"Content-Type": patchType, "If-Match": `W/"9"`})
	assert.Equal(t, http.StatusPreconditionFailed, resp.StatusCode)
	resp, _ = send(t, srv, "PATCH", "Patient/a", `[{"op":"remove","path":"/nope"}]`, map[string]string{"Content-Type": patchType, "If-Match": `W/"9"`})
	assert.Equal(t, http.StatusPreconditionFailed, resp.StatusCode, "the precondition is checked first")
	resp, _ = send(t, srv, "PATCH", "Patient/a", ops, map[string]string{"Content-Type": patchType, "If-Match": `"1"`})
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, `W/"2"`, resp.Header.Get("ETag"))
}

func TestConditionalPatch(t *testing.T) {
	srv := seeded(t)
	ops := `[{"op":"add","path":"/active","value":false}]`
	h := map[string]string{"Content-Type": patchType}
	tests := []struct {
		name, query string
		want        int
	}{
		{"several", "family=Twin", http.StatusPreconditionFailed},
		{"none", "family=Nobody", http.StatusNotFound},
		{"no criteria", "_count=1", http.StatusBadRequest},
		{"unknown parameter", "shoe-size=9", http.StatusBadRequest},
		{"one", "family=Solo", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _ := send(t, srv, "PATCH", "Patient?"+tt.query, ops, h)
			assert.Equal(t, tt.want, resp.StatusCode)
		})
	}
	b, ok := srv.Resource("Patient", "c")
	require.True(t, ok)
	assert.Contains(t, string(b), `"active":false`)
	assert.Contains(t, string(b), `"versionId":"2"`)
}

func TestMetadataListsInteractions(t *testing.T) {
	srv := seeded(t)
	resp, body := send(t, srv, "GET", "metadata", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var cs struct {
		ResourceType string `json:"resourceType"`
		FhirVersion  string `json:"fhirVersion"`
		Rest         []struct {
			Resource []struct {
				Type            string `json:"type"`
				ConditionalRead string `json:"conditionalRead"`
				Interaction     []struct {
					Code string `json:"code"`
				} `json:"interaction"`
			} `json:"resource"`
			Interaction []struct {
				Code string `json:"code"`
			} `json:"interaction"`
		} `json:"rest"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &cs))
	assert.Equal(t, "CapabilityStatement", cs.ResourceType)
	assert.Equal(t, "4.0.1", cs.FhirVersion)
	require.Len(t, cs.Rest, 1)
	var patient []string
	for _, r := range cs.Rest[0].Resource {
		if r.Type == "Patient" {
			assert.Equal(t, "full-support", r.ConditionalRead)
			for _, i := range r.Interaction {
				patient = append(patient, i.Code)
			}
		}
	}
	assert.ElementsMatch(t, []string{"read", "vread", "update", "patch", "delete", "history-instance",
		"history-type", "create", "search-type"}, patient)
	var system []string
	for _, i := range cs.Rest[0].Interaction {
		system = append(system, i.Code)
	}
	assert.ElementsMatch(t, []string{"batch", "transaction", "history-system"}, system)
}
