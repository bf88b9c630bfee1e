package fhir_test

import (
	"net/http"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/fhir/fhirtest"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
	"github.com/tokenwire/tokenwire/rest"
)

// protected returns an authorization server, a FHIR server that accepts
// only its tokens, and a connection whose client is oauthclient's.
func protected(t *testing.T) (*oauthtest.Server, *fhirtest.Server, *fhir.Conn) {
	t.Helper()
	as := oauthtest.NewServer()
	t.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: "ehr-client", Secret: "s3cret", Scopes: []string{"system/*.read"}})
	fs := fhirtest.NewServer(fhirtest.WithTokenCheck(as.Valid))
	t.Cleanup(fs.Close)

	src, err := oauthclient.NewSource(oauthclient.Config{Name: "ehr", TokenURL: as.TokenURL(), ClientID: "ehr-client",
		ClientSecret: oauthclient.NewSecret("s3cret"), Scopes: []string{"system/*.read"}}, oauthclient.Options{AllowInsecureHTTP: true})
	require.NoError(t, err)
	client, err := oauthclient.NewClient(src, fs.URL)
	require.NoError(t, err)
	conn, err := fhir.New("ehr", fs.URL, client)
	require.NoError(t, err)
	_, err = fs.Seed(examplePatient(t))
	require.NoError(t, err)
	return as, fs, conn
}

func TestTokenAttachedAndCached(t *testing.T) {
	as, fs, conn := protected(t)
	for range 3 {
		_, err := fhir.Read[models.Patient](ctx(t), conn, "example")
		require.NoError(t, err)
	}
	assert.Equal(t, 1, as.Requests("ehr-client"), "one token for three reads")
	assert.Equal(t, 3, fs.Hits("GET", "Patient/example"))
}

func TestUnauthorizedRenewsAndRetries(t *testing.T) {
	tests := []struct {
		name       string
		reject     func(as *oauthtest.Server, fs *fhirtest.Server)
		wantErr    bool
		wantTokens int
		wantHits   int
	}{
		{"one 401 is survived", func(_ *oauthtest.Server, fs *fhirtest.Server) { fs.FailNext(1, http.StatusUnauthorized) }, false, 2, 2},
		{"rejected token is replaced", func(_ *oauthtest.Server, fs *fhirtest.Server) { fs.RejectToken(fs.LastToken()) }, false, 2, 2},
		{"revoked at the authorization server", func(as *oauthtest.Server, _ *fhirtest.Server) { as.RevokeAll() }, false, 2, 2},
		{"two 401s fail", func(_ *oauthtest.Server, fs *fhirtest.Server) { fs.FailNext(2, http.StatusUnauthorized) }, true, 2, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as, fs, conn := protected(t)
			require.NoError(t, conn.Ping(ctx(t)))
			_, err := fhir.Read[models.Patient](ctx(t), conn, "example") // warm: one token
			require.NoError(t, err)
			tt.reject(as, fs)

			_, err = fhir.Read[models.Patient](ctx(t), conn, "example")
			if tt.wantErr {
				assert.ErrorIs(t, err, rest.ErrUnauthorized)
				assert.NotContains(t, err.Error(), fs.LastToken(), "no token in errors")
			} else {
				assert.NoError(t, err)
			}
			assert.Equal(t, tt.wantTokens, as.Requests("ehr-client"))
			assert.Equal(t, 1+tt.wantHits, fs.Hits("GET", "Patient/example"))
		})
	}
}

func TestNoTokenIsUnauthorized(t *testing.T) {
	_, fs, _ := protected(t)
	conn, err := fhir.New("ehr", fs.URL, http.DefaultClient)
	require.NoError(t, err)
	_, err = fhir.Read[models.Patient](ctx(t), conn, "example")
	var fe *fhir.Error
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, http.StatusUnauthorized, fe.StatusCode)
	assert.Equal(t, "login", fe.Issues[0].Code)
}
