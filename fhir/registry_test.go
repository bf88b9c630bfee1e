package fhir_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"sync"
	"testing"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/fhir"
	"github.com/tokenwire/tokenwire/fhir/fhirtest"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
	"github.com/tokenwire/tokenwire/rest"
)

// regEnv is a SMART-enabled FHIR server whose tokens come from an
// authorization server knowing a JWT client (SMART) and a secret client.
type regEnv struct {
	as   *oauthtest.Server
	srv  *fhirtest.Server
	vars map[string]string
}

func newRegEnv(t *testing.T) *regEnv {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	as := oauthtest.NewServer()
	t.Cleanup(as.Close)
	as.AddJWTClient("ehr-client", key.Public(), "kid-1", "system/Patient.rs")
	as.AddClient("plain-client", "PLAIN-SECRET", "system/Patient.rs")
	sc := *smartConfig
	sc.TokenEndpoint = as.TokenURL()
	srv := fhirtest.NewServer(fhirtest.WithSmartConfiguration(&sc), fhirtest.WithTokenCheck(as.Valid))
	t.Cleanup(srv.Close)
	_, err = srv.Seed(examplePatient(t))
	require.NoError(t, err)
	return &regEnv{as: as, srv: srv, vars: map[string]string{
		"EHR_URL": srv.URL(), "TOKEN_URL": as.TokenURL(), "SECRET": "PLAIN-SECRET",
		"KEY": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
	}}
}

func (e *regEnv) config(t *testing.T, yaml string) *rest.Config {
	t.Helper()
	cfg, err := rest.ParseConfig([]byte(yaml), e.lookup(), rest.AllowInsecureHTTP())
	require.NoError(t, err)
	return cfg
}

func (e *regEnv) lookup() rest.ConfigOption {
	return rest.WithLookupEnv(func(k string) (string, bool) { v, ok := e.vars[k]; return v, ok })
}

func build(t *testing.T, cfg *rest.Config, opts ...fhir.RegistryOption) (*rest.Registry, *fhir.Registry, error) {
	t.Helper()
	reg, err := rest.NewRegistry(context.Background(), cfg, rest.RegistryOptions{Options: rest.Options{AllowInsecureHTTP: true}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = reg.Close() })
	fr, err := fhir.NewRegistry(context.Background(), cfg, reg, opts...)
	return reg, fr, err
}

const smartRegistryYAML = `
security:
  ehr-smart:
    type: oauth2
    client_id: ehr-client
    private_key: ${KEY}
    key_id: kid-1
    signing_alg: ES384
    scopes: [system/Patient.rs]
fhir:
  ehr:
    base_url: ${EHR_URL}
    security: ehr-smart
    smart: true
    retry: {max_attempts: 2}
store: {memory: {size: 16}}
`

func TestRegistrySMARTBackendServices(t *testing.T) {
	e := newRegEnv(t)
	reg, fr, err := build(t, e.config(t, smartRegistryYAML))
	require.NoError(t, err)
	assert.Equal(t, []string{"ehr"}, fr.Names())
	assert.Equal(t, []string{"ehr-smart"}, reg.Security().Names(), "defined by fhir.NewRegistry")
	assert.Zero(t, e.as.TotalRequests(), "no token before the first call")
	assert.Zero(t, e.srv.Hits("GET", wellKnown), "no discovery before the first call")

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			conn, err := fr.Conn("ehr")
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
	assert.Equal(t, 1, e.srv.Hits("GET", wellKnown), "discovery fetched once")
	assert.Equal(t, 1, e.as.Requests("ehr-client"), "one token for 24 reads")
	last, ok := e.as.LastRequest()
	require.True(t, ok)
	assert.Equal(t, oauthtest.AuthPrivateKeyJWT, last.AuthMethod)
	assert.Equal(t, 24, e.srv.Hits("GET", "Patient/example"))

	// A rejected token is renewed and the read resent once, as for REST.
	e.srv.RejectTokens(1)
	conn, err := fr.Conn("ehr")
	require.NoError(t, err)
	_, err = fhir.Read[models.Patient](ctx(t), conn, "example")
	require.NoError(t, err)
	assert.Equal(t, 2, e.as.Requests("ehr-client"))
	assert.Equal(t, 1, e.srv.Hits("GET", wellKnown), "the discovered endpoint is still cached")
}

func TestRegistryPlainOAuth(t *testing.T) {
	e := newRegEnv(t)
	_, fr, err := build(t, e.config(t, `
security:
  ehr-oauth: {type: oauth2, token_url: '${TOKEN_URL}', client_id: plain-client, client_secret: '${SECRET}'}
fhir:
  ehr: {base_url: '${EHR_URL}', security: ehr-oauth}
`))
	require.NoError(t, err)
	conn, err := fr.Conn("ehr")
	require.NoError(t, err)
	for range 3 {
		_, err := fhir.Read[models.Patient](ctx(t), conn, "example")
		require.NoError(t, err)
	}
	assert.Equal(t, 1, e.as.Requests("plain-client"))
	assert.Zero(t, e.srv.Hits("GET", wellKnown), "no discovery without smart")
}

func TestRegistryUnknownConnection(t *testing.T) {
	e := newRegEnv(t)
	_, fr, err := build(t, e.config(t, `
fhir:
  ehr: {base_url: '${EHR_URL}'}
  lab: {base_url: '${EHR_URL}'}
`))
	require.NoError(t, err)
	_, err = fr.Conn("pharmacy")
	assert.ErrorIs(t, err, fhir.ErrUnknownConnection)
	assert.EqualError(t, err, `fhir: unknown connection "pharmacy" (known: ehr, lab)`)

	_, empty, err := build(t, e.config(t, ""))
	require.NoError(t, err)
	_, err = empty.Conn("ehr")
	assert.ErrorIs(t, err, fhir.ErrUnknownConnection)
	assert.ErrorContains(t, err, "no FHIR connections are defined")
}

func TestRegistryConfigErrors(t *testing.T) {
	e := newRegEnv(t)
	tests := []struct {
		name, yaml, want string
	}{
		{"smart with an API key", `
security:
  key: {type: apikey, name: X-Key, value: v}
fhir:
  ehr: {base_url: '${EHR_URL}', security: key, smart: true}
`, `fhir "ehr": security: smart: true needs an oauth2 security definition ("key" is apikey)`},
		{"REST with a token_url-less definition", `
security:
  ehr-smart: {type: oauth2, client_id: ehr-client, private_key: '${KEY}', key_id: kid-1}
rest:
  crm: {base_url: '${EHR_URL}', security: ehr-smart}
fhir:
  ehr: {base_url: '${EHR_URL}', security: ehr-smart, smart: true}
`, `security "ehr-smart": token_url: missing, and rest "crm" cannot discover it`},
		{"SMART with RS256", `
security:
  ehr-smart: {type: oauth2, client_id: ehr-client, private_key: '${KEY}', key_id: kid-1, signing_alg: RS256}
fhir:
  ehr: {base_url: '${EHR_URL}', security: ehr-smart, smart: true}
`, `security "ehr-smart": signing_alg: "RS256": SMART Backend Services signs with RS384 or ES384`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := rest.ParseConfig([]byte(tt.yaml), e.lookup(), rest.AllowInsecureHTTP())
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "PRIVATE KEY")
		})
	}
}

// Configurations built in code skip the file checker; NewRegistry still
// refuses what cannot work.
func TestRegistryBuildErrors(t *testing.T) {
	e := newRegEnv(t)
	smartDef := rest.SecurityConfig{Type: rest.TypeOAuth2, ClientID: "ehr-client", PrivateKey: rest.Secret(e.vars["KEY"]), KeyID: "kid-1"}
	conn := func(base, sec string, smart bool) rest.FHIRConfig {
		return rest.FHIRConfig{ConnConfig: rest.ConnConfig{BaseURL: base, Security: sec}, SMART: smart}
	}
	tests := []struct {
		name string
		cfg  rest.Config
		want string
	}{
		{"smart with an API key", rest.Config{
			Security: map[string]rest.SecurityConfig{"key": {Type: rest.TypeAPIKey, Name: "X-Key", Value: "v"}},
			FHIR:     map[string]rest.FHIRConfig{"ehr": conn(e.srv.URL(), "key", true)},
		}, `fhir: connection "ehr": security: smart: true needs an oauth2 security definition ("key" is apikey)`},
		{"smart without security", rest.Config{
			FHIR: map[string]rest.FHIRConfig{"ehr": conn(e.srv.URL(), "", true)},
		}, `fhir: connection "ehr": security: missing`},
		{"one SMART definition, two servers", rest.Config{
			Security: map[string]rest.SecurityConfig{"ehr-smart": smartDef},
			FHIR: map[string]rest.FHIRConfig{"a": conn(e.srv.URL(), "ehr-smart", true),
				"b": conn("http://127.0.0.1:1/other", "ehr-smart", true)},
		}, `fhir: connection "b": security: "ehr-smart" discovers its token endpoint at http://127.0.0.1:`},
		{"SMART with RS256", rest.Config{
			Security: map[string]rest.SecurityConfig{"ehr-smart": func() rest.SecurityConfig { s := smartDef; s.SigningAlg = "RS256"; return s }()},
			FHIR:     map[string]rest.FHIRConfig{"ehr": conn(e.srv.URL(), "ehr-smart", true)},
		}, `oauthclient: definition "ehr-smart": signing_alg`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := build(t, &tt.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "PRIVATE KEY")
		})
	}
}

func TestRegistryNonSMARTUseOfSMARTDefinition(t *testing.T) {
	e := newRegEnv(t)
	cfg := e.config(t, smartRegistryYAML)
	reg, _, err := build(t, cfg)
	require.NoError(t, err)
	_, err = reg.SecurityFor("ehr-smart")
	assert.ErrorContains(t, err, `security definition "ehr-smart" has no token_url`)
}
