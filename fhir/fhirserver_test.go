package fhir_test

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/fhir/fhirtest"
)

// newFHIRServer is the FHIR server the tests of validation, terminology,
// compartments and long searches run against: its base URL and a client
// for it. It is an in-process fhirtest server; a harness may return a
// real server's instead. The tests that use it put what they need there
// through the client (Update with ids of their own, see testID) and read
// only what they put, so they hold on a shared server too.
func newFHIRServer(t *testing.T) (base string, client *http.Client) {
	t.Helper()
	srv := fhirtest.NewServer()
	t.Cleanup(srv.Close)
	return srv.URL, srv.Client()
}

// recorder is a Doer that records the method and path of each request.
type recorder struct {
	doer fhir.Doer
	mu   sync.Mutex
	sent []string
}

func (r *recorder) Do(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.sent = append(r.sent, req.Method+" "+req.URL.Path)
	r.mu.Unlock()
	return r.doer.Do(req)
}

// requests returns what was sent, paths relative to base: "GET Patient".
func (r *recorder) requests(base string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	u, _ := url.Parse(base)
	out := make([]string, len(r.sent))
	for i, s := range r.sent {
		m, p, _ := strings.Cut(s, " ")
		out[i] = m + " " + strings.TrimPrefix(p, u.Path+"/")
	}
	return out
}

// serverConn is a connection to newFHIRServer's server, recording what it
// sends.
func serverConn(t *testing.T) (*fhir.Conn, *recorder, string) {
	t.Helper()
	base, client := newFHIRServer(t)
	rec := &recorder{doer: client}
	conn, err := fhir.New("ehr", base, rec)
	require.NoError(t, err)
	return conn, rec, base
}

// testID returns an id no other test run uses: name and a random suffix.
func testID(t testing.TB, name string) string {
	t.Helper()
	b := make([]byte, 6)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return name + "-" + hex.EncodeToString(b)
}

// longQuery pads q with an _elements list (a parameter that only shapes
// the result) so that its URL is longer than 8 KiB: the search goes by
// POST _search.
func longQuery(q *fhir.Query) *fhir.Query {
	names := make([]string, 0, 800)
	for i := range 800 {
		names = append(names, "extension"+strings.Repeat("x", i%7)+"-"+string(rune('a'+i%26)))
	}
	return q.Add("_elements", names...)
}
