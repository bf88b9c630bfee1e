package rest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/internal/refusing"
)

func TestRewindFailureIsAnErrorNotAPanic(t *testing.T) {
	n, url := flaky(t, nil, 503)
	c, _ := testConn(t, url, nil, ConnConfig{})
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPut, "r", bytes.NewReader([]byte("payload")))
	require.NoError(t, err)
	errGetBody := errors.New("body source gone")
	req.GetBody = func() (io.ReadCloser, error) { return nil, errGetBody }
	_, err = c.Do(req)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.ErrorIs(t, err, errGetBody)
	assert.Equal(t, http.MethodPut, e.Method)
	assert.Equal(t, int32(1), n.Load())
}

func TestHugeRetryAfterGivesUpAtOnce(t *testing.T) {
	for name, v := range map[string]string{
		"seconds":         "9300000000",
		"beyond int64":    "99999999999999999999",
		"max int64":       "9223372036854775807",
		"date far ahead":  "Fri, 31 Dec 9999 23:59:59 GMT",
		"just over limit": "31",
	} {
		t.Run(name, func(t *testing.T) {
			n, url := flaky(t, http.Header{"Retry-After": {v}}, 503, 503)
			c, clk := testConn(t, url, nil, ConnConfig{Retry: RetryPolicy{MaxElapsed: 30 * time.Second}})
			_, err := c.Get(context.Background(), "x")
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, http.StatusServiceUnavailable, e.StatusCode)
			assert.Equal(t, int32(1), n.Load(), "no retry when the wait exceeds max_elapsed")
			assert.Empty(t, clk.Sleeps(), "no sleep requested")
		})
	}
}

func TestAttemptBoundedByMaxElapsed(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	c, _ := testConn(t, srv.URL, nil, ConnConfig{Timeout: time.Minute,
		Retry: RetryPolicy{MaxAttempts: 1, MaxElapsed: 100 * time.Millisecond}})
	_, err := c.Get(context.Background(), "slow")
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Contains(t, err.Error(), "timeout after 100ms", "the attempt ends with max_elapsed, not the connection's timeout")
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestConditionalWritesAndTransportErrors(t *testing.T) {
	hangUp := func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if assert.NoError(t, err) {
			conn.Close() // the request arrived; the answer is lost
		}
	}
	tests := []struct {
		name, method, header string
		status               int // 0: hang up after reading the request
		want                 int32
	}{
		{"put if-match lost answer", http.MethodPut, "If-Match", 0, 1},
		{"delete if-match lost answer", http.MethodDelete, "If-Match", 0, 1},
		{"put if-none-match lost answer", http.MethodPut, "If-None-Match", 0, 1},
		{"conditional create", http.MethodPost, "If-None-Exist", 0, 1},
		{"put unconditional lost answer", http.MethodPut, "", 0, 3},
		{"get if-none-match lost answer", http.MethodGet, "If-None-Match", 0, 3},
		{"put if-match 503", http.MethodPut, "If-Match", 503, 3},
		{"put if-match 429", http.MethodPut, "If-Match", 429, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				n.Add(1)
				if tt.status == 0 {
					hangUp(w, r)
					return
				}
				w.WriteHeader(tt.status)
			})
			c, _ := testConn(t, srv.URL, nil, ConnConfig{})
			var opts []RequestOption
			if tt.header != "" {
				opts = append(opts, Header(tt.header, `W/"1"`))
			}
			if tt.method == http.MethodPost {
				opts = append(opts, Retryable())
			}
			_, err := c.Send(context.Background(), tt.method, "r", strings.NewReader("x"), opts...)
			require.Error(t, err)
			assert.Equal(t, tt.want, n.Load(), "attempts")
		})
	}
}

func TestConditionalWriteRetriedWhenNotSent(t *testing.T) {
	c, clk := testConn(t, refusing.URL(t), nil, ConnConfig{})
	_, err := c.Send(context.Background(), http.MethodPut, "x", strings.NewReader("x"), Header("If-Match", `"1"`))
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, defaultMaxAttempts, e.Attempts, "a refused connection never reached the server")
	assert.Len(t, clk.Sleeps(), defaultMaxAttempts-1)
}
