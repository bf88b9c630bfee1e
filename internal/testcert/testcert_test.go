package testcert_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/internal/testcert"
)

// A self-signed certificate carries its common name, a P-256 key of its
// own and its parsed leaf, and is usable for client authentication.
func TestSelfSigned(t *testing.T) {
	a, b := testcert.SelfSigned(t, "svc"), testcert.SelfSigned(t, "svc")
	require.NotNil(t, a.Leaf)
	assert.Equal(t, "svc", a.Leaf.Subject.CommonName)
	assert.Equal(t, a.Certificate[0], a.Leaf.Raw)
	assert.Equal(t, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}, a.Leaf.ExtKeyUsage)
	key, ok := a.PrivateKey.(*ecdsa.PrivateKey)
	require.True(t, ok)
	assert.Equal(t, elliptic.P256(), key.Curve)
	assert.True(t, key.PublicKey.Equal(a.Leaf.PublicKey), "the key is the leaf's")
	require.NoError(t, a.Leaf.CheckSignature(a.Leaf.SignatureAlgorithm, a.Leaf.RawTBSCertificate, a.Leaf.Signature), "self-signed")
	assert.Equal(t, a.Leaf.RawSubject, a.Leaf.RawIssuer)
	assert.False(t, a.Leaf.Equal(b.Leaf), "each call makes a new certificate")
	assert.False(t, key.Equal(b.PrivateKey), "and a new key")
}

// The CA's server certificate verifies for 127.0.0.1 and localhost
// against the CA's pool and its PEM, not against another CA.
func TestCAServer(t *testing.T) {
	ca := testcert.NewCA(t)
	srv := ca.Server(t)
	require.NotNil(t, srv.Leaf)
	assert.Equal(t, "localhost", srv.Leaf.Subject.CommonName)
	fromPEM := x509.NewCertPool()
	require.True(t, fromPEM.AppendCertsFromPEM(ca.PEM()))
	for _, host := range []string{"127.0.0.1", "localhost"} {
		for _, roots := range []*x509.CertPool{ca.Pool(), fromPEM} {
			_, err := srv.Leaf.Verify(x509.VerifyOptions{DNSName: host, Roots: roots})
			assert.NoError(t, err, host)
		}
	}
	_, err := srv.Leaf.Verify(x509.VerifyOptions{DNSName: "127.0.0.2", Roots: ca.Pool()})
	assert.Error(t, err, "only 127.0.0.1 and localhost")
	_, err = srv.Leaf.Verify(x509.VerifyOptions{DNSName: "127.0.0.1", Roots: testcert.NewCA(t).Pool()})
	var unknown x509.UnknownAuthorityError
	assert.ErrorAs(t, err, &unknown, "another CA does not vouch for it")
}

// PEM encodes the certificate and its key so that they load back as the
// same pair.
func TestPEM(t *testing.T) {
	cert := testcert.SelfSigned(t, "svc")
	certPEM, keyPEM := testcert.PEM(t, cert)
	loaded, err := tls.X509KeyPair(certPEM, keyPEM)
	require.NoError(t, err)
	assert.Equal(t, cert.Certificate, loaded.Certificate)
	assert.True(t, cert.PrivateKey.(*ecdsa.PrivateKey).Equal(loaded.PrivateKey))
}

// Write puts the certificate and its key in PEM files readable only by
// their owner, which load back as the same pair; writing again replaces
// them.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	cert := testcert.SelfSigned(t, "svc")
	certFile, keyFile := testcert.Write(t, cert, dir, "svc")
	assert.Equal(t, filepath.Join(dir, "svc.crt"), certFile)
	assert.Equal(t, filepath.Join(dir, "svc.key"), keyFile)
	for _, f := range []string{certFile, keyFile} {
		st, err := os.Stat(f)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm(), f)
	}
	loaded, err := tls.LoadX509KeyPair(certFile, keyFile)
	require.NoError(t, err)
	assert.Equal(t, cert.Certificate, loaded.Certificate)

	next := testcert.SelfSigned(t, "svc")
	testcert.Write(t, next, dir, "svc")
	loaded, err = tls.LoadX509KeyPair(certFile, keyFile)
	require.NoError(t, err)
	assert.Equal(t, next.Certificate, loaded.Certificate, "replaced")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 2, "no temporary file left")
}
