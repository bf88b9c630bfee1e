package fhir

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The type of a resource written in a form the scanners leave to
// encoding/json (an escape, the member not first) is still read.
func TestResourceTypeFallsBackToEncodingJSON(t *testing.T) {
	for doc, want := range map[string]string{
		`{"resourceType":"Pat\u0069ent"}`:             "Patient",
		`{"id":"1","resourceType":"Observation"}`:     "Observation",
		`{"resourceType":"A","resourceType":"Basic"}`: "Basic",
	} {
		rt, err := resourceTypeOf([]byte(doc))
		require.NoError(t, err, doc)
		assert.Equal(t, want, rt, doc)
	}
}

func TestResourceTypeAgreesWithEncodingJSON(t *testing.T) {
	tests := []struct{ name, json, want string }{
		{"duplicate key: the last wins", `{"resourceType":"Patient","id":"1","resourceType":"Observation"}`, "Observation"},
		{"case-folded key after", `{"resourceType":"Patient","ResourceType":"Observation"}`, "Observation"},
		{"case-folded key before", `{"RESOURCETYPE":"Observation","resourceType":"Patient"}`, "Patient"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt, err := resourceTypeOf([]byte(tt.json))
			require.NoError(t, err)
			assert.Equal(t, tt.want, rt)
		})
	}
}
