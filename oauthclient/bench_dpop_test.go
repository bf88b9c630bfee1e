package oauthclient_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

// BenchmarkDPoPGET measures a DPoP-bound GET (an ES256 proof signed per
// request) beside a Bearer GET through the same transport and a raw
// client with a fixed header, against a loopback backend that only checks
// the scheme (so that the server's verification is not measured).
func BenchmarkDPoPGET(b *testing.B) {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"id":42}`)
	}))
	b.Cleanup(api.Close)
	as := oauthtest.NewServer()
	b.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: "svc", Secret: "pw"})
	client := func(dpop bool) *http.Client {
		src, err := oauthclient.NewSource(oauthclient.Config{Name: "b", TokenURL: as.TokenURL(), ClientID: "svc",
			ClientSecret: oauthclient.NewSecret("pw"), DPoP: dpop}, oauthclient.Options{AllowInsecureHTTP: true})
		require.NoError(b, err)
		tr, err := oauthclient.NewTransport(src, newBase(), api.URL)
		require.NoError(b, err)
		return &http.Client{Transport: tr}
	}
	runPeers(b, []peer{
		{"raw-fixed-header", getter(&http.Client{Transport: newBase()}, api.URL+"/customers/42", "Bearer tok")},
		{"tokenwire-Bearer", getter(client(false), api.URL+"/customers/42", "")},
		{"tokenwire-DPoP-ES256", getter(client(true), api.URL+"/customers/42", "")},
	})
}
