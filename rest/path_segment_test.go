package rest

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An empty or "." segment given to Path is a missing value (an id left
// empty), not an attack: the call fails before anything is sent, with
// ErrBadPath and an error that says which segment is empty — never that
// the path "climbs out of the base path". Through Conn.Do too.
func TestPathEmptySegmentIsNamedAsSuch(t *testing.T) {
	var sent atomic.Int32
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { sent.Add(1) })
	c, _ := testConn(t, srv.URL+"/api", None(), ConnConfig{})
	tests := []struct {
		segments []string
		shown    string // the path as the error shows it
		says     string
	}{
		{[]string{"customers", ""}, "customers/[empty]", "segment 2 is empty"},
		{[]string{"", "x"}, "[empty]/x", "segment 1 is empty"},
		{[]string{"customers", "", "orders"}, "customers/[empty]/orders", "segment 2 is empty"},
		{[]string{"customers", "."}, "customers/[.]", `segment 2 is "."`},
	}
	for _, tt := range tests {
		p := Path(tt.segments...)
		_, err := c.Get(context.Background(), p)
		require.ErrorIs(t, err, ErrBadPath, "%q", tt.segments)
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.Equal(t, "crm", e.Conn)
		assert.Contains(t, err.Error(), "+ "+tt.shown+":", "%q", tt.segments)
		assert.Contains(t, err.Error(), tt.says, "%q", tt.segments)
		assert.NotContains(t, err.Error(), "climbs", "%q", tt.segments)

		req, perr := http.NewRequest(http.MethodGet, p, nil)
		require.NoError(t, perr, "a path from Path parses as a URL: %q", p)
		_, err = c.Do(req)
		assert.ErrorIs(t, err, ErrBadPath, "Do %q", tt.segments)
		assert.Contains(t, err.Error(), tt.says, "Do %q", tt.segments)
	}
	_, err := c.Get(context.Background(), Path("customers", ".."))
	assert.ErrorIs(t, err, ErrBadPath, "a .. segment still climbs")
	assert.Contains(t, err.Error(), "climbs out of the base path")
	assert.Zero(t, sent.Load(), "nothing was sent")

	// A hand-written double slash is still one separator.
	resp, err := c.Get(context.Background(), "customers//42")
	require.NoError(t, err)
	drain(resp)
}
