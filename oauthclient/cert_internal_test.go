package oauthclient

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeCertPair writes a new self-signed pair to certFile and keyFile by
// atomic renames, and returns its leaf's DER.
func writeCertPair(t *testing.T, certFile, keyFile string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "svc"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	require.NoError(t, err)
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	for path, b := range map[string][]byte{
		keyFile:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}),
		certFile: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
	} {
		require.NoError(t, os.WriteFile(path+".tmp", b, 0o600))
		require.NoError(t, os.Rename(path+".tmp", path))
	}
	return der
}

// The files are looked at no more than once a second on the source's
// clock: a rotation is noticed at the first handshake or fetch after that.
func TestCertificateFilesLookedAtOnceASecond(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	first := writeCertPair(t, certFile, keyFile)
	clk := newClock()
	certs, err := newClientCerts(Config{Name: "crm", CertFile: certFile, KeyFile: keyFile}, clk.Now, nil)
	require.NoError(t, err)
	var told []*certState
	certs.onRotate(func(st *certState) { told = append(told, st) })
	assert.Equal(t, first, certs.current().cert.Certificate[0])

	second := writeCertPair(t, certFile, keyFile)
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
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	der := writeCertPair(t, certFile, keyFile)
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
