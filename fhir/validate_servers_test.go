package fhir_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
)

// $validate as both servers answer it: a valid resource is valid with no
// error issue; one that lacks a required element (Observation.status,
// 1..1 in R4) is invalid — a result, not an error — with an error issue
// whose expression names the element, whether the server answers 200 or
// 400 (the real server does the latter).
func TestValidateOnBothServers(t *testing.T) {
	forEachServer(t, func(t *testing.T, c *fhir.Conn, srv serverKind) {
		ctx := context.Background()
		code := models.CodeableConcept{Coding: []models.Coding{{System: ptr("http://loinc.org"), Code: ptr("8867-4")}}}
		good := &models.Observation{Status: models.ObservationStatusFinal, Code: code}
		valid, issues, err := fhir.Validate(ctx, c, good, "", "")
		require.NoError(t, err)
		assert.True(t, valid, "%+v", issues)
		for _, is := range issues {
			assert.NotContains(t, []string{"error", "fatal"}, is.Severity, "%+v", is)
		}

		bad := json.RawMessage(`{"resourceType":"Observation","code":{"text":"heart rate"}}`) // no status
		valid, issues, err = fhir.Validate(ctx, c, &bad, "", "")
		require.NoError(t, err, "an invalid resource is a result")
		assert.False(t, valid)
		named := false
		for _, is := range issues {
			for _, e := range is.Expression {
				named = named || (is.Severity == "error" && strings.Contains(e, "status"))
			}
		}
		assert.True(t, named, "an error issue names Observation.status: %+v", issues)
	})
}
