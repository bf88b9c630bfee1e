package fhir_test

import (
	"net/http"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/internal/suites"
	"github.com/tokenwire/tokenwire/rest"
)

// The real server, started beside the oidc-provider, wants that
// provider's tokens for its base URL: without one it answers 401 (login);
// the harness's connection gets them as SMART Backend Services, the token
// endpoint read from the server's SMART configuration.
func TestRealServerWantsSMARTTokens(t *testing.T) {
	conn := realConn(t)
	suites.Interop.Require(t) // the server checks tokens only beside the oidc-provider
	bare, err := fhir.New("ehr", conn.BaseURL(), http.DefaultClient)
	require.NoError(t, err)
	require.NoError(t, bare.Ping(ctx(t)), "metadata needs no token")
	_, err = fhir.Read[models.Patient](ctx(t), bare, unique(t))
	require.ErrorIs(t, err, rest.ErrUnauthorized)
	var fe *fhir.Error
	require.ErrorAs(t, err, &fe)
	require.NotEmpty(t, fe.Issues)
	assert.Equal(t, "login", fe.Issues[0].Code)

	_, err = fhir.Read[models.Patient](ctx(t), conn, unique(t))
	assert.ErrorIs(t, err, rest.ErrNotFound, "with a token the server looks")
}
