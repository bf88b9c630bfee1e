package rest

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/tokenwire/tokenwire/internal/origin"
)

// Security authenticates a connection's requests. RoundTripper returns base
// wrapped so that requests to origin ("scheme://host[:port]"), and only to
// origin, carry the credentials; requests to any other origin (a redirect
// elsewhere, an absolute link followed by the caller) go out without them.
// Implementations must clone a request before changing it.
type Security interface {
	RoundTripper(base http.RoundTripper, origin string) (http.RoundTripper, error)
}

// secretHolder is implemented by the package's static kinds so that errors
// can redact their values: the literal values and the headers that carry
// them (a query parameter's value is never shown in any case).
type secretHolder interface {
	secrets() (values, headers []string)
}

// None sends requests without credentials.
func None() Security { return noneSecurity{} }

type noneSecurity struct{}

func (noneSecurity) RoundTripper(base http.RoundTripper, _ string) (http.RoundTripper, error) {
	return base, nil
}

func (noneSecurity) String() string { return "none" }

// Basic authenticates with HTTP Basic (RFC 7617).
func Basic(username, password string) Security {
	v := "Basic " + base64.StdEncoding.EncodeToString([]byte(username+":"+password))
	return &headerSecurity{kind: "basic", name: "Authorization", value: v, raw: []string{password}}
}

// Bearer sends a fixed bearer token, e.g. an imported long-lived API token.
// For tokens that expire use an OAuth [Security] instead.
func Bearer(token string) Security {
	return &headerSecurity{kind: "bearer", name: "Authorization", value: "Bearer " + token, raw: []string{token}}
}

// APIKeyHeader sends key in the named header, e.g. "X-API-Key".
func APIKeyHeader(header, key string) Security {
	return &headerSecurity{kind: "apikey", name: http.CanonicalHeaderKey(header), value: key, raw: []string{key}}
}

// APIKeyQuery sends key as the named query parameter. Errors show the
// parameter's value as [redacted].
func APIKeyQuery(param, key string) Security {
	return &querySecurity{param: param, key: key}
}

type headerSecurity struct {
	kind, name, value string
	raw               []string
}

func (s *headerSecurity) String() string { return s.kind }

func (s *headerSecurity) secrets() ([]string, []string) {
	return append([]string{s.value}, s.raw...), []string{s.name}
}

func (s *headerSecurity) RoundTripper(base http.RoundTripper, to string) (http.RoundTripper, error) {
	o, err := parseOrigin(to)
	if err != nil {
		return nil, err
	}
	vals := []string{s.value} // shared, never modified
	return &originTransport{base: base, origin: o, set: func(r *http.Request) {
		r.Header[s.name] = vals
	}}, nil
}

type querySecurity struct{ param, key string }

func (s *querySecurity) String() string { return "apikey" }

func (s *querySecurity) secrets() ([]string, []string) {
	return []string{s.key, url.QueryEscape(s.key)}, nil
}

func (s *querySecurity) RoundTripper(base http.RoundTripper, to string) (http.RoundTripper, error) {
	o, err := parseOrigin(to)
	if err != nil {
		return nil, err
	}
	return &originTransport{base: base, origin: o, set: func(r *http.Request) {
		u := *r.URL
		q := u.Query()
		q.Set(s.param, s.key)
		u.RawQuery = q.Encode()
		r.URL = &u
	}}, nil
}

// originTransport applies set to a clone of each request bound for origin.
type originTransport struct {
	base   http.RoundTripper
	origin origin.Origin
	set    func(*http.Request)
}

func (t *originTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !t.origin.Match(req.URL) {
		return t.base.RoundTrip(req)
	}
	// A shallow copy with its own header map: the caller's request is
	// left as it was.
	r := new(http.Request)
	*r = *req
	r.Header = make(http.Header, len(req.Header)+1)
	for k, v := range req.Header { // value slices are shared, never modified
		r.Header[k] = v
	}
	t.set(r)
	resp, err := t.base.RoundTrip(r)
	if resp != nil && resp.Request == nil {
		resp.Request = r // the request sent: errors scrub the credential it carried
	}
	return resp, err
}

var errBadOrigin = errors.New("rest: origin must be scheme://host[:port]")

// parseOrigin parses an origin given to [Security.RoundTripper].
func parseOrigin(o string) (origin.Origin, error) {
	u, err := url.Parse(o)
	if err != nil || u.Scheme == "" || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return origin.Origin{}, fmt.Errorf("%w: %q", errBadOrigin, o)
	}
	return origin.New(u), nil
}

// Format prints only the kind, whatever the verb (%v, %+v, %#v...).
func (s *headerSecurity) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// Format prints only the kind, whatever the verb.
func (s *querySecurity) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }
