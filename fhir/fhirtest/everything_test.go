package fhirtest_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir/fhirtest"
)

func TestEverythingRoutes(t *testing.T) {
	srv := seeded(t)
	_, err := srv.Seed(`{"resourceType":"Observation","id":"o","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/c"}}`)
	require.NoError(t, err)

	resp, body := send(t, srv, "GET", "Patient/$everything?_type=Patient", "", nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, body)
	var b struct{ Total int }
	require.NoError(t, json.Unmarshal([]byte(body), &b))
	assert.Equal(t, 3, b.Total, "every patient")

	resp, _ = send(t, srv, "POST", "Patient/c/$everything", `{"resourceType":"Parameters"}`, nil)
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	resp, _ = send(t, srv, "GET", "Patient/zz/$everything", "", nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	resp, _ = send(t, srv, "GET", "Patient/c/$everything?_since=soon", "", nil)
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)

	mine := fhirtest.NewServer(fhirtest.WithOperation("everything", func(target string, _ url.Values, _ []byte) (any, error) {
		return map[string]any{"resourceType": "Bundle", "type": "searchset", "id": target}, nil
	}))
	defer mine.Close()
	resp, body = send(t, mine, "GET", "Patient/c/$everything", "", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, body, `"id":"Patient/c"`, "a registered operation replaces it")
}
