package oauthclient_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

// The token endpoint comes from a discovery document, read once and kept
// for DiscoveryTTL; when reading it again fails, the endpoint found before
// keeps serving (an outage of .well-known never breaks token renewal).
func TestDiscoveryStaleIfError(t *testing.T) {
	clk := &manualClock{t: time.Now()}
	as := oauthtest.NewServer(oauthtest.WithClock(clk.now), oauthtest.WithTokenLifetime(2*time.Hour))
	t.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: "svc", Secret: "pw"})
	var reads atomic.Int32
	var down atomic.Bool
	doc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		reads.Add(1)
		if down.Load() {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, `{"token_endpoint":"`+as.TokenURL()+`","token_endpoint_auth_methods_supported":["client_secret_basic"]}`)
	}))
	t.Cleanup(doc.Close)
	src, err := oauthclient.NewSource(oauthclient.Config{Name: "d", DiscoveryURL: doc.URL, ClientID: "svc", ClientSecret: oauthclient.NewSecret("pw")},
		oauthclient.Options{Now: clk.now, AllowInsecureHTTP: true})
	require.NoError(t, err)

	_, err = src.TokenContext(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int32(1), reads.Load())

	clk.add(time.Hour + 3*time.Hour) // the token and the document are both old
	down.Store(true)
	_, err = src.TokenContext(context.Background())
	require.NoError(t, err, "the endpoint found before serves while the document is down")
	assert.Equal(t, int32(2), reads.Load(), "the document was read again")
	assert.Equal(t, 2, as.Requests("svc"))

	clk.add(3 * time.Hour)
	down.Store(false)
	_, err = src.TokenContext(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int32(3), reads.Load(), "read again soon after a failure")
}

// Without an endpoint found before, a document that cannot be read fails
// the fetch with an error naming the definition and the document.
func TestDiscoveryFailureWithoutEndpoint(t *testing.T) {
	doc := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(doc.Close)
	src, err := oauthclient.NewSource(oauthclient.Config{Name: "d", DiscoveryURL: doc.URL + "/.well-known/x?k=v", ClientID: "svc", ClientSecret: oauthclient.NewSecret("pw")},
		oauthclient.Options{AllowInsecureHTTP: true})
	require.NoError(t, err)
	_, err = src.TokenContext(context.Background())
	require.Error(t, err)
	assert.ErrorContains(t, err, `security definition "d": discovery: http://`)
	assert.ErrorContains(t, err, "status 404")
	assert.NotContains(t, err.Error(), "k=v", "query values are not echoed")
}

// A definition may name its issuer instead of its token endpoint: the
// endpoint is read from the issuer's RFC 8414 metadata, or else from its
// OpenID configuration, which must name the same issuer.
func TestIssuerDiscovery(t *testing.T) {
	for _, tc := range []struct {
		name, serve string // the well-known path the server answers
		issuerPath  string
	}{
		{"RFC 8414", "/.well-known/oauth-authorization-server/tenant-1", "/tenant-1"},
		{"OpenID", "/tenant-1/.well-known/openid-configuration", "/tenant-1"},
		{"RFC 8414 at the root", "/.well-known/oauth-authorization-server", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			as := oauthtest.NewServer()
			t.Cleanup(as.Close)
			as.AddClient(oauthtest.Client{ID: "svc", Secret: "pw"})
			var idp *httptest.Server
			var reads atomic.Int32
			idp = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != tc.serve {
					http.NotFound(w, r)
					return
				}
				reads.Add(1)
				_, _ = io.WriteString(w, `{"issuer":"`+idp.URL+tc.issuerPath+`","token_endpoint":"`+as.TokenURL()+`"}`)
			}))
			t.Cleanup(idp.Close)
			src, err := oauthclient.NewSource(oauthclient.Config{Name: "i", Issuer: idp.URL + tc.issuerPath, ClientID: "svc", ClientSecret: oauthclient.NewSecret("pw")},
				oauthclient.Options{AllowInsecureHTTP: true})
			require.NoError(t, err)
			_, err = src.TokenContext(context.Background())
			require.NoError(t, err)
			assert.Equal(t, int32(1), reads.Load())
			assert.Equal(t, 1, as.Requests("svc"))
		})
	}

	// A document naming another issuer is refused (RFC 8414 §3.3).
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"issuer":"https://evil.example","token_endpoint":"https://evil.example/token"}`)
	}))
	t.Cleanup(idp.Close)
	src, err := oauthclient.NewSource(oauthclient.Config{Name: "i", Issuer: idp.URL, ClientID: "svc", ClientSecret: oauthclient.NewSecret("pw")},
		oauthclient.Options{AllowInsecureHTTP: true})
	require.NoError(t, err)
	_, err = src.TokenContext(context.Background())
	assert.ErrorContains(t, err, "another issuer's")
	_, err = oauthclient.NewSource(oauthclient.Config{Name: "i", Issuer: "http://plain.example", ClientID: "svc", ClientSecret: oauthclient.NewSecret("pw")},
		oauthclient.Options{})
	var ce *oauthclient.ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "issuer", ce.Field)
}
