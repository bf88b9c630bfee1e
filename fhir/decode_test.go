package fhir_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
)

func TestDecodeFixtures(t *testing.T) {
	p := examplePatient(t)
	assert.Equal(t, "example", *p.Id)
	assert.Equal(t, "Windsor", *p.Name[2].Family)
	assert.Equal(t, "du Marché", *p.Contact[0].Name.Family)

	obs, err := fhir.Decode[models.Observation](fixture(t, "observation-example.json"))
	require.NoError(t, err)
	assert.Equal(t, "29463-7", *obs.Code.Coding[0].Code)

	b, err := fhir.Decode[models.Bundle](fixture(t, "bundle-searchset.json"))
	require.NoError(t, err)
	assert.Equal(t, 3, *b.Total)
	assert.Len(t, b.Entry, 2)
}

func TestDecodeErrorNamesTypeAndPath(t *testing.T) {
	tests := []struct {
		name     string
		json     string
		wantPath string
	}{
		{"wrong JSON type", `{"resourceType":"Patient","active":"yes"}`, "active"},
		{"nested wrong type", `{"resourceType":"Patient","name":[{"given":[1]}]}`, "name.given"},
		{"unknown enum code", `{"resourceType":"Patient","gender":"mal"}`, "gender"},
		{"nested enum code", `{"resourceType":"Patient","name":[{"use":"nick"}]}`, "name.0.use"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := fhir.Decode[models.Patient]([]byte(tt.json))
			var de *fhir.DecodeError
			require.ErrorAs(t, err, &de)
			assert.Equal(t, "Patient", de.ResourceType)
			assert.Equal(t, tt.wantPath, de.Path)
			assert.Contains(t, err.Error(), "decoding Patient at \""+tt.wantPath+"\"")
		})
	}

	_, err := fhir.Decode[models.Patient]([]byte(`{"resourceType":"Observation"}`))
	assert.ErrorContains(t, err, `decoding Patient at "resourceType": got "Observation"`)
	_, err = fhir.Decode[models.Patient]([]byte(`{"resourceType":"Patient",`))
	assert.ErrorContains(t, err, "decoding Patient at offset 26")
}

func TestDecodeErrorFromServer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprint(w, `{"resourceType":"Patient","id":"1","birthDate":19741225}`)
	}))
	t.Cleanup(srv.Close)
	conn, err := fhir.New("ehr", srv.URL, srv.Client())
	require.NoError(t, err)
	_, err = fhir.Read[models.Patient](ctx(t), conn, "1")
	var de *fhir.DecodeError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "birthDate", de.Path)
}

func TestDecodeResourceDispatch(t *testing.T) {
	tests := []struct {
		json string
		want any
	}{
		{`{"resourceType":"Patient","id":"a"}`, &models.Patient{}},
		{`{"resourceType":"Observation","status":"final","code":{}}`, &models.Observation{}},
		{`{"resourceType":"Encounter","status":"planned","class":{}}`, &models.Encounter{}},
		{`{"resourceType":"OperationOutcome","issue":[]}`, &models.OperationOutcome{}},
		{`{"resourceType":"Parameters"}`, &models.Parameters{}},
		{`{"resourceType":"Basic","code":{}}`, json.RawMessage{}},
		{`{"resourceType":"FutureThing"}`, json.RawMessage{}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%T", tt.want), func(t *testing.T) {
			v, err := fhir.DecodeResource([]byte(tt.json))
			require.NoError(t, err)
			assert.IsType(t, tt.want, v)
			if raw, ok := v.(json.RawMessage); ok {
				assert.JSONEq(t, tt.json, string(raw))
			}
		})
	}
	_, err := fhir.DecodeResource([]byte(`{"id":"x"}`))
	assert.ErrorContains(t, err, "missing resourceType")
}

func TestEnumDecodeErrorOmitsTheValue(t *testing.T) {
	_, err := fhir.Decode[models.Patient]([]byte(`{"resourceType":"Patient","gender":"ssn 123-45-6789"}`))
	var de *fhir.DecodeError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "gender", de.Path)
	assert.ErrorContains(t, err, `decoding Patient at "gender"`)
	assert.ErrorContains(t, err, "AdministrativeGender")
	assert.NotContains(t, err.Error(), "123-45-6789", "the value may be patient data")
}
