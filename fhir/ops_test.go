package fhir_test

import (
	"encoding/json"
	"errors"
	"net/url"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/fhir/fhirtest"
	"github.com/tokenwire/tokenwire/rest"
)

func entry(t *testing.T, method, url string, res any) models.BundleEntry {
	t.Helper()
	e, err := fhir.NewEntry(method, url, res)
	require.NoError(t, err)
	return e
}

func TestTransactionResolvesReferences(t *testing.T) {
	srv, conn := setup(t)
	pat := entry(t, "POST", "Patient", &models.Patient{Name: []models.HumanName{{Family: ptr("Doe")}}})
	pat.FullUrl = ptr("urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a")
	obs := entry(t, "POST", "Observation", &models.Observation{Status: models.ObservationStatusFinal,
		Subject: &models.Reference{Reference: ptr("urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a")}})

	out, err := conn.Transaction(ctx(t), &models.Bundle{Entry: []models.BundleEntry{obs, pat}})
	require.NoError(t, err)
	assert.Equal(t, models.BundleTypeTransactionResponse, out.Type)
	require.Len(t, out.Entry, 2)
	status, loc, issues := fhir.EntryResult(out.Entry[1])
	assert.Equal(t, 201, status)
	assert.Contains(t, loc, "/Patient/")
	assert.Empty(t, issues)

	o, err := fhir.Decode[models.Observation](out.Entry[0].Resource)
	require.NoError(t, err)
	assert.Regexp(t, `^Patient/\d+$`, *o.Subject.Reference)
	assert.Equal(t, 1, srv.Requests(), "one round trip")
}

func TestTransactionRollsBack(t *testing.T) {
	srv, conn := setup(t)
	_, err := srv.Seed(examplePatient(t))
	require.NoError(t, err)
	b := &models.Bundle{Entry: []models.BundleEntry{
		entry(t, "POST", "Patient", &models.Patient{}),
		entry(t, "DELETE", "Patient/example", nil),
		entry(t, "GET", "Patient/none", nil),
	}}
	_, err = conn.Transaction(ctx(t), b)
	assert.ErrorIs(t, err, rest.ErrNotFound)
	_, ok := srv.Resource("Patient", "example")
	assert.True(t, ok, "the delete was rolled back")
	_, ok = srv.Resource("Patient", "1")
	assert.False(t, ok, "the create was rolled back")
}

func TestBatchEntriesFailAlone(t *testing.T) {
	srv, conn := setup(t)
	_, err := srv.Seed(examplePatient(t))
	require.NoError(t, err)
	out, err := conn.Batch(ctx(t), &models.Bundle{Entry: []models.BundleEntry{
		entry(t, "GET", "Patient/example", nil),
		entry(t, "GET", "Patient/none", nil),
		entry(t, "PUT", "Patient/example", examplePatient(t)),
	}})
	require.NoError(t, err)
	assert.Equal(t, models.BundleTypeBatchResponse, out.Type)
	codes := []int{}
	for _, e := range out.Entry {
		s, _, _ := fhir.EntryResult(e)
		codes = append(codes, s)
	}
	assert.Equal(t, []int{200, 404, 200}, codes)
	_, _, issues := fhir.EntryResult(out.Entry[1])
	require.Len(t, issues, 1)
	assert.Equal(t, "not-found", issues[0].Code)
}

func TestOperations(t *testing.T) {
	var gotTarget string
	var gotParams url.Values
	echo := func(target string, params url.Values, body []byte) (any, error) {
		gotTarget, gotParams = target, params
		if len(body) == 0 {
			return models.Parameters{Parameter: []models.ParametersParameter{{Name: "n", ValueString: ptr(params.Get("n"))}}}, nil
		}
		return json.RawMessage(body), nil
	}
	failing := func(string, url.Values, []byte) (any, error) { return nil, errors.New("nope") }
	_, conn := setup(t, fhirtest.WithOperation("echo", echo), fhirtest.WithOperation("$fail", failing))

	out, err := conn.Operation(ctx(t), "Patient/7", "$echo", nil)
	require.NoError(t, err)
	assert.Equal(t, "Patient/7", gotTarget)
	assert.Empty(t, gotParams)
	p, ok := out.(*models.Parameters)
	require.True(t, ok, "%T", out)
	assert.Empty(t, p.Parameter, "nil in sends an empty Parameters")

	in := &models.Parameters{Parameter: []models.ParametersParameter{{Name: "x", ValueBoolean: ptr(true)}}}
	out, err = conn.Operation(ctx(t), "", "echo", in)
	require.NoError(t, err)
	assert.Equal(t, "", gotTarget)
	assert.True(t, *out.(*models.Parameters).Parameter[0].ValueBoolean)

	_, err = conn.Operation(ctx(t), "Patient", "fail", nil)
	assert.ErrorIs(t, err, rest.ErrBadRequest)
	_, err = conn.Operation(ctx(t), "Patient", "missing", nil)
	assert.ErrorIs(t, err, rest.ErrNotFound)
	_, err = conn.Operation(ctx(t), "Patient/1/x", "echo", nil)
	assert.ErrorContains(t, err, "invalid operation target")
}

func TestCapabilitiesAndPing(t *testing.T) {
	srv, conn := setup(t, fhirtest.WithTokenCheck(func(string) bool { return false }))
	require.NoError(t, conn.Ping(ctx(t)), "metadata needs no token")
	cs, err := conn.Capabilities(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, "4.0.1", cs.FhirVersion.Code())
	assert.NotEmpty(t, cs.Rest[0].Resource)
	assert.Equal(t, 2, srv.Hits("GET", "metadata"))

	bad := statusConn(t, 200, `{"resourceType":"Patient"}`)
	assert.ErrorContains(t, bad.Ping(ctx(t)), "not a CapabilityStatement")
}

func TestBatchAndTransactionRefuseNilBundle(t *testing.T) {
	srv, conn := setup(t)
	_, err := conn.Batch(ctx(t), nil)
	assert.ErrorContains(t, err, "nil bundle")
	_, err = conn.Transaction(ctx(t), nil)
	assert.ErrorContains(t, err, "nil bundle")
	assert.Zero(t, srv.Requests())
}
