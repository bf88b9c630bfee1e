package oauthclient_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/oauthclient"
)

// A token_url that points at the wrong path (a 404 page, a 401 of another
// service) shows itself in the error, with its query values blanked: the
// user sees which endpoint answered, not only "HTTP 404".
func TestTokenErrorNamesTheEndpoint(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	src, err := oauthclient.NewSource(oauthclient.Config{
		Name: "crm-oauth", TokenURL: srv.URL + "/oauth/tokn?tenant=acme-private", ClientID: "svc",
		ClientSecret: oauthclient.NewSecret("s3cret"),
	}, oauthclient.Options{HTTPClient: srv.Client(), AllowInsecureHTTP: true})
	require.NoError(t, err)
	t.Cleanup(src.Close)

	_, err = src.TokenContext(context.Background())
	var e *oauthclient.Error
	require.True(t, errors.As(err, &e), "%T: %v", err, err)
	assert.Equal(t, http.StatusNotFound, e.StatusCode)
	assert.Contains(t, err.Error(), `security definition "crm-oauth": token request to `+srv.URL+`/oauth/tokn?tenant=[redacted] failed (HTTP 404)`)
	assert.NotContains(t, err.Error(), "acme-private")
	assert.NotContains(t, err.Error(), "s3cret")
}
