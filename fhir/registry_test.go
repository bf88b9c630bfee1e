package fhir_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/fhir/fhirtest"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
	"github.com/tokenwire/tokenwire/rest"
	"github.com/tokenwire/tokenwire/rest/backends"
)

// wellKnown is where a SMART server serves its configuration, relative to
// the FHIR base URL.
const wellKnown = ".well-known/smart-configuration"

// smartConfiguration is a SMART Backend Services server's configuration
// naming tokenURL.
func smartConfiguration(tokenURL string) *fhirtest.SmartConfiguration {
	return &fhirtest.SmartConfiguration{
		TokenEndpoint:                     tokenURL,
		TokenEndpointAuthMethodsSupported: []string{"private_key_jwt"},
		TokenEndpointAuthSigningAlgs:      []string{"RS384", "ES384"},
		GrantTypesSupported:               []string{"client_credentials"},
		ScopesSupported:                   []string{"system/*.rs"},
		Capabilities:                      []string{"client-confidential-asymmetric"},
	}
}

func pemKey(t *testing.T, key crypto.Signer) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func ecKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	return key
}

// smartFakes is a SMART-enabled FHIR server holding the example Patient,
// whose tokens come from an authorization server that knows a JWT client
// (ehr-client, key id kid-1) and a secret client (plain-client); vars
// fill in the ${VAR} references of the configurations below.
type smartFakes struct {
	as   *oauthtest.Server
	srv  *fhirtest.Server
	vars map[string]string
}

func newSmartFakes(t *testing.T, key crypto.Signer, opts ...oauthtest.Option) *smartFakes {
	t.Helper()
	as := oauthtest.NewServer(opts...)
	t.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: "ehr-client", Key: key.Public(), KeyID: "kid-1", Scopes: []string{"system/Patient.rs"}})
	as.AddClient(oauthtest.Client{ID: "plain-client", Secret: "PLAIN-SECRET", Scopes: []string{"system/Patient.rs"}})
	srv := fhirtest.NewServer(fhirtest.WithSmartConfiguration(smartConfiguration(as.TokenURL())), fhirtest.WithTokenCheck(as.Valid))
	t.Cleanup(srv.Close)
	_, err := srv.Seed(examplePatient(t))
	require.NoError(t, err)
	return &smartFakes{as: as, srv: srv, vars: map[string]string{
		"EHR_URL": srv.URL, "TOKEN_URL": as.TokenURL(), "SECRET": "PLAIN-SECRET", "KEY": pemKey(t, key),
	}}
}

// smartYAML is a SMART Backend Services connection: its definition has no
// token_url.
const smartYAML = `
security:
  ehr-smart:
    type: oauth2
    client_id: ehr-client
    private_key: ${KEY}
    key_id: kid-1
    signing_alg: ${ALG:-ES384}
    scopes: [system/Patient.rs]
fhir:
  ehr:
    base_url: ${EHR_URL}
    security: ehr-smart
    smart: true
    retry: {max_attempts: 2}
store: {memory: {size: 16}}
`

// checkAssertion checks a SMART Backend Services client assertion.
func checkAssertion(t *testing.T, raw string, pub crypto.PublicKey, alg, aud string) {
	t.Helper()
	claims := jwt.RegisteredClaims{}
	tok, err := jwt.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return pub, nil },
		jwt.WithValidMethods([]string{alg}), jwt.WithAudience(aud), jwt.WithIssuer("ehr-client"), jwt.WithSubject("ehr-client"))
	require.NoError(t, err)
	assert.Equal(t, "kid-1", tok.Header["kid"])
	assert.Equal(t, "JWT", tok.Header["typ"])
	assert.NotEmpty(t, claims.ID, "jti")
	life := claims.ExpiresAt.Sub(claims.IssuedAt.Time)
	assert.LessOrEqual(t, life, 5*time.Minute)
	assert.Positive(t, life)
}

func readExample(t *testing.T, conn *fhir.Conn) {
	t.Helper()
	p, err := fhir.Read[models.Patient](ctx(t), conn, "example")
	require.NoError(t, err)
	assert.Equal(t, "Chalmers", *p.Name[0].Family)
}

func TestLookupSMARTBackendServices(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	for _, tc := range []struct {
		alg string
		key crypto.Signer
	}{{"RS384", rsaKey}, {"ES384", ecKey(t)}} {
		t.Run(tc.alg, func(t *testing.T) {
			f := newSmartFakes(t, tc.key)
			f.vars["ALG"] = tc.alg
			reg := openConfig(t, smartYAML, f.vars)
			assert.Zero(t, f.as.Requests(""), "no token before the first call")
			assert.Zero(t, f.srv.Hits("GET", wellKnown), "no discovery before the first call")

			ehr, err := reg.FHIR("ehr")
			require.NoError(t, err)
			assert.Equal(t, f.srv.URL, ehr.BaseURL())
			for range 3 {
				readExample(t, ehr)
			}
			assert.Equal(t, 1, f.as.Requests("ehr-client"), "one token for three reads")
			assert.Equal(t, 1, f.srv.Hits("GET", wellKnown), "one discovery for three reads")
			assert.Equal(t, 3, f.srv.Hits("GET", "Patient/example"))
			last, ok := f.as.LastRequest()
			require.True(t, ok)
			assert.Equal(t, "private_key_jwt", last.AuthMethod)
			assert.Equal(t, "system/Patient.rs", last.Form.Get("scope"))
			checkAssertion(t, last.Form.Get("client_assertion"), tc.key.Public(), tc.alg, f.as.TokenURL())

			// A rejected token is renewed and the read resent once, as for REST.
			f.srv.FailNext(1, http.StatusUnauthorized)
			readExample(t, ehr)
			assert.Equal(t, 2, f.as.Requests("ehr-client"))
			assert.Equal(t, 1, f.srv.Hits("GET", wellKnown), "the discovered endpoint is still cached")
			assert.Equal(t, 5, f.srv.Hits("GET", "Patient/example"), "the 401 and the resent read")
		})
	}
}

func TestLookupSMARTConcurrentCallersShareOneDiscovery(t *testing.T) {
	f := newSmartFakes(t, ecKey(t))
	reg := openConfig(t, smartYAML, f.vars)

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			conn, err := reg.FHIR("ehr")
			if !assert.NoError(t, err) {
				return
			}
			for range 3 {
				p, err := fhir.Read[models.Patient](ctx(t), conn, "example")
				if assert.NoError(t, err) {
					assert.Equal(t, "Chalmers", *p.Name[0].Family)
				}
			}
		})
	}
	wg.Wait()
	assert.Equal(t, 1, f.srv.Hits("GET", wellKnown), "discovery fetched once")
	assert.Equal(t, 1, f.as.Requests("ehr-client"), "one token for 24 reads")
	assert.Equal(t, 24, f.srv.Hits("GET", "Patient/example"))
}

// The discovered token endpoint is kept for an hour: a
// token fetched within it does not read the document again, one fetched
// after it does.
func TestLookupSMARTDiscoveryCachedForTTL(t *testing.T) {
	clock := newClock()
	// Tokens outlive the test's clock moves: only FailNext(n, 401) makes the
	// source fetch, synchronously (no background renewal to wait for).
	f := newSmartFakes(t, ecKey(t), oauthtest.WithClock(clock.Now), oauthtest.WithTokenLifetime(3*time.Hour))
	reg := openConfig(t, smartYAML, f.vars, rest.WithClock(clock.Now))
	ehr, err := reg.FHIR("ehr")
	require.NoError(t, err)

	readExample(t, ehr)
	require.Equal(t, 1, f.as.Requests("ehr-client"))
	require.Equal(t, 1, f.srv.Hits("GET", wellKnown))

	clock.Advance(time.Hour / 2)
	f.srv.FailNext(1, http.StatusUnauthorized)
	readExample(t, ehr)
	assert.Equal(t, 2, f.as.Requests("ehr-client"), "a new token")
	assert.Equal(t, 1, f.srv.Hits("GET", wellKnown), "from the cached endpoint")

	clock.Advance(time.Hour/2 + time.Minute)
	f.srv.FailNext(1, http.StatusUnauthorized)
	readExample(t, ehr)
	assert.Equal(t, 3, f.as.Requests("ehr-client"), "a new token")
	assert.Equal(t, 2, f.srv.Hits("GET", wellKnown), "the document is read again after the TTL")
}

func TestLookupOAuthWithTokenURL(t *testing.T) {
	for _, smart := range []bool{false, true} {
		t.Run(fmt.Sprint("smart=", smart), func(t *testing.T) {
			f := newSmartFakes(t, ecKey(t))
			reg := openConfig(t, fmt.Sprintf(`
security:
  ehr-oauth: {type: oauth2, token_url: '${TOKEN_URL}', client_id: plain-client, client_secret: '${SECRET}'}
fhir:
  ehr: {base_url: '${EHR_URL}', security: ehr-oauth, smart: %v}
`, smart), f.vars)
			conn, err := reg.FHIR("ehr")
			require.NoError(t, err)
			for range 3 {
				readExample(t, conn)
			}
			assert.Equal(t, 1, f.as.Requests("plain-client"))
			last, ok := f.as.LastRequest()
			require.True(t, ok)
			assert.Equal(t, "client_secret_basic", last.AuthMethod)
			assert.Zero(t, f.srv.Hits("GET", wellKnown), "no discovery with a token_url")
		})
	}
}

func TestLookupUnknownConnection(t *testing.T) {
	const some = `
rest:
  crm: {base_url: 'https://crm.example.com'}
fhir:
  ehr: {base_url: 'https://ehr.example.com/fhir'}
  lab: {base_url: 'https://lab.example.com/fhir'}
`
	tests := []struct {
		name, yaml, lookup, want string
		closed                   bool
	}{
		{"the known ones are listed", some, "pharmacy", `backends: unknown connection "pharmacy" (known: crm, ehr, lab)`, false},
		{"none defined", "", "ehr", `backends: unknown connection "ehr": no connections are defined`, false},
		{"registry closed", some, "ehr", `backends: connection "ehr": closed`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := openConfig(t, tt.yaml, nil)
			if tt.closed {
				require.NoError(t, reg.Close())
			}
			conn, err := reg.FHIR(tt.lookup)
			assert.Nil(t, conn)
			if tt.closed {
				assert.ErrorIs(t, err, backends.ErrClosed, "a closed registry says so")
			} else {
				assert.ErrorIs(t, err, backends.ErrUnknownConnection)
			}
			assert.EqualError(t, err, tt.want)
		})
	}
}

// The registry hands out the same FHIR connection for a name every time,
// so that its server's capabilities are read once; a reload that changes
// the connection hands out a new one, while the old one keeps working.
func TestRegistryFHIRIsOneConnectionPerName(t *testing.T) {
	a, _ := setup(t)
	b, _ := setup(t)
	const file = "fhir:\n  ehr: {base_url: '${EHR_URL}'}\n"
	reg := openConfig(t, file, map[string]string{"EHR_URL": a.URL})
	before, err := reg.FHIR("ehr")
	require.NoError(t, err)
	for range 5 {
		c, err := reg.FHIR("ehr")
		require.NoError(t, err)
		require.Same(t, before, c)
		ok, err := c.Supports(ctx(t), "Patient", "read")
		require.NoError(t, err)
		assert.True(t, ok)
	}
	assert.Equal(t, 1, a.Hits("GET", "metadata"), "five lookups and Supports: one capability read")

	cfg, err := backends.Parse([]byte(file), rest.AllowInsecureHTTP(), envLookup(map[string]string{"EHR_URL": b.URL}))
	require.NoError(t, err)
	_, err = reg.Reload(ctx(t), cfg)
	require.NoError(t, err)
	after, err := reg.FHIR("ehr")
	require.NoError(t, err)
	assert.Equal(t, b.URL, after.BaseURL())
	require.NoError(t, before.Ping(ctx(t)))
	require.NoError(t, after.Ping(ctx(t)))
	assert.Equal(t, 2, a.Hits("GET", "metadata"))
	assert.Equal(t, 1, b.Hits("GET", "metadata"))
}

// problem is what a test expects of one backends.Problem.
type problem struct{ where, field, reason string }

func checkProblems(t *testing.T, err error, want []problem) {
	t.Helper()
	var ce *backends.ConfigError
	require.ErrorAs(t, err, &ce, "%v", err)
	require.Len(t, ce.Problems, len(want), "%v", err)
	for i, w := range want {
		p := ce.Problems[i]
		assert.Equal(t, w.where, p.Where, "%v", p)
		assert.Equal(t, w.field, p.Field, "%v", p)
		assert.Contains(t, p.Reason, w.reason)
	}
	assert.NotContains(t, err.Error(), "PRIVATE KEY")
}

// A configuration file that cannot work is refused by the loader, every
// problem named by entry and field.
func TestLookupConfigErrors(t *testing.T) {
	vars := map[string]string{"EHR_URL": "http://127.0.0.1:1/fhir", "OTHER_URL": "http://127.0.0.1:2/fhir", "KEY": pemKey(t, ecKey(t))}
	const smartDef = "security:\n  ehr-smart: {type: oauth2, client_id: ehr-client, private_key: '${KEY}', key_id: kid-1"
	const smartConn = "fhir:\n  ehr: {base_url: '${EHR_URL}', security: ehr-smart, smart: true}\n"
	tests := []struct {
		name, yaml string
		want       []problem
	}{
		{"smart with an API key", `
security:
  key: {type: apikey, name: X-Key, value: v}
fhir:
  ehr: {base_url: '${EHR_URL}', security: key, smart: true}
`, []problem{{`fhir "ehr"`, "security", `smart: true needs an oauth2 security definition ("key" is apikey)`}}},
		{"smart without security", "fhir:\n  ehr: {base_url: '${EHR_URL}', smart: true}\n",
			[]problem{{`fhir "ehr"`, "security", "missing: smart: true needs an oauth2 security definition"}}},
		{"a REST connection using a definition without token_url", smartDef + "}\n" + smartConn +
			"rest:\n  crm: {base_url: '${EHR_URL}', security: ehr-smart}\n",
			[]problem{{`security "ehr-smart"`, "token_url", `missing, and rest "crm" cannot discover it`}}},
		{"one SMART definition, two base URLs", smartDef + "}\n" + `
fhir:
  a: {base_url: '${EHR_URL}', security: ehr-smart, smart: true}
  b: {base_url: '${OTHER_URL}', security: ehr-smart, smart: true}
`, []problem{{`fhir "b"`, "security", `"ehr-smart" discovers its token endpoint at http://127.0.0.1:1/fhir; a server at another base URL needs its own definition`}}},
		{"RS256", smartDef + ", signing_alg: RS256}\n" + smartConn,
			[]problem{{`security "ehr-smart"`, "signing_alg", "SMART Backend Services signs with RS384 or ES384"}}},
		{"client secret method", smartDef + ", auth_method: client_secret_basic}\n" + smartConn,
			[]problem{{`security "ehr-smart"`, "auth_method", "SMART Backend Services uses private_key_jwt"}}},
		{"no key id", "security:\n  ehr-smart: {type: oauth2, client_id: ehr-client, private_key: '${KEY}'}\n" + smartConn,
			[]problem{{`security "ehr-smart"`, "key_id", "missing"}}},
		{"long assertion", smartDef + ", assertion_lifetime: 10m}\n" + smartConn,
			[]problem{{`security "ehr-smart"`, "assertion_lifetime", "at most 5m"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := backends.Parse([]byte(tt.yaml), rest.AllowInsecureHTTP(), envLookup(vars))
			checkProblems(t, err, tt.want)
		})
	}
}

// A configuration built in code skips the loader; Open checks it the same
// way, so that what cannot work is never built.
func TestLookupOpenChecksConfigBuiltInCode(t *testing.T) {
	smartDef := backends.SecurityConfig{Type: "oauth2", Config: oauthclient.Config{ClientID: "ehr-client", PrivateKeyPEM: oauthclient.NewSecret(pemKey(t, ecKey(t))), KeyID: "kid-1"}}
	conn := func(base, sec string) backends.FHIRConfig {
		return backends.FHIRConfig{ConnConfig: backends.ConnConfig{ConnConfig: rest.ConnConfig{BaseURL: base, Security: sec}}, SMART: true}
	}
	rs256 := smartDef
	rs256.SigningAlg = "RS256"
	tests := []struct {
		name string
		cfg  backends.Config
		want []problem
	}{
		{"smart with an API key", backends.Config{
			Security: map[string]backends.SecurityConfig{"key": {Type: "apikey", Name: "X-Key", Value: oauthclient.NewSecret("v")}},
			FHIR:     map[string]backends.FHIRConfig{"ehr": conn("https://ehr.example.com/fhir", "key")},
		}, []problem{{`fhir "ehr"`, "security", `smart: true needs an oauth2 security definition ("key" is apikey)`}}},
		{"smart without security", backends.Config{
			FHIR: map[string]backends.FHIRConfig{"ehr": conn("https://ehr.example.com/fhir", "")},
		}, []problem{{`fhir "ehr"`, "security", "missing"}}},
		{"one SMART definition, two base URLs", backends.Config{
			Security: map[string]backends.SecurityConfig{"ehr-smart": smartDef},
			FHIR: map[string]backends.FHIRConfig{"a": conn("https://a.example.com/fhir", "ehr-smart"),
				"b": conn("https://b.example.com/fhir", "ehr-smart")},
		}, []problem{{`fhir "b"`, "security", `"ehr-smart" discovers its token endpoint at https://a.example.com/fhir`}}},
		{"RS256", backends.Config{
			Security: map[string]backends.SecurityConfig{"ehr-smart": rs256},
			FHIR:     map[string]backends.FHIRConfig{"ehr": conn("https://ehr.example.com/fhir", "ehr-smart")},
		}, []problem{{`security "ehr-smart"`, "signing_alg", "SMART Backend Services signs with RS384 or ES384"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg, err := backends.Open(ctx(t), &tt.cfg)
			assert.Nil(t, reg)
			checkProblems(t, err, tt.want)
		})
	}
}

// discoveryServer is a FHIR server whose .well-known/smart-configuration
// answers status and body, counting the reads; any other request is
// counted as a FHIR call.
type discoveryServer struct {
	srv          *httptest.Server
	reads, calls atomic.Int32
}

func newDiscoveryServer(t *testing.T, tls bool, status int, body string) *discoveryServer {
	t.Helper()
	d := &discoveryServer{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/fhir/"+wellKnown {
			d.calls.Add(1)
			http.Error(w, "not a FHIR server", http.StatusTeapot)
			return
		}
		d.reads.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = fmt.Fprint(w, body)
	})
	if tls {
		d.srv = httptest.NewTLSServer(h)
	} else {
		d.srv = httptest.NewServer(h)
	}
	t.Cleanup(d.srv.Close)
	return d
}

// A discovery document that cannot be used fails the call (no response:
// the token could not be had) with an error saying why; no token request
// is made, and the failure is not kept: the next call past the token
// source's backoff reads the document again.
func TestLookupSMARTDiscoveryFailures(t *testing.T) {
	as := oauthtest.NewServer()
	t.Cleanup(as.Close)
	key := ecKey(t)
	as.AddClient(oauthtest.Client{ID: "ehr-client", Key: key.Public(), KeyID: "kid-1", Scopes: []string{"system/Patient.rs"}})
	doc := func(edit func(*fhirtest.SmartConfiguration)) string {
		sc := smartConfiguration(as.TokenURL())
		edit(sc)
		b, err := json.Marshal(sc)
		require.NoError(t, err)
		return string(b)
	}
	tests := []struct {
		name   string
		https  bool // the FHIR server is https, and plain http is not allowed
		status int
		body   string
		want   string
	}{
		{"no token_endpoint", false, 200, `{"token_endpoint_auth_methods_supported":["private_key_jwt"]}`, "smart-configuration: no token_endpoint"},
		{"relative token_endpoint", false, 200, `{"token_endpoint":"/token"}`, "token_endpoint: not an absolute http(s) URL"},
		{"not JSON", false, 200, `<html>SMART</html>`, "smart-configuration: not a JSON document"},
		{"404", false, 404, `{}`, "status 404"},
		{"private_key_jwt not listed", false, 200, doc(func(sc *fhirtest.SmartConfiguration) {
			sc.TokenEndpointAuthMethodsSupported = []string{"client_secret_basic"}
		}), "the token endpoint does not accept private_key_jwt (it lists [client_secret_basic])"},
		{"ES384 not listed", false, 200, doc(func(sc *fhirtest.SmartConfiguration) {
			sc.TokenEndpointAuthSigningAlgs = []string{"RS384"}
		}), "the token endpoint does not accept ES384 assertions (it lists [RS384])"},
		{"http token endpoint of an https server", true, 200, doc(func(sc *fhirtest.SmartConfiguration) {
			sc.TokenEndpoint = "http://127.0.0.1:1/token"
		}), "token_endpoint: must use https"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := as.Requests("")
			ds := newDiscoveryServer(t, tt.https, tt.status, tt.body)
			clock := newClock()
			opts := []rest.Option{envLookup(map[string]string{"EHR_URL": ds.srv.URL + "/fhir", "KEY": pemKey(t, key)}),
				rest.WithClock(clock.Now), rest.WithSleep(noSleep)}
			if tt.https {
				opts = append(opts, rest.WithTransport(ds.srv.Client().Transport)) // trusts the test server's certificate
			} else {
				opts = append(opts, rest.AllowInsecureHTTP())
			}
			cfg, err := backends.Parse([]byte(smartYAML), opts...)
			require.NoError(t, err)
			reg, err := backends.Open(ctx(t), cfg)
			require.NoError(t, err)
			t.Cleanup(func() { _ = reg.Close() })
			ehr, err := reg.FHIR("ehr")
			require.NoError(t, err)

			for i := 1; i <= 2; i++ {
				_, err = fhir.Read[models.Patient](ctx(t), ehr, "example")
				require.Error(t, err)
				t.Log(err)
				assert.ErrorIs(t, err, rest.ErrTransport)
				var fe *fhir.Error
				require.ErrorAs(t, err, &fe)
				assert.Zero(t, fe.StatusCode)
				assert.Contains(t, err.Error(), tt.want)
				assert.Contains(t, err.Error(), `security definition "ehr-smart"`)
				assert.True(t, strings.HasPrefix(err.Error(), "fhir: ehr: GET "), err.Error())
				assert.NotContains(t, err.Error(), "PRIVATE KEY")
				assert.Equal(t, int32(i), ds.reads.Load(), "failures are not cached")
				clock.Advance(10 * time.Minute) // past the token source's backoff
			}
			assert.Zero(t, ds.calls.Load(), "no call reaches the FHIR server without a token")
			assert.Equal(t, before, as.Requests(""), "no token request")
		})
	}
}

// A SMART Backend Services connection from a configuration file: the
// definition has no token_url; the FHIR server's smart-configuration
// names the token endpoint.
func Example_smartBackendServices() {
	// The fakes: an authorization server that knows the client's public
	// key, and a FHIR server that points at it.
	key, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	as := oauthtest.NewServer()
	defer as.Close()
	as.AddClient(oauthtest.Client{ID: "ehr-client", Key: key.Public(), KeyID: "key-1", Scopes: []string{"system/Patient.rs"}})
	srv := fhirtest.NewServer(fhirtest.WithTokenCheck(as.Valid), fhirtest.WithSmartConfiguration(&fhirtest.SmartConfiguration{
		TokenEndpoint: as.TokenURL(), TokenEndpointAuthMethodsSupported: []string{"private_key_jwt"},
	}))
	defer srv.Close()
	family := "Chalmers"
	_, _ = srv.Seed(models.Patient{Id: &family, Name: []models.HumanName{{Family: &family}}})
	env := map[string]string{"EHR_URL": srv.URL, "EHR_KEY": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))}

	const config = `
security:
  ehr-smart:
    type: oauth2
    client_id: ehr-client
    private_key: ${EHR_KEY}   # in production: file:/run/secrets/ehr-key.pem
    key_id: key-1
    scopes: [system/Patient.rs]
fhir:
  ehr: {base_url: '${EHR_URL}', security: ehr-smart, smart: true}
`
	cfg, err := backends.Parse([]byte(config), rest.AllowInsecureHTTP(), // the fakes speak http
		backends.WithLookupEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })) // in production: the environment
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	reg, err := backends.Open(ctx, cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer reg.Close()

	ehr, err := reg.FHIR("ehr")
	if err != nil {
		fmt.Println(err)
		return
	}
	for range 3 {
		p, err := fhir.Read[models.Patient](ctx, ehr, "Chalmers")
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(*p.Name[0].Family)
	}
	fmt.Println("token requests:", as.Requests("ehr-client"))
	fmt.Println("discovery reads:", srv.Hits("GET", ".well-known/smart-configuration"))
	// Output:
	// Chalmers
	// Chalmers
	// Chalmers
	// token requests: 1
	// discovery reads: 1
}
