package oauthclient_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
)

func clientCert(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "svc"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

// tls_client_auth and self_signed_tls_client_auth present the client
// certificate; a discovered token endpoint is replaced by its mTLS alias
// (RFC 8705 §5) when the document names one.
func TestMTLSClientAuthAndEndpointAliases(t *testing.T) {
	as := oauthtest.NewTLSServer()
	t.Cleanup(as.Close)
	cert := clientCert(t)
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
