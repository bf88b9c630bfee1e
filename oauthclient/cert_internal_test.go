package oauthclient

import (
	"crypto/tls"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/internal/testcert"
)

// The files are looked at no more than once a second on the source's
// clock: a rotation is noticed at the first handshake or fetch after that.
func TestCertificateFilesLookedAtOnceASecond(t *testing.T) {
	dir := t.TempDir()
	cert := testcert.SelfSigned(t, "svc")
	certFile, keyFile := testcert.Write(t, cert, dir, "svc")
	first := cert.Certificate[0]
	clk := newClock()
	certs, err := newClientCerts(Config{Name: "crm", CertFile: certFile, KeyFile: keyFile}, clk.Now, nil)
	require.NoError(t, err)
	var told []*certState
	certs.onRotate(func(st *certState) { told = append(told, st) })
	assert.Equal(t, first, certs.current().cert.Certificate[0])

	cert = testcert.SelfSigned(t, "svc")
	testcert.Write(t, cert, dir, "svc") // replaced by renames
	second := cert.Certificate[0]
	certs.check()
	assert.Equal(t, first, certs.current().cert.Certificate[0], "not looked at within the second")
	clk.Advance(999 * time.Millisecond)
	certs.check()
	assert.Equal(t, first, certs.current().cert.Certificate[0])
	clk.Advance(time.Millisecond)
	certs.check()
	assert.Equal(t, second, certs.current().cert.Certificate[0], "looked at once the second is over")
	require.Len(t, told, 1)
	assert.Same(t, certs.current(), told[0])

	clk.Advance(time.Hour) // unchanged files: no rotation to tell
	certs.check()
	assert.Len(t, told, 1)
}

// NewClient presents the definition's certificate, whatever CAs the
// server names in its request: the client's transport is a clone per
// certificate of http.DefaultTransport.
func TestNewClientPresentsTheDefinitionsCertificate(t *testing.T) {
	dir := t.TempDir()
	cert := testcert.SelfSigned(t, "svc")
	certFile, keyFile := testcert.Write(t, cert, dir, "svc")
	der := cert.Certificate[0]
	src, err := NewSource(Config{Name: "crm", TokenURL: "https://as.example/token", ClientID: "svc", AuthMethod: AuthSelfSignedTLS,
		CertFile: certFile, KeyFile: keyFile}, Options{})
	require.NoError(t, err)
	t.Cleanup(src.Close)
	c, err := NewClient(src, "https://api.example")
	require.NoError(t, err)
	tr, ok := c.Transport.(*Transport)
	require.True(t, ok)
	require.NotNil(t, tr.conns, "the definition's certificate is presented")
	tc := tr.conns.forCert(nil).TLSClientConfig
	got, err := tc.GetClientCertificate(&tls.CertificateRequestInfo{AcceptableCAs: [][]byte{[]byte("CN=some other CA")}})
	require.NoError(t, err)
	assert.Equal(t, der, got.Certificate[0])
}
