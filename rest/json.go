package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// maxJSONBody bounds the response bodies decoded by the JSON helpers:
// 32 MiB.
const maxJSONBody = 32 << 20

// GetJSON sends GET base/path and decodes the JSON response into a T.
// A non-2xx status is an *[Error]; an empty 204 yields the zero T.
func GetJSON[T any](ctx context.Context, c *Conn, path string, opts ...RequestOption) (T, error) {
	return SendJSON[T](ctx, c, http.MethodGet, path, nil, opts...)
}

// SendJSON sends method base/path with in encoded as JSON (nil: no body)
// and decodes the JSON response into a T.
func SendJSON[T any](ctx context.Context, c *Conn, method, path string, in any, opts ...RequestOption) (T, error) {
	var out T
	var body io.Reader
	opts = append([]RequestOption{Header("Accept", "application/json")}, opts...)
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return out, fmt.Errorf("rest: %s: encoding request body: %w", c.name, err)
		}
		body = bytes.NewReader(b)
		opts = append([]RequestOption{Header("Content-Type", "application/json")}, opts...)
	}
	resp, err := c.Send(ctx, method, path, body, opts...)
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNoContent {
		return out, nil
	}
	dec := json.NewDecoder(io.LimitReader(resp.Body, maxJSONBody))
	if err := dec.Decode(&out); err != nil && err != io.EOF {
		var u *url.URL
		if resp.Request != nil {
			u = resp.Request.URL
		}
		return out, &Error{Conn: c.name, Method: method, URL: c.red.url(u), StatusCode: resp.StatusCode,
			Err: fmt.Errorf("decoding JSON response: %w", err)}
	}
	return out, nil
}
