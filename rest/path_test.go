package rest

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A value from outside given to Path stays one segment: the server sees
// it as data in the path, never a query, a fragment or a climb.
func TestPathKeepsEachValueOneSegment(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.URL.EscapedPath()+" query="+r.URL.RawQuery)
		mu.Unlock()
	})
	c, _ := testConn(t, srv.URL+"/api", None(), ConnConfig{})
	for _, id := range []string{"a?b=c", "a#b", "%2e%2e", "a/b"} {
		resp, err := c.Get(context.Background(), Path("customers", id))
		require.NoError(t, err, id)
		drain(resp)
	}
	assert.Equal(t, []string{
		"/api/customers/a%3Fb=c query=",
		"/api/customers/a%23b query=",
		"/api/customers/%252e%252e query=",
		"/api/customers/a%2Fb query=",
	}, got)

	for _, id := range []string{"..", ".", ""} {
		_, err := c.Get(context.Background(), Path("customers", id))
		assert.ErrorIs(t, err, ErrBadPath, "%q", id)
	}
	mu.Lock()
	assert.Len(t, got, 4, "a refused path sends nothing")
	mu.Unlock()
}

// A path argument written by hand can never smuggle a query, a fragment
// or a ".." segment: each is refused with ErrBadPath before anything is
// sent, and the error names the connection.
func TestPathArgumentRefusesQueryFragmentAndClimb(t *testing.T) {
	var sent atomic.Int32
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { sent.Add(1) })
	c, _ := testConn(t, srv.URL+"/api", None(), ConnConfig{})
	for _, p := range []string{"customers/a?b=c", "a#b", "..", "%2e%2e", "customers/../admin", "customers/%2E%2e/admin"} {
		_, err := c.Get(context.Background(), p)
		require.ErrorIs(t, err, ErrBadPath, p)
		var e *Error
		require.ErrorAs(t, err, &e, p)
		assert.Equal(t, "crm", e.Conn, p)
	}
	assert.Zero(t, sent.Load())
}
