package rest

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/internal/fakeclock"
)

// newServer starts an httptest server on loopback, closed at cleanup.
func newServer(t testing.TB, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// testConn builds a test connection to url with a fake clock.
func testConn(t *testing.T, url string, sec Security, cfg ConnConfig) (*Conn, *fakeClock) {
	t.Helper()
	clk := newFakeClock()
	cfg.BaseURL = url
	c, err := NewConn("crm", cfg, sec, AllowInsecureHTTP(), WithClock(clk.Now), WithSleep(clk.Sleep))
	require.NoError(t, err)
	return c, clk
}

// fakeClock is the tests' settable clock.
type fakeClock = fakeclock.Clock

func newFakeClock() *fakeClock { return fakeclock.New() }
