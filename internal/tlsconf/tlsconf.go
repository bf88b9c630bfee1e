// Package tlsconf reads the PEM files of TLS settings — a connection's
// tls section, a token endpoint's client certificate and roots — through
// the configuration's one file reader, with errors that name the file but
// never its contents.
package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"

	"github.com/tokenwire/tokenwire/internal/files"
)

// Files are the TLS settings of a connection: PEM files and the lowest
// version.
type Files struct {
	CAFile, CertFile, KeyFile, MinVersion string
}

// Build returns the *tls.Config f describes, reading files with read (the
// bounded reader of regular files when nil). An error starts with the
// field, as in "tls.ca_file: …".
func Build(f Files, read func(string) ([]byte, error)) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	switch f.MinVersion {
	case "", "1.2":
	case "1.3":
		cfg.MinVersion = tls.VersionTLS13
	default:
		return nil, fmt.Errorf("tls.min_version: %q is not 1.2 or 1.3", f.MinVersion)
	}
	if read == nil {
		read = files.Read
	}
	if f.CAFile != "" {
		pool, err := CertPool(f.CAFile, read)
		if err != nil {
			return nil, fmt.Errorf("tls.ca_file: %w", err)
		}
		cfg.RootCAs = pool
	}
	if (f.CertFile == "") != (f.KeyFile == "") {
		return nil, errors.New("tls.cert_file: cert_file and key_file go together")
	}
	if f.CertFile != "" {
		cert, err := KeyPair(f.CertFile, f.KeyFile, read)
		if err != nil {
			return nil, fmt.Errorf("tls.cert_file: %w", err)
		}
		cfg.Certificates = []tls.Certificate{*cert}
	}
	return cfg, nil
}

// KeyPair reads a certificate and its key.
func KeyPair(certFile, keyFile string, read func(string) ([]byte, error)) (*tls.Certificate, error) {
	certPEM, err := read(certFile)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", certFile, PathCause(err))
	}
	keyPEM, err := read(keyFile)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", keyFile, PathCause(err))
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s and %s: %v", certFile, keyFile, err)
	}
	return &cert, nil
}

// CertPool reads a file of PEM certificates.
func CertPool(file string, read func(string) ([]byte, error)) (*x509.CertPool, error) {
	pem, err := read(file)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", file, PathCause(err))
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", file)
	}
	return pool, nil
}

// PathCause drops the path that *fs.PathError repeats.
func PathCause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
