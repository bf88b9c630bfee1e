package rest

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"maps"

	"github.com/tokenwire/tokenwire/oauthclient"
)

type fieldError struct{ field, reason string }

// oauthConfig converts an oauth2, login or imported bearer definition,
// reading its certificate files; a definition: supplier is bound to no
// registry (see grantOf).
func oauthConfig(name string, sc SecurityConfig, readFile func(string) ([]byte, error)) (oauthclient.Config, []fieldError) {
	cfg := oauthclient.Config{
		Name: name, TokenURL: sc.TokenURL, Issuer: sc.Issuer, ClientID: sc.ClientID, ClientSecret: sc.ClientSecret, PrivateKeyPEM: sc.PrivateKey,
		Scopes: sc.Scopes, Audience: sc.Audience, Resources: sc.Resources, AuthMethod: oauthclient.AuthMethod(sc.AuthMethod),
		KeyID: sc.KeyID, SigningAlg: sc.SigningAlg, AssertionAudience: sc.AssertionAudience,
		AssertionLifetime: sc.AssertionLifetime, Timeout: sc.Timeout, DefaultLifetime: sc.DefaultLifetime,
		DPoP: sc.DPoP, DPoPKeyPEM: sc.DPoPKey, DPoPAlg: sc.DPoPAlg,
		Grant: grantOf(sc, nil),
	}
	cfg.Params = maps.Clone(sc.Params)
	var errs []fieldError
	if (sc.CertFile == "") != (sc.KeyFile == "") {
		errs = append(errs, fieldError{"cert_file", "cert_file and key_file go together"})
	} else if sc.CertFile != "" {
		cert, err := loadKeyPair(sc.CertFile, sc.KeyFile, readFile)
		if err != nil {
			errs = append(errs, fieldError{"cert_file", err.Error()})
		}
		cfg.Certificate = cert
	}
	if sc.CAFile != "" {
		pool, err := loadCAs(sc.CAFile, readFile)
		if err != nil {
			errs = append(errs, fieldError{"ca_file", err.Error()})
		}
		cfg.RootCAs = pool
	}
	return cfg, errs
}

func loadKeyPair(certFile, keyFile string, readFile func(string) ([]byte, error)) (*tls.Certificate, error) {
	certPEM, err := readFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", certFile, unwrapPathError(err))
	}
	keyPEM, err := readFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", keyFile, unwrapPathError(err))
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s and %s: %v", certFile, keyFile, err)
	}
	return &cert, nil
}

func loadCAs(file string, readFile func(string) ([]byte, error)) (*x509.CertPool, error) {
	pem, err := readFile(file)
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", file, unwrapPathError(err))
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", file)
	}
	return pool, nil
}
