package fhir_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/fhir/fhirtest"
)

// fixedClock is a clock tests move by hand.
type fixedClock struct{ t time.Time }

func (c *fixedClock) Now() time.Time { return c.t }

func setup(t *testing.T, opts ...fhirtest.Option) (*fhirtest.Server, *fhir.Conn) {
	t.Helper()
	srv := fhirtest.NewServer(opts...)
	t.Cleanup(srv.Close)
	return srv, srv.Conn("ehr")
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

func examplePatient(t testing.TB) *models.Patient {
	t.Helper()
	p, err := fhir.Decode[models.Patient](fixture(t, "patient-example.json"))
	require.NoError(t, err)
	return p
}

func ptr[T any](v T) *T { return &v }

func ctx(t *testing.T) context.Context { return t.Context() }
