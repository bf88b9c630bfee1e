package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
)

// maxJSONBody bounds the response bodies decoded by the JSON helpers:
// 32 MiB.
const maxJSONBody = 32 << 20

// errBodyTooLarge is the cause of an [ErrBadResponse] for a body over
// maxJSONBody.
var errBodyTooLarge = errors.New("over the 32 MiB bound of GetJSON and SendJSON (read a larger body with Conn.Send)")

// GetJSON sends GET base/path and decodes the JSON response into a T, like
// [SendJSON].
func GetJSON[T any](ctx context.Context, c *Conn, path string, opts ...RequestOption) (T, error) {
	return SendJSON[T](ctx, c, http.MethodGet, path, nil, opts...)
}

// SendJSON sends method base/path with in encoded as JSON (nil: no body)
// and decodes the JSON response into a T. A non-2xx status is an
// *[Error] matching its status's sentinel. A 2xx response whose body is
// not the JSON asked for — not JSON, JSON of another shape, empty,
// truncated, or over 32 MiB — is an *[Error] matching [ErrBadResponse]:
// the backend answered, so the call was made (do not repeat a POST
// blindly). A 204 No Content gives the zero T. To send JSON and ignore the
// reply, ask for a struct{}: SendJSON[struct{}] decodes no body, so a 202
// answering "queued" is a success.
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
	resp, attempts, err := c.call(ctx, method, path, body, opts)
	if err != nil {
		return out, err
	}
	defer drain(resp)
	if _, ignore := any(&out).(*struct{}); ignore || resp.StatusCode == http.StatusNoContent {
		return out, nil
	}
	if err := decodeJSON(resp, &out); err != nil {
		e := &Error{Conn: c.name, Method: method, StatusCode: resp.StatusCode, Attempts: attempts, Err: err}
		if resp.Request != nil {
			e.URL = c.red.url(resp.Request.URL)
		}
		return out, e
	}
	return out, nil
}

// decodeJSON decodes the body of resp into out, at most maxJSONBody bytes
// of it. The error says what was wrong with the body; the cause (a
// decoder's or a read error) stays reachable.
func decodeJSON(resp *http.Response, out any) error {
	err := json.NewDecoder(&boundedBody{r: resp.Body, left: maxJSONBody}).Decode(out)
	var syntax *json.SyntaxError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, errBodyTooLarge):
		return fmt.Errorf("response body %w", err)
	case err == io.EOF:
		return errors.New("response body empty, JSON expected")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("response body ends inside its JSON value (truncated): %w", err)
	case errors.As(err, &syntax):
		media, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		return fmt.Errorf("response body not JSON (Content-Type %q): %w", cut(printable([]byte(media)), 64), err)
	}
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) {
		return &redactedError{msg: "response body not the JSON expected: " + typeMismatch(typ), err: err}
	}
	return fmt.Errorf("reading the response body: %w", err)
}

// typeMismatch is the text of a type error without the value the body
// holds: encoding/json writes a number out of its field's range, or a map
// key that is no number, into its text ("number 4111111111111111"), and
// that is the backend's data.
func typeMismatch(e *json.UnmarshalTypeError) string {
	kind, _, _ := strings.Cut(e.Value, " ")
	if e.Field != "" {
		return fmt.Sprintf("json: cannot unmarshal %s into Go struct field %s.%s of type %s", kind, e.Struct, e.Field, e.Type)
	}
	return fmt.Sprintf("json: cannot unmarshal %s into Go value of type %s", kind, e.Type)
}

// boundedBody reads at most left bytes of r, then fails with
// errBodyTooLarge if r has more.
type boundedBody struct {
	r    io.Reader
	left int64
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		var one [1]byte
		if n, err := io.ReadFull(b.r, one[:]); n == 0 {
			return 0, err // io.EOF: the body ends at the bound
		}
		return 0, errBodyTooLarge
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}
