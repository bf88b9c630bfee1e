package fhir_test

import (
	"context"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/fhir/fhirtest"
)

// UsePost keeps a short search's values out of the URL: it goes as POST
// _search; without it the same search goes by GET.
func TestUsePostSendsEvenAShortSearchByPost(t *testing.T) {
	srv := fhirtest.NewServer()
	defer srv.Close()
	ctx := context.Background()
	_, err := srv.Seed(`{"resourceType":"Patient","id":"p1","identifier":[{"system":"urn:mrn","value":"MRN-4711"}]}`)
	require.NoError(t, err)
	q := fhir.Params().Add("identifier", "urn:mrn|MRN-4711")
	count := func(opts ...fhir.SearchOption) int {
		n := 0
		for _, err := range fhir.Search[models.Patient](ctx, srv.Conn("ehr"), q, opts...) {
			require.NoError(t, err)
			n++
		}
		return n
	}
	assert.Equal(t, 1, count(fhir.UsePost()))
	assert.Equal(t, 1, srv.Hits("POST", "Patient/_search"))
	assert.Equal(t, 0, srv.Hits("GET", "Patient"))
	assert.Equal(t, 1, count())
	assert.Equal(t, 1, srv.Hits("GET", "Patient"), "without UsePost a short search goes by GET")
}
