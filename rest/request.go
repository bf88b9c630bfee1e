package rest

import (
	"context"
	"io"
	"net/http"
	"net/url"

	"github.com/tokenwire/tokenwire/internal/urlpath"
)

// RequestOption adjusts one call.
type RequestOption func(*callOptions)

type callOptions struct {
	query   url.Values
	header  http.Header
	retryOK bool
}

// Path builds a request path from segments, escaping each one
// (url.PathEscape), so that a value from outside stays one segment:
// Path("customers", id) with id "a?b=c" is "customers/a%3Fb=c", never a
// query; "a/b" stays one segment ("a%2Fb"), "#" and "%" stay data. An
// empty or "." segment (an id left empty) would name another resource:
// the call fails with [ErrBadPath] before anything is sent, its error
// saying "segment 2 is empty" and showing the path as
// "customers/[empty]". A ".." segment is refused as a climb out of the
// base path. A path argument written by hand is checked too: a "?", a "#"
// or a ".." segment (also percent-encoded) in it is refused with
// [ErrBadPath]; queries go in [Query]; an empty segment there ("a//b") is
// one separator.
func Path(segments ...string) string { return urlpath.Segments(segments...) }

// Query adds query parameters, encoded for the URL.
func Query(key string, values ...string) RequestOption {
	return func(o *callOptions) {
		if o.query == nil {
			o.query = url.Values{}
		}
		o.query[key] = append(o.query[key], values...)
	}
}

// Header sets a request header, overriding the connection's default.
func Header(key, value string) RequestOption {
	return func(o *callOptions) {
		if o.header == nil {
			o.header = http.Header{}
		}
		o.header.Set(key, value)
	}
}

// Retryable lets the connection's retry policy repeat this call even if
// its method is not idempotent (the caller knows the backend de-duplicates).
func Retryable() RequestOption { return func(o *callOptions) { o.retryOK = true } }

// Get sends GET base/path. A non-2xx status is returned as an *[Error]
// (the response is then already closed); otherwise the caller closes the
// response body.
func (c *Conn) Get(ctx context.Context, path string, opts ...RequestOption) (*http.Response, error) {
	return c.Send(ctx, http.MethodGet, path, nil, opts...)
}

// Send sends method (POST, PUT…) base/path with body (nil for none), like
// [Conn.Get]. Set the Content-Type with [Header]. A request with a body is
// retried only if it can be replayed (body is a *bytes.Reader,
// *bytes.Buffer or *strings.Reader) and, for POST and PATCH, if the
// connection's policy or [Retryable] allows it.
func (c *Conn) Send(ctx context.Context, method, path string, body io.Reader, opts ...RequestOption) (*http.Response, error) {
	resp, _, err := c.call(ctx, method, path, body, opts)
	return resp, err
}

// call is [Conn.Send], also returning the attempts made.
func (c *Conn) call(ctx context.Context, method, path string, body io.Reader, opts []RequestOption) (*http.Response, int, error) {
	var o callOptions
	for _, opt := range opts {
		opt(&o)
	}
	u, err := urlpath.Join(c.base, path, "", o.query)
	if err != nil {
		return nil, 0, &Error{Conn: c.name, Method: method, URL: c.red.url(c.base) + " + " + c.red.path(path), Err: err}
	}
	req, err := http.NewRequestWithContext(ctx, method, "", body)
	if err != nil {
		return nil, 0, c.fail(&http.Request{Method: method, URL: u}, err, 0)
	}
	req.URL, req.Host = u, ""
	for k, v := range c.headers {
		req.Header[k] = v
	}
	for k, v := range o.header {
		req.Header[k] = v
	}
	resp, attempts, err := c.send(req, o.retryOK)
	if err != nil {
		return nil, attempts, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, attempts, c.statusError(resp, attempts)
	}
	return resp, attempts, nil
}
