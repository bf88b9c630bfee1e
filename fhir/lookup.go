package fhir

import "github.com/tokenwire/tokenwire/rest"

// Lookup returns the connection called name in reg — one of the fhir
// section of the configuration, or any connection put there — spoken to
// with the FHIR protocol. Its requests go through the registry's
// *rest.Conn, so FHIR calls get the connection's TLS, pool, timeout,
// retries, default headers and tokens (cached, renewed, 401 → renew →
// resend once), SMART Backend Services included. An unknown name gives an
// error matching rest.ErrUnknownConnection that lists the known ones.
//
// Like [rest.Registry.Conn], it returns the connection in place now: look
// it up again to follow a connection replaced at run time.
func Lookup(reg *rest.Registry, name string, opts ...Option) (*Conn, error) {
	rc, err := reg.Conn(name)
	if err != nil {
		return nil, err
	}
	return New(name, rc.BaseURL(), rc, opts...)
}
