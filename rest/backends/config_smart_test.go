package backends

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/internal/files"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/rest"
)

func pemKey(t *testing.T, key any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// smartEnv gives the ${KEY} of the SMART configs below: an EC key of the
// given curve.
func smartEnv(t *testing.T, curve elliptic.Curve) rest.Option {
	t.Helper()
	key, err := ecdsa.GenerateKey(curve, rand.Reader)
	require.NoError(t, err)
	return env(map[string]string{"KEY": pemKey(t, key)})
}

const smartYAML = `
security:
  ehr-smart: {type: oauth2, client_id: ehr-client, private_key: '${KEY}', key_id: k1, scopes: [system/Patient.rs]}
  crm: {type: oauth2, token_url: 'https://login.example.com/t', client_id: c, client_secret: s}
fhir:
  ehr: {base_url: 'https://ehr.example.org/fhir', security: ehr-smart, smart: true}
rest:
  crm: {base_url: 'https://crm.example.com', security: crm}
`

func TestSMARTDefinitionBuiltWithItsConnection(t *testing.T) {
	cfg, err := Parse([]byte(smartYAML), smartEnv(t, elliptic.P384()))
	require.NoError(t, err)
	reg, err := Open(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = reg.Close() })
	assert.Equal(t, []string{"crm", "ehr"}, reg.Names(), "REST and FHIR connections in one registry")
	assert.Equal(t, []string{"crm", "ehr-smart"}, reg.security.Names(), "the SMART definition is built with its connection")
	_, err = reg.securityOf("ehr-smart")
	assert.NoError(t, err)
	_, err = reg.securityOf("nope")
	assert.ErrorIs(t, err, oauthclient.ErrUnknownDefinition)
	assert.ErrorContains(t, err, `unknown security definition "nope" (known: crm, ehr-smart)`)
}

func TestSMARTDefinitionWithRSAKey(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	_, err = Parse([]byte(smartYAML), env(map[string]string{"KEY": pemKey(t, key)}))
	assert.NoError(t, err, "an RSA key signs RS384")
}

func TestSMARTConfigProblems(t *testing.T) {
	const ehr = "fhir:\n  ehr: {base_url: 'https://ehr.example.org/fhir', security: s, smart: true}\n"
	const def = "security:\n  s: {type: oauth2, client_id: c, private_key: '${KEY}', key_id: k1"
	tests := []struct {
		name  string
		curve elliptic.Curve
		yaml  string
		want  []string
	}{
		{"used by a REST connection too", elliptic.P384(), def + "}\n" + ehr + "rest:\n  crm: {base_url: 'https://crm.example.com', security: s}\n",
			[]string{`security "s": token_url: missing, and rest "crm" cannot discover it (only smart: true FHIR connections can)`}},
		{"used by a non-smart FHIR connection", elliptic.P384(), def + "}\nfhir:\n  ehr: {base_url: 'https://ehr.example.org/fhir', security: s}\n",
			[]string{`security "s": token_url: missing, and fhir "ehr" cannot discover it`}},
		{"unused", elliptic.P384(), def + "}\n",
			[]string{`security "s": token_url: missing (give token_url or issuer; only a definition used by smart: true FHIR connections alone may leave both out`}},
		{"signing alg", elliptic.P384(), def + ", signing_alg: RS256}\n" + ehr,
			[]string{`security "s": signing_alg: SMART Backend Services signs with RS384 or ES384`}},
		{"two base URLs", elliptic.P384(), def + "}\n" + ehr + "  ehr2: {base_url: 'https://other.example.org/fhir', security: s, smart: true}\n",
			[]string{`fhir "ehr2": security: "s" discovers its token endpoint at https://ehr.example.org/fhir; a server at another base URL needs its own definition`}},
		{"no key id", elliptic.P384(), "security:\n  s: {type: oauth2, client_id: c, private_key: '${KEY}'}\n" + ehr,
			[]string{`security "s": key_id: missing`}},
		{"secret method", elliptic.P384(), def + ", auth_method: client_secret_basic}\n" + ehr,
			[]string{`security "s": auth_method: SMART Backend Services uses private_key_jwt`}},
		{"P-256 key", elliptic.P256(), def + "}\n" + ehr,
			[]string{`security "s": private_key: SMART Backend Services needs an RSA or EC P-384 key`}},
		{"alg does not fit the key", elliptic.P384(), def + ", signing_alg: RS384}\n" + ehr,
			[]string{`security "s": signing_alg: "RS384" does not fit this EC key`}},
		{"no key", elliptic.P384(), "security:\n  s: {type: oauth2, client_id: c, key_id: k}\n" + ehr,
			[]string{`security "s": private_key: missing for private_key_jwt`}},
		{"smart with an API key", elliptic.P384(), "security:\n  s: {type: apikey, name: X-Key, value: v}\n" + ehr,
			[]string{`fhir "ehr": security: smart: true needs an oauth2 security definition ("s" is apikey)`}},
		{"smart without security", elliptic.P384(), "fhir:\n  ehr: {base_url: 'https://ehr.example.org/fhir', smart: true}\n",
			[]string{`fhir "ehr": security: missing: smart: true needs an oauth2 security definition`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), smartEnv(t, tt.curve))
			var ce *ConfigError
			require.ErrorAs(t, err, &ce, "%v", err)
			require.Len(t, ce.Problems, len(tt.want), "%v", err)
			for i, w := range tt.want {
				assert.Contains(t, ce.Problems[i].text(), w)
			}
			assert.NotContains(t, err.Error(), "PRIVATE KEY")
		})
	}
}

func TestSMARTWithTokenURLIsPlainOAuth(t *testing.T) {
	in := "security:\n  s: {type: oauth2, token_url: 'https://login.example.com/t', client_id: c, client_secret: x}\n" +
		"fhir:\n  ehr: {base_url: 'https://ehr.example.org/fhir', security: s, smart: true}\n"
	cfg, err := Parse([]byte(in))
	require.NoError(t, err)
	reg, err := Open(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = reg.Close() })
	_, err = reg.securityOf("s")
	assert.NoError(t, err, "a token_url makes it an ordinary definition")
}

func TestOpenValidatesAConfigBuiltInCode(t *testing.T) {
	cfg := &Config{
		Security: map[string]SecurityConfig{"s": {Type: typeOAuth2, ClientID: "c", ClientSecret: oauthclient.NewSecret("x")}},
		REST:     map[string]ConnConfig{"crm": {ConnConfig: rest.ConnConfig{BaseURL: "https://crm.example.com", Security: "s"}}},
		FHIR:     map[string]FHIRConfig{"ehr": {ConnConfig: ConnConfig{ConnConfig: rest.ConnConfig{BaseURL: "https://ehr.example.org", Security: "s"}}, SMART: true}},
	}
	_, err := Open(context.Background(), cfg)
	var ce *ConfigError
	require.ErrorAs(t, err, &ce, "%v", err)
	require.Len(t, ce.Problems, 1)
	assert.Equal(t, `security "s"`, ce.Problems[0].Where)
	assert.Equal(t, "token_url", ce.Problems[0].Field)
	assert.Contains(t, ce.Problems[0].Reason, `rest "crm" cannot discover it`)
}

func TestOAuthConfigConversion(t *testing.T) {
	_, errs := oauthConfig("o", SecurityConfig{Type: typeOAuth2, CertFile: "/x.crt"}, files.Read)
	require.Len(t, errs, 1)
	assert.Equal(t, fieldError{"cert_file", "cert_file and key_file go together"}, errs[0])

	oc, errs := oauthConfig("o", SecurityConfig{Type: typeOAuth2, TokenURL: "http://127.0.0.1/t", ClientSecret: oauthclient.NewSecret("S3CRET"),
		Params: map[string]oauthclient.Secret{"tenant": oauthclient.NewSecret("acme")}}, files.Read)
	require.Empty(t, errs)
	assert.Equal(t, "S3CRET", oc.ClientSecret.Reveal())
	assert.Equal(t, "acme", oc.Params["tenant"].Reveal())
	assert.NotContains(t, fmt.Sprint(oc), "S3CRET")
	assert.NotContains(t, fmt.Sprintf("%v %+v %#v", oc, oc, oc), "S3CRET")
}
