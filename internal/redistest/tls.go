package redistest

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"

	"github.com/tokenwire/tokenwire/internal/suites"
	"github.com/tokenwire/tokenwire/internal/testcert"
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
// certificate signed by it, and writes them under a directory of tb's.
func NewCA(tb testing.TB) *CA {
	tb.Helper()
	dir := tb.TempDir()
	ca := testcert.NewCA(tb)
	certFile, keyFile := testcert.Write(tb, ca.Server(tb), dir, "redis")
	c := &CA{CAFile: filepath.Join(dir, "ca.crt"), CertFile: certFile, KeyFile: keyFile, CAPEM: ca.PEM(), Pool: ca.Pool()}
	if err := os.WriteFile(c.CAFile, c.CAPEM, 0o600); err != nil {
		tb.Fatalf("redistest: %v", err)
	}
	return c
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
