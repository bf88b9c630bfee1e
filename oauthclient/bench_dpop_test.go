package oauthclient_test

import (
	"fmt"
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
	as.AddClient("svc", "pw")
	client := func(dpop bool) *http.Client {
		src, err := oauthclient.NewSource(oauthclient.Config{Name: "b", TokenURL: as.TokenURL(), ClientID: "svc",
			ClientSecret: oauthclient.NewSecret("pw"), DPoP: dpop}, oauthclient.Options{AllowInsecureHTTP: true})
		require.NoError(b, err)
		tr, err := oauthclient.NewTransport(src, newBase(), api.URL)
		require.NoError(b, err)
		return &http.Client{Transport: tr}
	}
	get := func(c *http.Client, header string) func() error {
		return func() error {
			req, err := http.NewRequest(http.MethodGet, api.URL+"/customers/42", nil)
			if err != nil {
				return err
			}
			if header != "" {
				req.Header.Set("Authorization", header)
			}
			resp, err := c.Do(req)
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("status %d", resp.StatusCode)
			}
			return nil
		}
	}
	runPeers(b, []peer{
		{"raw-fixed-header", get(&http.Client{Transport: newBase()}, "Bearer tok")},
		{"tokenwire-Bearer", get(client(false), "")},
		{"tokenwire-DPoP-ES256", get(client(true), "")},
	})
}
