package oauthclient_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/internal/testcert"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

// tls_client_auth and self_signed_tls_client_auth present the client
// certificate; a discovered token endpoint is replaced by its mTLS alias
// (RFC 8705 §5) when the document names one.
func TestMTLSClientAuthAndEndpointAliases(t *testing.T) {
	as := oauthtest.NewTLSServer()
	t.Cleanup(as.Close)
	cert := testcert.SelfSigned(t, "svc")
	as.AddClient(oauthtest.Client{ID: "svc", Certificate: cert.Leaf})
	doc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"token_endpoint":"https://127.0.0.1:1/no-mtls-here","mtls_endpoint_aliases":{"token_endpoint":"`+as.TokenURL()+`"}}`)
	}))
	t.Cleanup(doc.Close)
	for _, m := range []oauthclient.AuthMethod{oauthclient.AuthTLSClientAuth, oauthclient.AuthSelfSignedTLS} {
		t.Run(string(m), func(t *testing.T) {
			src, err := oauthclient.NewSource(oauthclient.Config{Name: "m", DiscoveryURL: doc.URL, ClientID: "svc", AuthMethod: m,
				Certificate: &cert, RootCAs: as.CertPool(), DiscoveryClient: doc.Client()}, oauthclient.Options{AllowInsecureHTTP: true})
			require.NoError(t, err)
			_, err = src.TokenContext(context.Background())
			require.NoError(t, err, "the alias was used")
		})
	}
	_, err := oauthclient.NewSource(oauthclient.Config{Name: "m", TokenURL: as.TokenURL(), ClientID: "svc", AuthMethod: oauthclient.AuthSelfSignedTLS},
		oauthclient.Options{})
	var ce *oauthclient.ConfigError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "certificate", ce.Field)
}

// A token bound to one certificate is never handed to a source that holds
// another: two definitions of one client with different certificates on
// one shared store do not share a token (the second makes its own request,
// which this server refuses, as it knows only the first certificate).
func TestMTLSCertificateIsPartOfTheCacheKey(t *testing.T) {
	as := oauthtest.NewTLSServer()
	t.Cleanup(as.Close)
	first, second := testcert.SelfSigned(t, "svc"), testcert.SelfSigned(t, "svc")
	as.AddClient(oauthtest.Client{ID: "svc", Certificate: first.Leaf})
	store := cache.NewMemory(10)
	cfg := func(cert *tls.Certificate) oauthclient.Config {
		return oauthclient.Config{Name: "m", TokenURL: as.TokenURL(), ClientID: "svc", AuthMethod: oauthclient.AuthTLSClientAuth,
			Certificate: cert, RootCAs: as.CertPool()}
	}
	assert.NotEqual(t, oauthclient.CacheKey(cfg(&first)), oauthclient.CacheKey(cfg(&second)))
	assert.Equal(t, oauthclient.CacheKey(cfg(&first)), oauthclient.CacheKey(cfg(&first)))

	a, err := oauthclient.NewSource(cfg(&first), oauthclient.Options{Store: store})
	require.NoError(t, err)
	t.Cleanup(a.Close)
	_, err = a.TokenContext(context.Background())
	require.NoError(t, err)
	b, err := oauthclient.NewSource(cfg(&second), oauthclient.Options{Store: store, MaxBackoffWait: -1})
	require.NoError(t, err)
	t.Cleanup(b.Close)
	_, err = b.TokenContext(context.Background())
	require.ErrorIs(t, err, oauthclient.ErrInvalidClient, "the second certificate got no token bound to the first")
	assert.Equal(t, 2, as.Requests(""))
}

// The configured certificate is presented even when the server names
// acceptable CAs that did not issue it: a self-signed certificate is not
// withheld by Go's default choice.
func TestMTLSCertificateIsAlwaysPresented(t *testing.T) {
	cert := testcert.SelfSigned(t, "svc")
	other := x509.NewCertPool()
	other.AddCert(testcert.SelfSigned(t, "some-other-ca").Leaf) // a CA the server names, which did not issue cert
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.TLS.PeerCertificates) == 0 || !r.TLS.PeerCertificates[0].Equal(cert.Leaf) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":"invalid_client","error_description":"no certificate"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"bound","token_type":"Bearer","expires_in":3600}`)
	}))
	srv.TLS = &tls.Config{ClientAuth: tls.RequestClientCert, ClientCAs: other}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	src, err := oauthclient.NewSource(oauthclient.Config{Name: "m", TokenURL: srv.URL, ClientID: "svc",
		AuthMethod: oauthclient.AuthSelfSignedTLS, Certificate: &cert, RootCAs: roots}, oauthclient.Options{})
	require.NoError(t, err)
	t.Cleanup(src.Close)
	tok, err := src.TokenContext(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "bound", tok.AccessToken())
}
