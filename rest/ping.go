package rest

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/tokenwire/tokenwire/internal/urlpath"
)

// PingConfig is how [Conn.Ping] checks a connection's backend: a request
// of Method to Path, sent through the connection. The zero value is HEAD
// of the base URL.
type PingConfig struct {
	Method string `yaml:"method" json:"method,omitempty"` // HEAD (default), GET or OPTIONS: a ping changes nothing
	// Path: "/health" (a leading slash) from the origin's root, "health"
	// under base_url's path like a call's; it may end in its own
	// "?query"; default: the base URL itself.
	Path string `yaml:"path" json:"path,omitempty"`
}

// pingMethods are the methods a ping may use: the safe ones.
var pingMethods = []string{http.MethodHead, http.MethodGet, http.MethodOptions}

// Ping checks that the connection's backend answers. The request goes
// through the connection, as a call would: with its security (a token is
// fetched if none is held, and a rejected one renewed once), its TLS
// settings, default headers, timeout and retry policy, and it is counted
// in the connection's statistics. ctx bounds it all.
//
// It sends the connection's ping setting ([PingConfig]; HEAD of the base
// URL by default) and succeeds on any status below 400: a redirect that is
// not followed still shows a live server. A HEAD answered with 405 Method
// Not Allowed or 501 Not Implemented succeeds too: the server was reached,
// through TLS and authentication, and only refuses the method (set a GET
// with a path to check more).
//
// A failure is an *[Error], redacted like every error of the connection:
// a status (errors.Is with [ErrUnauthorized], [ErrServerError]…) or no
// response ([ErrTransport]).
func (c *Conn) Ping(ctx context.Context) error {
	method := strings.ToUpper(cmp.Or(c.ping.Method, http.MethodHead))
	u, err := c.base, error(nil)
	if c.ping.Path != "" {
		u, err = urlpath.JoinPing(c.base, c.ping.Path)
	}
	if err != nil {
		return &Error{Conn: c.name, Method: method, URL: c.red.url(c.base) + " + " + c.red.path(c.ping.Path), Err: fmt.Errorf("ping: %w", err)}
	}
	resp, attempts, err := c.pingSend(ctx, method, u)
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
// connection's default headers.
func (c *Conn) pingSend(ctx context.Context, method string, u *url.URL) (*http.Response, int, error) {
	req, err := http.NewRequestWithContext(ctx, method, "", nil)
	if err != nil {
		return nil, 0, c.fail(&http.Request{Method: method, URL: u}, err, 0)
	}
	req.URL, req.Host = u, ""
	for k, v := range c.headers {
		req.Header[k] = v
	}
	return c.send(req, false)
}

// check validates p; the error is "field: reason" (checked by NewConn,
// so that Ping never meets a bad setting).
func (p PingConfig) check() error {
	if p.Method != "" && !slices.Contains(pingMethods, strings.ToUpper(p.Method)) {
		return fmt.Errorf("method: %q is not allowed (want HEAD, GET or OPTIONS: a ping must change nothing)", p.Method)
	}
	if p.Path != "" {
		if _, err := urlpath.JoinPing(&url.URL{Scheme: "https", Host: "base.invalid"}, p.Path); err != nil {
			return fmt.Errorf("path: %s", strings.TrimPrefix(err.Error(), "rest: "))
		}
	}
	return nil
}
