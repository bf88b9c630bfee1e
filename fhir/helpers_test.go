package fhir_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/fhir/fhirtest"
	"github.com/tokenwire/tokenwire/internal/fakeclock"
	"github.com/tokenwire/tokenwire/rest"
	"github.com/tokenwire/tokenwire/rest/backends"
)

// testClock is a clock tests move by hand; the servers' goroutines may read
// it while the test moves it.
type testClock = fakeclock.Clock

func newClock() *testClock { return fakeclock.At(time.Unix(1_700_000_000, 0)) }

func setup(t *testing.T, opts ...fhirtest.Option) (*fhirtest.Server, *fhir.Conn) {
	t.Helper()
	srv := fhirtest.NewServer(opts...)
	t.Cleanup(srv.Close)
	return srv, srv.Conn("ehr")
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

func examplePatient(t testing.TB) *models.Patient {
	t.Helper()
	p, err := fhir.Decode[models.Patient](fixture(t, "patient-example.json"))
	require.NoError(t, err)
	return p
}

func ptr[T any](v T) *T { return &v }

func ctx(t *testing.T) context.Context { return t.Context() }

// noSleep makes a connection retry at once: tests never wait for backoff.
func noSleep(context.Context, time.Duration) error { return nil }

// restDoer is a rest.Conn without credentials to base, sending through rt
// (its own transport when nil) and retrying without waiting.
func restDoer(t *testing.T, base string, rt http.RoundTripper) *rest.Conn {
	t.Helper()
	rc, err := rest.NewConn("ehr", rest.ConnConfig{BaseURL: base}, nil,
		rest.AllowInsecureHTTP(), rest.WithTransport(rt), rest.WithSleep(noSleep))
	require.NoError(t, err)
	return rc
}

// envLookup serves ${VAR} references from vars.
func envLookup(vars map[string]string) rest.Option {
	return backends.WithLookupEnv(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
}

// openConfig parses a configuration (plain-http fakes allowed, ${VAR}
// from vars, retries without waiting) and opens it; the registry is closed
// when the test ends.
func openConfig(t *testing.T, yaml string, vars map[string]string, opts ...rest.Option) *backends.Registry {
	t.Helper()
	cfg, err := backends.Parse([]byte(yaml), rest.AllowInsecureHTTP(), envLookup(vars), rest.WithSleep(noSleep))
	require.NoError(t, err)
	reg, err := backends.Open(ctx(t), cfg, opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = reg.Close() })
	return reg
}

// lookup is the FHIR connection "ehr" to base from a configuration file.
func lookup(t *testing.T, base string) *fhir.Conn {
	t.Helper()
	reg := openConfig(t, "fhir:\n  ehr: {base_url: '${EHR_URL}'}\n", map[string]string{"EHR_URL": base})
	c, err := reg.FHIR("ehr")
	require.NoError(t, err)
	return c
}

// connKinds are the ways a FHIR connection sends its requests: through any
// Doer (a plain http.Client), through a rest.Conn, and as looked up in the
// registry of a configuration file. Errors must look the same through all.
var connKinds = []struct {
	name string
	conn func(t *testing.T, base string) *fhir.Conn
}{
	{"http.Client", func(t *testing.T, base string) *fhir.Conn {
		t.Helper()
		c, err := fhir.New("ehr", base, &http.Client{})
		require.NoError(t, err)
		return c
	}},
	{"rest.Conn", func(t *testing.T, base string) *fhir.Conn {
		t.Helper()
		c, err := fhir.New("ehr", base, restDoer(t, base, nil))
		require.NoError(t, err)
		return c
	}},
	{"backends.Registry.FHIR", lookup},
}

// The bounds a Conn applies by default, as its documentation states them.
const (
	defaultMaxPages   = 1000
	defaultMaxEntries = 10000
	maxLinkLength     = 32 << 10
	defaultMaxBody    = 16 << 20
)
