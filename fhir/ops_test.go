package fhir_test

import (
	"encoding/json"
	"errors"
	"net/url"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir/fhirtest"
	"github.com/tokenwire/tokenwire/rest"
)

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
	assert.Equal(t, 1, srv.Hits("GET", "metadata"), "Capabilities answers from what Ping read")

	bad := statusConn(t, 200, `{"resourceType":"Patient"}`)
	assert.ErrorContains(t, bad.Ping(ctx(t)), "not a CapabilityStatement")
}
