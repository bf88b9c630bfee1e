package rest

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// The kinds of connection, as [Conn.Kind] names them: the section of the
// configuration file a connection comes from.
const (
	KindREST = "rest"
	KindFHIR = "fhir"
)

// PingConfig is how [Conn.Ping] checks a REST connection's backend (the
// ping setting of a rest entry): a request of Method to Path, sent
// through the connection. The zero value is HEAD of the base URL. A FHIR
// connection has no ping setting: it is pinged with GET [base]/metadata.
type PingConfig struct {
	Method string `yaml:"method" json:"method,omitempty"` // HEAD (default), GET or OPTIONS: a ping changes nothing
	Path   string `yaml:"path" json:"path,omitempty"`     // joined to base_url like the path of Conn.Get; default: the base URL itself
}

// pingMethods are the methods a ping may use: the safe ones.
var pingMethods = []string{http.MethodHead, http.MethodGet, http.MethodOptions}

// Kind returns the connection's kind: [KindFHIR] for a connection of the
// fhir section, [KindREST] for any other (those of the rest section, and
// those built with [NewConn] or [Registry.NewConn]).
func (c *Conn) Kind() string { return cmp.Or(c.kind, KindREST) }

// Ping checks that the connection's backend answers. The request goes
// through the connection, as a call would: with its security (a token is
// fetched if none is held, and a rejected one renewed once), its TLS
// settings, default headers, timeout and retry policy, and it is counted
// in the connection's statistics. ctx bounds it all.
//
// A REST connection sends its ping setting ([PingConfig]; HEAD of the base
// URL by default) and succeeds on any status below 400: a redirect that is
// not followed still shows a live server. A HEAD answered with 405 Method
// Not Allowed or 501 Not Implemented succeeds too: the server was reached,
// through TLS and authentication, and only refuses the method (set a GET
// with a path to check more). A FHIR connection sends GET [base]/metadata
// and succeeds when the answer is a CapabilityStatement (only the
// resourceType is read, from at most [MaxJSONBody] bytes).
//
// A failure is an *[Error], redacted like every error of the connection:
// a status (errors.Is with [ErrUnauthorized], [ErrServerError]…), no
// response ([ErrTransport]), or, for FHIR, a 2xx answer that is not a
// CapabilityStatement.
func (c *Conn) Ping(ctx context.Context) error {
	if c.Kind() == KindFHIR {
		return c.pingFHIR(ctx)
	}
	method := strings.ToUpper(cmp.Or(c.ping.Method, http.MethodHead))
	u, err := c.base, c.ping.check()
	if err == nil && c.ping.Path != "" {
		u, err = joinURL(c.base, c.ping.Path, nil)
	}
	if err != nil {
		return &Error{Conn: c.name, Method: method, URL: c.red.url(c.base) + " + " + c.red.path(c.ping.Path), Err: fmt.Errorf("ping: %w", err)}
	}
	resp, attempts, err := c.pingSend(ctx, method, u, "")
	if err != nil {
		return err
	}
	if reachable(method, resp.StatusCode) {
		drain(resp)
		return nil
	}
	return c.statusError(resp, attempts)
}

// reachable reports whether status shows a live backend for a ping sent
// with method.
func reachable(method string, status int) bool {
	switch {
	case status >= 200 && status < 400:
		return true
	case method == http.MethodHead:
		return status == http.StatusMethodNotAllowed || status == http.StatusNotImplemented
	}
	return false
}

// pingSend sends one ping to u (a URL of the connection) with the
// connection's default headers, and accept as Accept when set.
func (c *Conn) pingSend(ctx context.Context, method string, u *url.URL, accept string) (*http.Response, int, error) {
	req, err := http.NewRequestWithContext(ctx, method, "", nil)
	if err != nil {
		return nil, 0, c.fail(&http.Request{Method: method, URL: u}, err, 0)
	}
	req.URL, req.Host = u, ""
	for k, v := range c.headers {
		req.Header[k] = v
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	return c.send(req, false)
}
