package fhirtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir/fhirtest"
)

// call posts body (or GETs when body is "") to path and returns the
// status and the decoded answer.
func call(t *testing.T, srv *fhirtest.Server, path, body string) (int, map[string]any) {
	t.Helper()
	method, rd := http.MethodGet, io.Reader(nil)
	if body != "" {
		method, rd = http.MethodPost, strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+"/"+path, rd)
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/fhir+json")
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// param returns the value of the parameter name of a Parameters answer.
func param(out map[string]any, name string) any {
	ps, _ := out["parameter"].([]any)
	for _, p := range ps {
		m := p.(map[string]any)
		if m["name"] == name {
			for k, v := range m {
				if strings.HasPrefix(k, "value") {
					return v
				}
			}
		}
	}
	return nil
}

// The terminology operations take their inputs as a Parameters body too,
// a coding as valueCoding.
func TestTerminologyByPost(t *testing.T) {
	srv := fhirtest.NewServer()
	t.Cleanup(srv.Close)
	status, out := call(t, srv, "ValueSet/$expand", `{"resourceType":"Parameters","parameter":[
		{"name":"url","valueUri":"http://example.org/fhir/ValueSet/lab-tests"},
		{"name":"filter","valueString":"gluc"},{"name":"count","valueInteger":1}]}`)
	require.Equal(t, http.StatusOK, status, out)
	exp := out["expansion"].(map[string]any)
	assert.Equal(t, 2.0, exp["total"], "GLU and GLU-OLD")
	assert.Len(t, exp["contains"], 1)

	status, out = call(t, srv, "CodeSystem/$lookup", `{"resourceType":"Parameters","parameter":[
		{"name":"coding","valueCoding":{"system":"http://example.org/fhir/CodeSystem/lab-tests","code":"K"}}]}`)
	require.Equal(t, http.StatusOK, status, out)
	assert.Equal(t, "Potassium", param(out, "display"))
	assert.Equal(t, "LabTests", param(out, "name"))

	status, out = call(t, srv, "ValueSet/$validate-code?url=http://example.org/fhir/ValueSet/lab-tests&system=http://example.org/fhir/CodeSystem/lab-tests&code=GLU-OLD", "")
	require.Equal(t, http.StatusOK, status, out)
	assert.Equal(t, true, param(out, "result"))

	status, _ = call(t, srv, "CodeSystem/$lookup?system=http://example.org/none&code=x", "")
	assert.Equal(t, http.StatusNotFound, status)
	status, _ = call(t, srv, "Patient/$lookup?system=x&code=y", "")
	assert.Equal(t, http.StatusNotFound, status, "not an operation of Patient")
}

func TestValidateRules(t *testing.T) {
	srv := fhirtest.NewServer()
	t.Cleanup(srv.Close)
	tests := []struct {
		name, path, body string
		status           int
		want             []string // severity code expression
	}{
		{"valid", "Observation/$validate", `{"resourceType":"Observation","status":"final","code":{"text":"x"}}`,
			200, []string{"information informational "}},
		{"choice element", "MedicationRequest/$validate", `{"resourceType":"MedicationRequest","status":"active",
			"intent":"order","subject":{"reference":"Patient/1"}}`, 200, []string{"error required MedicationRequest.medication[x]"}},
		{"choice element present", "MedicationRequest/$validate", `{"resourceType":"MedicationRequest","status":"active",
			"intent":"order","subject":{"reference":"Patient/1"},"medicationCodeableConcept":{"text":"x"}}`,
			200, []string{"information informational "}},
		{"bad status", "Observation/$validate", `{"resourceType":"Observation","status":"done","code":{"text":"x"}}`,
			200, []string{"error code-invalid Observation.status"}},
		{"wrong type", "Patient/$validate", `{"resourceType":"Observation"}`, 200, []string{"error invalid Patient"}},
		{"vital signs profile", "Observation/$validate", `{"resourceType":"Parameters","parameter":[
			{"name":"resource","resource":{"resourceType":"Observation","status":"final","code":{"text":"x"}}},
			{"name":"profile","valueUri":"http://hl7.org/fhir/StructureDefinition/vitalsigns"}]}`, 200,
			[]string{"error required Observation.category", "error required Observation.subject", "error required Observation.effective[x]"}},
		{"profile of another type", "Patient/$validate", `{"resourceType":"Parameters","parameter":[
			{"name":"resource","resource":{"resourceType":"Patient"}},
			{"name":"profile","valueUri":"http://hl7.org/fhir/StructureDefinition/vitalsigns"}]}`, 200, []string{"error invalid Patient"}},
		{"not JSON", "Patient/$validate", `{`, 400, []string{"error structure "}},
		{"update at the type level", "Patient/$validate", `{"resourceType":"Parameters","parameter":[
			{"name":"resource","resource":{"resourceType":"Patient"}},{"name":"mode","valueCode":"update"}]}`, 400, []string{"error invalid "}},
		{"delete of an unknown one", "Patient/9/$validate", `{"resourceType":"Parameters","parameter":[
			{"name":"mode","valueCode":"delete"}]}`, 404, []string{"error not-found "}},
		{"no resource", "Patient/$validate", `{"resourceType":"Parameters","parameter":[]}`, 400, []string{"error required "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, out := call(t, srv, tt.path, tt.body)
			assert.Equal(t, tt.status, status)
			var got []string
			for _, is := range out["issue"].([]any) {
				m := is.(map[string]any)
				expr := ""
				if e, ok := m["expression"].([]any); ok {
					expr = e[0].(string)
					assert.Equal(t, e, m["location"])
				}
				got = append(got, m["severity"].(string)+" "+m["code"].(string)+" "+expr)
			}
			assert.Equal(t, tt.want, got)
		})
	}
	status, _ := call(t, srv, "Patient/$validate", "")
	assert.Equal(t, http.StatusMethodNotAllowed, status)
}

// Searches past 8 KiB: the GET is refused with 414 before the server
// counts it, the POST _search works, and its paging links are short.
func TestLongSearch(t *testing.T) {
	srv := fhirtest.NewServer(fhirtest.WithPageSize(2))
	t.Cleanup(srv.Close)
	_, err := srv.Seed(`{"resourceType":"Patient","id":"a"}`, `{"resourceType":"Patient","id":"b"}`, `{"resourceType":"Patient","id":"c"}`)
	require.NoError(t, err)
	long := "_elements=" + strings.Repeat("name,", 2000)
	status, _ := call(t, srv, "Patient?"+long, "")
	assert.Equal(t, http.StatusRequestURITooLong, status)
	assert.Zero(t, srv.Hits("GET", "Patient"))

	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/Patient/_search", strings.NewReader(long))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	var bundle struct {
		Link []struct{ Relation, URL string }
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&bundle))
	_ = resp.Body.Close()
	require.Len(t, bundle.Link, 2)
	next := bundle.Link[1].URL
	assert.Less(t, len(next), 200)
	assert.Contains(t, next, "_getpages=")
	status, out := call(t, srv, strings.TrimPrefix(next, srv.URL+"/"), "")
	assert.Equal(t, http.StatusOK, status)
	assert.Len(t, out["entry"], 1, "the third patient")

	status, _ = call(t, srv, "Patient?_getpages=999", "")
	assert.Equal(t, http.StatusGone, status)
}
