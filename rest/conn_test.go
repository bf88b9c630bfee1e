package rest

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/internal/refusing"
)

func TestSecurityKinds(t *testing.T) {
	tests := []struct {
		name  string
		sec   Security
		check func(t *testing.T, r *http.Request)
	}{
		{"none", None(), func(t *testing.T, r *http.Request) {
			assert.Empty(t, r.Header.Get("Authorization"))
		}},
		{"nil is none", nil, func(t *testing.T, r *http.Request) {
			assert.Empty(t, r.Header.Get("Authorization"))
		}},
		{"basic", Basic("svc", "s3cret"), func(t *testing.T, r *http.Request) {
			u, p, ok := r.BasicAuth()
			assert.True(t, ok)
			assert.Equal(t, "svc", u)
			assert.Equal(t, "s3cret", p)
		}},
		{"bearer", Bearer("tok-123"), func(t *testing.T, r *http.Request) {
			assert.Equal(t, "Bearer tok-123", r.Header.Get("Authorization"))
		}},
		{"api key header", APIKeyHeader("x-api-key", "k-456"), func(t *testing.T, r *http.Request) {
			assert.Equal(t, "k-456", r.Header.Get("X-Api-Key"))
		}},
		{"api key query", APIKeyQuery("api_key", "k 7&8"), func(t *testing.T, r *http.Request) {
			assert.Equal(t, "k 7&8", r.URL.Query().Get("api_key"))
			assert.Equal(t, "open", r.URL.Query().Get("status"))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				assert.Equal(t, "/api/customers", r.URL.Path)
				tt.check(t, r)
				_, _ = io.WriteString(w, "ok")
			})
			c, _ := testConn(t, srv.URL+"/api", tt.sec, ConnConfig{})
			resp, err := c.Get(context.Background(), "customers", Query("status", "open"))
			require.NoError(t, err)
			defer resp.Body.Close()
			assert.Equal(t, http.StatusOK, resp.StatusCode)
		})
	}
}

func TestCredentialsOnlyToBaseOrigin(t *testing.T) {
	for _, sec := range []Security{Basic("u", "p"), Bearer("t"), APIKeyHeader("X-Key", "k"), APIKeyQuery("key", "k")} {
		t.Run(fmt.Sprint(sec), func(t *testing.T) {
			other := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				assert.Empty(t, r.Header.Get("Authorization"))
				assert.Empty(t, r.Header.Get("X-Key"))
				assert.Empty(t, r.URL.Query().Get("key"))
				_, _ = io.WriteString(w, "elsewhere")
			})
			base := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, other.URL+"/landing", http.StatusFound)
			})
			c, _ := testConn(t, base.URL, sec, ConnConfig{})
			resp, err := c.Get(context.Background(), "start")
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			assert.Equal(t, "elsewhere", string(body))

			req := httptest.NewRequest(http.MethodGet, other.URL+"/direct", nil)
			req.RequestURI = ""
			resp, err = c.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
		})
	}
}

func TestDefaultHeadersAndOverrides(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "tokenwire-test", r.Header.Get("User-Agent"))
		assert.Equal(t, "override", r.Header.Get("X-Tenant"))
		assert.Equal(t, "application/json", r.Header.Get("Accept"))
	})
	c, _ := testConn(t, srv.URL, nil, ConnConfig{Headers: map[string]string{
		"user-agent": "tokenwire-test", "X-Tenant": "default", "Accept": "application/json"}})
	resp, err := c.Get(context.Background(), "x", Header("X-Tenant", "override"))
	require.NoError(t, err)
	resp.Body.Close()
}

func TestDoRelativeAndAbsolute(t *testing.T) {
	var paths []string
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.URL.RequestURI())
		assert.Equal(t, "Bearer t", r.Header.Get("Authorization"))
		assert.Equal(t, "d", r.Header.Get("X-Default"))
		w.WriteHeader(http.StatusNotFound) // Do returns any status
	})
	c, _ := testConn(t, srv.URL+"/api", Bearer("t"), ConnConfig{Headers: map[string]string{"X-Default": "d"}})
	rel, err := http.NewRequestWithContext(context.Background(), http.MethodGet, "Patient/1?_format=json", nil)
	require.NoError(t, err)
	resp, err := c.Do(rel)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Empty(t, rel.Header.Get("X-Default"), "the caller's request is not modified")

	abs, err := http.NewRequestWithContext(context.Background(), http.MethodGet, srv.URL+"/api/Patient?name=x", nil)
	require.NoError(t, err)
	resp, err = c.Do(abs)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, []string{"/api/Patient/1?_format=json", "/api/Patient?name=x"}, paths)

	bad, _ := http.NewRequest(http.MethodGet, "../admin", nil)
	_, err = c.Do(bad)
	assert.ErrorIs(t, err, ErrBadPath)
}

func TestPlainHTTPRefusedByDefault(t *testing.T) {
	_, err := NewConn("crm", ConnConfig{BaseURL: "http://crm.example.com"}, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"crm"`)
	assert.Contains(t, err.Error(), "https required")
	_, err = NewConn("crm", ConnConfig{BaseURL: "https://crm.example.com"}, nil)
	assert.NoError(t, err)
}

func TestErrorContentsHoldNoSecret(t *testing.T) {
	const secret = "TOPSECRET-value"
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		// A backend echoing what it received, and a long body.
		_, _ = fmt.Fprintf(w, "denied for %s %s %s\n\t%s", r.Header.Get("Authorization"), r.URL.Query().Get("key"),
			r.Header.Get("X-Key"), strings.Repeat("x", 4096))
	})
	secs := map[string]Security{
		"basic":  Basic("svc", secret),
		"bearer": Bearer(secret),
		"header": APIKeyHeader("X-Key", secret),
		"query":  APIKeyQuery("key", secret),
	}
	for name, sec := range secs {
		t.Run(name, func(t *testing.T) {
			c, _ := testConn(t, srv.URL, sec, ConnConfig{})
			_, err := c.Get(context.Background(), "customers/42", Query("token", secret))
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, "crm", e.Conn)
			assert.Equal(t, http.MethodGet, e.Method)
			assert.Equal(t, http.StatusForbidden, e.StatusCode)
			assert.LessOrEqual(t, len(e.Excerpt), maxExcerpt)
			assert.Contains(t, e.URL, "/customers/42")
			assert.ErrorIs(t, err, ErrForbidden)
			assert.ErrorIs(t, err, ErrClientError)
			assert.NotErrorIs(t, err, ErrServerError)
			basic := base64.StdEncoding.EncodeToString([]byte("svc:" + secret))
			for _, s := range []string{err.Error(), fmt.Sprintf("%v %+v %#v", err, e, e), fmt.Sprintf("%v %#v", c, sec)} {
				assert.NotContains(t, s, secret)
				assert.NotContains(t, s, basic)
			}
		})
	}
}

func TestTransportErrorIsRedactedAndUnwraps(t *testing.T) {
	url := refusing.URL(t)
	c, clk := testConn(t, url, APIKeyQuery("api_key", "SECRET"), ConnConfig{Retry: RetryPolicy{MaxAttempts: 2}})
	_, err := c.Get(context.Background(), "x", Query("api_key", "SECRET"))
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.ErrorIs(t, err, ErrTransport)
	assert.Equal(t, 0, e.StatusCode)
	assert.Equal(t, 2, e.Attempts)
	assert.Len(t, clk.Sleeps(), 1)
	assert.NotContains(t, err.Error(), "SECRET")
	assert.Contains(t, err.Error(), "api_key=[redacted]")
	var netErr interface{ Timeout() bool }
	assert.True(t, errors.As(err, &netErr), "the cause stays reachable: %v", err)
}

func TestTimeoutPerAttempt(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	c, _ := testConn(t, srv.URL, nil, ConnConfig{Timeout: 50 * time.Millisecond, Retry: RetryPolicy{MaxAttempts: 2}})
	_, err := c.Get(context.Background(), "slow")
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 2, e.Attempts, "a timeout is retried")
	assert.Contains(t, err.Error(), "timeout after 50ms")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}
