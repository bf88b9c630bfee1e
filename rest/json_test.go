package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A 2xx response whose body is not the JSON asked for is ErrBadResponse:
// the backend answered (a POST was made), so it is neither a transport
// failure nor a status error; the status and the attempts are kept, and
// the body is not copied into the error (it is the backend's data).
func TestJSON2xxBodyNotJSONIsErrBadResponse(t *testing.T) {
	type customer struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	tests := []struct {
		name    string
		status  int
		ctype   string
		body    string
		declare int // a Content-Length beyond the body: the server hangs up early
		says    string
	}{
		{name: "queued", status: http.StatusAccepted, ctype: "text/plain", body: "queued", says: `not JSON (Content-Type "text/plain"): invalid character 'q'`},
		{name: "html from a proxy", status: http.StatusOK, ctype: "text/html", body: "<html>login</html>", says: `not JSON (Content-Type "text/html")`},
		{name: "truncated JSON", status: http.StatusOK, ctype: "application/json", body: `{"id":"42","name":"Gr`, says: "ends inside its JSON value (truncated)"},
		{name: "connection closed early", status: http.StatusOK, ctype: "application/json", body: `{"id":"42",`, declare: 100, says: "ends inside its JSON value (truncated)"},
		{name: "empty 200", status: http.StatusOK, ctype: "application/json", says: "empty, JSON expected"},
		{name: "wrong shape", status: http.StatusCreated, ctype: "application/json", body: `["a","b"]`, says: "not the JSON expected: json: cannot unmarshal array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hits atomic.Int32
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				w.Header().Set("Content-Type", tt.ctype)
				if tt.declare > 0 {
					w.Header().Set("Content-Length", "100")
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			})
			c, _ := testConn(t, srv.URL, nil, ConnConfig{Retry: RetryPolicy{RetryNonIdempotent: true}})
			_, err := SendJSON[customer](context.Background(), c, http.MethodPost, "x", customer{Name: "Grace"})
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrBadResponse)
			for _, not := range []error{ErrTransport, ErrClientError, ErrServerError, ErrBadRequest, ErrBadPath} {
				assert.NotErrorIs(t, err, not)
			}
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tt.status, e.StatusCode)
			assert.Equal(t, 1, e.Attempts)
			assert.Equal(t, "crm", e.Conn)
			assert.Equal(t, http.MethodPost, e.Method)
			assert.Equal(t, srv.URL+"/x", e.URL)
			assert.Empty(t, e.Excerpt, "a 2xx body is data, not copied into an error")
			assert.Contains(t, err.Error(), http.StatusText(tt.status)+": response body "+tt.says)
			if tt.body != "" {
				assert.NotContains(t, err.Error(), tt.body)
			}
			assert.Equal(t, int32(1), hits.Load(), "not retried")
		})
	}
}

// The attempts of a call whose last answer was unusable are counted.
func TestJSONBadResponseCountsAttempts(t *testing.T) {
	var hits atomic.Int32
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ok")
	})
	c, _ := testConn(t, srv.URL, nil, ConnConfig{})
	_, err := GetJSON[map[string]string](context.Background(), c, "x")
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.ErrorIs(t, err, ErrBadResponse)
	assert.Equal(t, 2, e.Attempts)
	assert.Contains(t, err.Error(), "(after 2 attempts)")
}

// A body over the JSON helpers' 32 MiB bound is refused saying so, not as
// an "unexpected EOF".
func TestJSONBodyOverTheBoundSaysTheBound(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		chunk := strings.Repeat("a", 1<<16)
		_, _ = io.WriteString(w, `"`)
		for written := 0; written <= maxJSONBody; written += len(chunk) {
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
		}
		_, _ = io.WriteString(w, `"`)
	})
	c, _ := testConn(t, srv.URL, nil, ConnConfig{})
	_, err := GetJSON[string](context.Background(), c, "big")
	assert.ErrorIs(t, err, ErrBadResponse)
	assert.ErrorIs(t, err, errBodyTooLarge)
	assert.Contains(t, err.Error(), "200 OK: response body over the 32 MiB bound of GetJSON and SendJSON")
	assert.NotContains(t, err.Error(), "unexpected EOF")

	// A body of exactly the bound is read whole.
	exact := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `"`+strings.Repeat("b", maxJSONBody-2)+`"`)
	})
	c, _ = testConn(t, exact.URL, nil, ConnConfig{})
	s, err := GetJSON[string](context.Background(), c, "big")
	require.NoError(t, err)
	assert.Len(t, s, maxJSONBody-2)
}

// SendJSON[struct{}] sends JSON and ignores the reply: its body is not
// decoded, so a 202 answering "queued" is a success; a 204 gives the zero
// T to any T.
func TestSendJSONIgnoringTheReply(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/none" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, "queued")
	})
	c, _ := testConn(t, srv.URL, nil, ConnConfig{})
	_, err := SendJSON[struct{}](context.Background(), c, http.MethodPost, "x", map[string]string{"name": "Grace"})
	require.NoError(t, err)
	got, err := SendJSON[map[string]string](context.Background(), c, http.MethodPost, "none", nil)
	require.NoError(t, err)
	assert.Nil(t, got)
	_, err = SendJSON[map[string]string](context.Background(), c, http.MethodPost, "x", nil)
	assert.True(t, errors.Is(err, ErrBadResponse), "any other T asks for JSON: %v", err)
}

// The backend's data stays out of an ErrBadResponse's text even where
// encoding/json copies it into its own: a number out of range of its
// field ("number 4111111111111111"), a map key that is not a number
// ("number alice@example.com"). Either may be the call's query value.
func TestJSONBadResponseShowsNoValueOfTheBody(t *testing.T) {
	tests := []struct {
		name, body, says string
		decode           func(context.Context, *Conn) error
	}{
		{name: "number out of range", body: `{"n":4111111111111111}`, says: "cannot unmarshal number into Go struct field .n of type int8",
			decode: func(ctx context.Context, c *Conn) error {
				_, err := GetJSON[struct {
					N int8 `json:"n"`
				}](ctx, c, "x", Query("card", "4111111111111111"))
				return err
			}},
		{name: "map key not a number", body: `{"alice@example.com":1}`, says: "cannot unmarshal number into Go value of type int",
			decode: func(ctx context.Context, c *Conn) error {
				_, err := GetJSON[map[int]int](ctx, c, "x", Query("email", "alice@example.com"))
				return err
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, tt.body)
			})
			c, _ := testConn(t, srv.URL, nil, ConnConfig{})
			err := tt.decode(context.Background(), c)
			require.ErrorIs(t, err, ErrBadResponse)
			var typ *json.UnmarshalTypeError
			assert.ErrorAs(t, err, &typ, "the decoder's error stays reachable")
			assert.Contains(t, err.Error(), "response body not the JSON expected: json: "+tt.says)
			for _, shown := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
				assert.NotContains(t, shown, "4111111111111111")
				assert.NotContains(t, shown, "alice@example.com")
			}
		})
	}
}
