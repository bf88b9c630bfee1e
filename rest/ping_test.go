package rest

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/internal/refusing"
)

func TestPingREST(t *testing.T) {
	tests := []struct {
		name    string
		ping    PingConfig
		status  int
		sent    string // method and path the server sees
		wantErr error  // nil: the ping succeeds
	}{
		{"HEAD 200", PingConfig{}, http.StatusOK, "HEAD /api/", nil},
		{"HEAD 204", PingConfig{}, http.StatusNoContent, "HEAD /api/", nil},
		{"HEAD 300 not followed", PingConfig{}, http.StatusMultipleChoices, "HEAD /api/", nil},
		{"HEAD 405 is reachable", PingConfig{}, http.StatusMethodNotAllowed, "HEAD /api/", nil},
		{"HEAD 501 is reachable", PingConfig{}, http.StatusNotImplemented, "HEAD /api/", nil},
		{"GET 405 fails", PingConfig{Method: "GET"}, http.StatusMethodNotAllowed, "GET /api/", ErrClientError},
		{"404 fails", PingConfig{Path: "health"}, http.StatusNotFound, "HEAD /api/health", ErrNotFound},
		{"401 fails", PingConfig{}, http.StatusUnauthorized, "HEAD /api/", ErrUnauthorized},
		{"500 fails", PingConfig{Method: "options"}, http.StatusInternalServerError, "OPTIONS /api/", ErrServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			var mu sync.Mutex
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				got = append(got, r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("X-Default"))
				mu.Unlock()
				w.WriteHeader(tt.status)
			})
			c, _ := testConn(t, srv.URL+"/api/", None(), ConnConfig{Ping: tt.ping, Headers: map[string]string{"X-Default": "d"},
				Retry: RetryPolicy{MaxAttempts: 1}})
			err := c.Ping(context.Background())
			if tt.wantErr == nil {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, tt.wantErr)
				var e *Error
				require.ErrorAs(t, err, &e)
				assert.Equal(t, "crm", e.Conn)
			}
			assert.Equal(t, []string{tt.sent + " d"}, got, "one request, with the default headers")
		})
	}
}

// A ping path with a leading "/" reaches the origin's root (where many
// APIs keep /health); one without stays under the base URL's path.
func TestPingPathAndQuery(t *testing.T) {
	for path, want := range map[string]string{"/status?deep=1": "/status?deep=1", "status?deep=1": "/v1/status?deep=1"} {
		var got []string
		srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
			got = append(got, r.Method+" "+r.URL.RequestURI())
		})
		c, _ := testConn(t, srv.URL+"/v1", None(), ConnConfig{Ping: PingConfig{Method: "GET", Path: path}})
		require.NoError(t, c.Ping(context.Background()), path)
		assert.Equal(t, []string{"GET " + want}, got, path)
	}
}

// A ping setting that could change something or leave the base URL is
// refused when the connection is built, naming the field.
func TestPingRefusesUnsafeSettings(t *testing.T) {
	for p, field := range map[PingConfig]string{{Method: "POST"}: "ping.method", {Method: "DELETE"}: "ping.method",
		{Path: "../admin"}: "ping.path", {Path: "a#b"}: "ping.path"} {
		_, err := NewConn("crm", ConnConfig{BaseURL: "https://crm.example.com", Ping: p}, None())
		require.Error(t, err, "%+v", p)
		assert.Contains(t, err.Error(), `connection "crm": `+field+": ")
	}
}

func TestPingTransportError(t *testing.T) {
	c, _ := testConn(t, refusing.URL(t), None(), ConnConfig{Retry: RetryPolicy{MaxAttempts: 1}})
	require.ErrorIs(t, c.Ping(context.Background()), ErrTransport)
}
