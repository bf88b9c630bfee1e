package redistest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tokenwire/tokenwire/internal/suites"
)

// CA is a certificate authority generated for a test and the server
// certificate it signed, for 127.0.0.1 and localhost, as PEM files.
type CA struct {
	CAFile   string // the CA's certificate: what a client trusts
	CertFile string // the server's certificate
	KeyFile  string // the server's private key
	CAPEM    []byte // the contents of CAFile
	Pool     *x509.CertPool
}

// NewCA generates a CA (ECDSA P-256, valid for a day) and a server
// certificate signed by it, and writes them under dir.
func NewCA(dir string) (*CA, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("redistest: CA key: %w", err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "redistest CA " + rand.Text()[:8]},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("redistest: CA certificate: %w", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("redistest: CA certificate: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("redistest: server key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("redistest: server certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("redistest: server key: %w", err)
	}
	ca := &CA{
		CAFile: filepath.Join(dir, "ca.crt"), CertFile: filepath.Join(dir, "redis.crt"), KeyFile: filepath.Join(dir, "redis.key"),
		CAPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), Pool: x509.NewCertPool(),
	}
	ca.Pool.AddCert(caCert)
	for _, f := range []struct {
		path string
		data []byte
	}{
		{ca.CAFile, ca.CAPEM},
		{ca.CertFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})},
		{ca.KeyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})},
	} {
		if err := os.WriteFile(f.path, f.data, 0o600); err != nil {
			return nil, fmt.Errorf("redistest: %w", err)
		}
	}
	return ca, nil
}

// NewTLS is [New] with a TLS port too ([Server.TLSAddr]) serving ca's
// server certificate; client certificates are not asked for. The plain
// port stays open on 127.0.0.1 for the test's own checks.
func NewTLS(ca *CA, args ...string) (*Server, error) {
	return newServer(Binary, ErrNotInstalled, ca, nil, args)
}

// StartTLS is [Start] with a TLS port, as [NewTLS].
func StartTLS(tb testing.TB, ca *CA, args ...string) *Server {
	tb.Helper()
	suites.Redis.Require(tb)
	return must(tb, suites.Redis)(NewTLS(ca, args...))
}
