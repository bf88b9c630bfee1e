package fhir_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/fhir/fhirtest"
	"github.com/tokenwire/tokenwire/internal/suites"
	"github.com/tokenwire/tokenwire/oauthclient"
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

// realFHIR is the real server's base URL and the client that reaches
// it, made and checked once: tokenwire's own oauthclient as SMART Backend
// Services when TOKENWIRE_OIDC_DIR names the oidc-provider .ci/setup
// starts beside it (the server then wants its tokens: .ci/fhir/auth.mjs),
// a plain client otherwise.
var realFHIR = sync.OnceValues(func() (realServer, error) {
	base := os.Getenv("TOKENWIRE_FHIR_URL")
	if base == "" {
		return realServer{}, nil
	}
	client := &http.Client{Timeout: 30 * time.Second}
	if dir := os.Getenv("TOKENWIRE_OIDC_DIR"); dir != "" {
		var err error
		if client, err = smartClient(base, dir); err != nil {
			return realServer{}, err
		}
	}
	c, err := fhir.New("real", base, client)
	if err != nil {
		return realServer{}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Ping(ctx); err != nil {
		return realServer{}, err
	}
	// Ping reads metadata, which needs no token: a search does.
	for _, err := range c.Pages(ctx, "Patient", fhir.Params().Add("_id", "none")) {
		if err != nil {
			return realServer{}, err
		}
	}
	return realServer{base: base, client: client}, nil
})

type realServer struct {
	base   string
	client *http.Client
}

// smartClient gets its tokens from the oidc-provider in dir as the client
// jwt-es384 (private_key_jwt, ES384), the token endpoint read from the
// FHIR server's SMART configuration, for the audience base.
func smartClient(base, dir string) (*http.Client, error) {
	pem, err := os.ReadFile(filepath.Join(dir, "es384.pem"))
	if err != nil {
		return nil, err
	}
	cfg, err := oauthclient.SMARTBackendServices(base, oauthclient.Config{Name: "ehr", ClientID: "jwt-es384",
		PrivateKeyPEM: oauthclient.NewSecret(string(pem)), KeyID: "ec", Scopes: []string{"api:read"}, Resources: []string{base}})
	if err != nil {
		return nil, err
	}
	src, err := oauthclient.NewSource(cfg, oauthclient.Options{AllowInsecureHTTP: true})
	if err != nil {
		return nil, err
	}
	client, err := oauthclient.NewClient(src, base)
	if err != nil {
		return nil, err
	}
	client.Timeout = 30 * time.Second
	return client, nil
}

// forEachServer runs test as a subtest against each FHIR server: a new
// fhirtest server always, and the real server when TOKENWIRE_FHIR_URL names
// one. Without it the real server's subtest is skipped — and fails under
// CI or TOKENWIRE_REQUIRE_FHIR (suites.FHIR), as it does when the server
// does not answer. The connection is named "ehr" on both.
func forEachServer(t *testing.T, test func(t *testing.T, c *fhir.Conn, srv serverKind)) {
	t.Helper()
	forEachServerAt(t, nil, func(t *testing.T, base string, client *http.Client, srv serverKind) {
		c, err := fhir.New("ehr", base, client)
		require.NoError(t, err)
		test(t, c, srv)
	})
}

// forEachServerAt is forEachServer for a test that makes its connection
// itself (connTo counts its requests) from the base URL and the client
// that reaches the server; opts configure the fhirtest server.
func forEachServerAt(t *testing.T, opts []fhirtest.Option, test func(t *testing.T, base string, client *http.Client, srv serverKind)) {
	t.Helper()
	t.Run(string(onFhirtest), func(t *testing.T) {
		srv := fhirtest.NewServer(opts...)
		t.Cleanup(srv.Close)
		test(t, srv.URL, srv.Client(), onFhirtest)
	})
	t.Run(string(onReal), func(t *testing.T) {
		r := realOrSkip(t)
		test(t, r.base, r.client, onReal)
	})
}

// realConn is a connection "ehr" to the real server, or skips as
// realOrSkip does.
func realConn(t *testing.T) *fhir.Conn {
	t.Helper()
	r := realOrSkip(t)
	c, err := fhir.New("ehr", r.base, r.client)
	require.NoError(t, err)
	return c
}

// realOrSkip is the real server, or skips when there is none — fails
// instead under CI or TOKENWIRE_REQUIRE_FHIR (suites.FHIR).
func realOrSkip(t *testing.T) realServer {
	t.Helper()
	suites.FHIR.Require(t)
	r, err := realFHIR()
	if err != nil {
		t.Fatalf("the real FHIR server at TOKENWIRE_FHIR_URL does not answer (beside the oidc-provider it wants tokens: set TOKENWIRE_OIDC_DIR): %v", err)
	}
	return r
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
