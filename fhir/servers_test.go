package fhir_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/fhir/fhirtest"
)

// serverKind names a FHIR server the behaviour tests run against.
type serverKind string

const (
	// onFhirtest is a new fhirtest.Server per test.
	onFhirtest serverKind = "fhirtest"
	// onReal is the real FHIR server at $TOKENWIRE_FHIR_URL (Medplum's FHIR
	// router in memory, started by .ci/setup; .ci/fhir/NOTES), shared by all
	// tests and runs: a test's data must be its own (see unique).
	onReal serverKind = "real"
)

// realFHIR is the base URL of the real server, read and checked once.
var realFHIR = sync.OnceValues(func() (string, error) {
	base := os.Getenv("TOKENWIRE_FHIR_URL")
	if base == "" {
		return "", nil
	}
	c, err := fhir.New("real", base, &http.Client{Timeout: 30 * time.Second})
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return base, c.Ping(ctx)
})

// forEachServer runs test as a subtest against each FHIR server: a new
// fhirtest server always, and the real server when TOKENWIRE_FHIR_URL names
// one. Without it the real server's subtest is skipped — and fails when
// TOKENWIRE_REQUIRE_FHIR is set (CI), as it does when the server does not
// answer its metadata. The connection is named "ehr" on both.
func forEachServer(t *testing.T, test func(t *testing.T, c *fhir.Conn, srv serverKind)) {
	t.Helper()
	t.Run(string(onFhirtest), func(t *testing.T) {
		srv := fhirtest.NewServer()
		t.Cleanup(srv.Close)
		test(t, srv.Conn("ehr"), onFhirtest)
	})
	t.Run(string(onReal), func(t *testing.T) {
		test(t, realConn(t), onReal)
	})
}

// realConn is a connection "ehr" to the real server, or skips (fails with
// TOKENWIRE_REQUIRE_FHIR set) when there is none.
func realConn(t *testing.T) *fhir.Conn {
	t.Helper()
	base, err := realFHIR()
	switch {
	case err != nil:
		t.Fatalf("the real FHIR server at TOKENWIRE_FHIR_URL does not answer: %v", err)
	case base == "" && os.Getenv("TOKENWIRE_REQUIRE_FHIR") != "":
		t.Fatal("TOKENWIRE_REQUIRE_FHIR is set but TOKENWIRE_FHIR_URL is not (.ci/setup starts the server)")
	case base == "":
		t.Skip("no real FHIR server: set TOKENWIRE_FHIR_URL (.ci/setup starts one)")
	}
	c, err := fhir.New("ehr", base, &http.Client{Timeout: 30 * time.Second})
	require.NoError(t, err)
	return c
}

// unique is a token no other test or run has: for identifiers, family
// names and the like, since the real server keeps what every test wrote.
// It is letters and digits only, so a string search for it matches
// nothing else.
func unique(t testing.TB) string {
	t.Helper()
	b := make([]byte, 8)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return "tw" + hex.EncodeToString(b)
}
