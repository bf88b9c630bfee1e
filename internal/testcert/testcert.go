// Package testcert makes the X.509 certificates tokenwire's tests need:
// self-signed client certificates, a CA with server certificates for
// 127.0.0.1 and localhost, and their PEM encoding and files. Every key is ECDSA P-256.
// It is test support only: a failure fails the test through testing.TB.
package testcert

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// SelfSigned returns a self-signed client certificate (ExtKeyUsage
// ClientAuth) for cn, valid from an hour ago to an hour from now, with
// its Leaf set. Each call makes a new key.
func SelfSigned(tb testing.TB, cn string) tls.Certificate {
	tb.Helper()
	now := time.Now()
	return issue(tb, &x509.Certificate{
		Subject:   pkix.Name{CommonName: cn},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, nil)
}

// CA is a certificate authority made for one test, valid from an hour
// ago for a day. Two CAs never vouch for each other's certificates.
type CA struct {
	cert tls.Certificate
}

// NewCA makes a CA with a common name of its own.
func NewCA(tb testing.TB) *CA {
	tb.Helper()
	now := time.Now()
	return &CA{cert: issue(tb, &x509.Certificate{
		Subject:   pkix.Name{CommonName: "testcert CA " + rand.Text()[:8]},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}, nil)}
}

// PEM is the CA's certificate as PEM: what a CA file holds.
func (ca *CA) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Leaf.Raw})
}

// Pool is a certificate pool holding only the CA.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert.Leaf)
	return p
}

// Server returns a certificate signed by the CA for 127.0.0.1 and
// localhost (common name localhost, ExtKeyUsage ServerAuth and
// ClientAuth), valid as long as the CA, with its Leaf set.
func (ca *CA) Server(tb testing.TB) tls.Certificate {
	tb.Helper()
	return issue(tb, &x509.Certificate{
		Subject:   pkix.Name{CommonName: "localhost"},
		NotBefore: ca.cert.Leaf.NotBefore, NotAfter: ca.cert.Leaf.NotAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:    []string{"localhost"},
	}, &ca.cert)
}

// PEM is cert's leaf ("CERTIFICATE") and its private key (PKCS #8
// "PRIVATE KEY") as PEM.
func PEM(tb testing.TB, cert tls.Certificate) (certPEM, keyPEM []byte) {
	tb.Helper()
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		tb.Fatalf("testcert: key: %v", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
}

// Write writes cert as [PEM] to dir/name.crt and dir/name.key, mode
// 0600, and returns their paths. Each file is replaced by a rename, as a
// rotation by a secret manager would be, so a reader never sees half a
// file.
func Write(tb testing.TB, cert tls.Certificate, dir, name string) (certFile, keyFile string) {
	tb.Helper()
	certPEM, keyPEM := PEM(tb, cert)
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	writeFile(tb, keyFile, keyPEM)
	writeFile(tb, certFile, certPEM)
	return certFile, keyFile
}

func writeFile(tb testing.TB, path string, b []byte) {
	tb.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		tb.Fatalf("testcert: %v", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		tb.Fatalf("testcert: %v", err)
	}
}

// issue makes a new key and a certificate of tmpl for it, signed by
// parent, or by itself when parent is nil.
func issue(tb testing.TB, tmpl *x509.Certificate, parent *tls.Certificate) tls.Certificate {
	tb.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatalf("testcert: key: %v", err)
	}
	tmpl.SerialNumber, err = rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		tb.Fatalf("testcert: serial number: %v", err)
	}
	issuer, signer := tmpl, crypto.Signer(key)
	if parent != nil {
		issuer, signer = parent.Leaf, parent.PrivateKey.(crypto.Signer)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, issuer, key.Public(), signer)
	if err != nil {
		tb.Fatalf("testcert: certificate %q: %v", tmpl.Subject.CommonName, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatalf("testcert: certificate %q: %v", tmpl.Subject.CommonName, err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}
