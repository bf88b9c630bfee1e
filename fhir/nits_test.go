package fhir_test

import (
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
)

func TestEnumDecodeErrorOmitsTheValue(t *testing.T) {
	_, err := fhir.Decode[models.Patient]([]byte(`{"resourceType":"Patient","gender":"ssn 123-45-6789"}`))
	var de *fhir.DecodeError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, "gender", de.Path)
	assert.ErrorContains(t, err, `decoding Patient at "gender"`)
	assert.ErrorContains(t, err, "AdministrativeGender")
	assert.NotContains(t, err.Error(), "123-45-6789", "the value may be patient data")
}

func TestBatchAndTransactionRefuseNilBundle(t *testing.T) {
	srv, conn := setup(t)
	_, err := conn.Batch(ctx(t), nil)
	assert.ErrorContains(t, err, "nil bundle")
	_, err = conn.Transaction(ctx(t), nil)
	assert.ErrorContains(t, err, "nil bundle")
	assert.Zero(t, srv.Requests())
}
