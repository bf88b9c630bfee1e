package fhir_test

import (
	"crypto/rand"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/fhir/fhirtest"
)

// newTxServer returns a connection to a fhirtest server whose clock moves
// one second a reading, so that versions made one after the other have
// distinct instants, and the counter of the requests sent through it. The
// tests that use it need what the real server does not do (.ci/fhir/NOTES):
// history with its deletions and methods, _since and _at, of a type or
// the system; $everything; conditional references in a transaction (or
// they send nothing at all). The others run on both servers through
// forEachTxServer. They use nothing but the connection and data of their
// own (a fresh identifier system each).
func newTxServer(t *testing.T) (*fhir.Conn, *counter) {
	t.Helper()
	srv := fhirtest.NewServer(tickingClock())
	t.Cleanup(srv.Close)
	return connTo(t, srv.URL, srv.Client())
}

// forEachTxServer runs test against fhirtest (as newTxServer makes it) and
// the real server (forEachServer), with a connection that counts its
// requests.
func forEachTxServer(t *testing.T, test func(t *testing.T, conn *fhir.Conn, sent *counter, srv serverKind)) {
	t.Helper()
	forEachServerAt(t, []fhirtest.Option{tickingClock()}, func(t *testing.T, base string, client *http.Client, srv serverKind) {
		conn, sent := connTo(t, base, client)
		test(t, conn, sent, srv)
	})
}

// tickingClock moves fhirtest's clock one second a reading, so that
// versions made one after the other have distinct instants.
func tickingClock() fhirtest.Option {
	var mu sync.Mutex
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return fhirtest.WithClock(func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Second)
		return now
	})
}

// connTo is a connection to baseURL whose requests are counted.
func connTo(t *testing.T, baseURL string, client *http.Client) (*fhir.Conn, *counter) {
	t.Helper()
	n := &counter{next: client}
	conn, err := fhir.New("ehr", baseURL, n)
	require.NoError(t, err)
	return conn, n
}

// counter is a Doer that counts the requests it sends.
type counter struct {
	next fhir.Doer
	n    atomic.Int64
}

func (c *counter) Do(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.Do(r)
}

// Load returns the number of requests sent so far.
func (c *counter) Load() int { return int(c.n.Load()) }

// testSystem is an identifier system of the test's own, so that its data
// is told apart from any other on a shared server.
func testSystem(t *testing.T) string {
	t.Helper()
	return "urn:tokenwire:test:" + rand.Text()
}
