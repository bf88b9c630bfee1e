package backends

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/internal/rendertest"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
	"github.com/tokenwire/tokenwire/rest"
)

// grantsYAML declares a definition of every kind of grant and a
// connection over each.
const grantsYAML = `
security:
  saas:
    type: oauth2
    grant: refresh_token
    token_url: ${TOKEN_URL}
    client_id: app
    refresh_token: {file: "${DIR}/refresh-token"}
  workload:
    type: oauth2
    grant: jwt_bearer
    token_url: ${TOKEN_URL}
    assertion: {file: "${DIR}/sa-token"}
  signed:
    type: oauth2
    grant: jwt_bearer
    token_url: ${TOKEN_URL}
    client_id: robot
    private_key: file:${DIR}/robot.pem
    assertion_subject: alice@example.com
    assertion_claims: {tenant: acme}
  frontend:
    type: oauth2
    token_url: ${TOKEN_URL}
    client_id: frontend
    client_secret: fe-secret
  orders:
    type: oauth2
    grant: token_exchange
    token_url: ${TOKEN_URL}
    client_id: gateway
    client_secret: gw-secret
    audience: https://orders.example.com
    subject_token: {definition: frontend}
    requested_token_type: access_token
  vendor:
    type: login
    token_url: ${LOGIN_URL}
    client_id: svc-integration
    client_secret: ${VENDOR_PASSWORD}
    client_id_field: username
    client_secret_field: password
    token_path: data.jwt
  partner:
    type: bearer
    token_from: {file: "${DIR}/partner-token"}
rest:
  saas: {base_url: "${API}", security: saas, retry: {max_attempts: 1}}
  workload: {base_url: "${API}", security: workload, retry: {max_attempts: 1}}
  signed: {base_url: "${API}", security: signed, retry: {max_attempts: 1}}
  orders: {base_url: "${API}", security: orders, retry: {max_attempts: 1}}
  vendor: {base_url: "${API}", security: vendor, retry: {max_attempts: 1}}
  partner: {base_url: "${API}", security: partner, retry: {max_attempts: 1}}
store:
  memory: {size: 64}
`

// grantsSetup starts the fake authorization server and a backend that
// wants its tokens, and writes the files the definitions read.
func grantsSetup(t *testing.T) (*oauthtest.Server, map[string]string) {
	t.Helper()
	as := oauthtest.NewServer()
	t.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: "app", Scopes: []string{"files.read"}})
	as.AddClient(oauthtest.Client{ID: "frontend", Secret: "fe-secret"})
	as.AddClient(oauthtest.Client{ID: "gateway", Secret: "gw-secret"})
	as.AddClient(oauthtest.Client{ID: "robot"})
	as.AddLoginUser("svc-integration", "vendor-pa55")
	cluster, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	as.AddAssertionIssuer("https://kubernetes.default.svc", cluster.Public())
	robot, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	as.AddAssertionIssuer("robot", robot.Public())
	api := newServer(t, as.RequireToken(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })).ServeHTTP)

	dir := t.TempDir()
	write := func(name, v string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(v+"\n"), 0o600))
	}
	write("refresh-token", as.IssueRefreshToken("app", "admin", "files.read"))
	sa, err := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.MapClaims{"iss": "https://kubernetes.default.svc", "sub": "system:serviceaccount:ns:sync",
		"aud": as.TokenURL(), "exp": time.Now().Add(time.Hour).Unix()}).SignedString(cluster)
	require.NoError(t, err)
	write("sa-token", sa)
	write("robot.pem", pemKey(t, robot))
	partner, err := oauthclient.NewSource(oauthclient.Config{Name: "p", TokenURL: as.TokenURL(), ClientID: "frontend", ClientSecret: oauthclient.NewSecret("fe-secret")},
		oauthclient.Options{AllowInsecureHTTP: true})
	require.NoError(t, err)
	t.Cleanup(partner.Close)
	pt, err := partner.TokenContext(context.Background())
	require.NoError(t, err)
	write("partner-token", pt.AccessToken()) // a token issued elsewhere, handed over
	return as, map[string]string{"TOKEN_URL": as.TokenURL(), "LOGIN_URL": as.LoginURL(), "API": api.URL, "DIR": dir, "VENDOR_PASSWORD": "vendor-pa55"}
}

// Every grant, declared in the file, gives its connection tokens the
// backend accepts.
func TestGrantDefinitionsEndToEnd(t *testing.T) {
	as, vars := grantsSetup(t)
	cfg, err := Parse([]byte(grantsYAML), env(vars), rest.AllowInsecureHTTP())
	require.NoError(t, err)
	reg, err := Open(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = reg.Close() })
	want := map[string]string{"saas": "refresh_token", "workload": "jwt_bearer", "signed": "jwt_bearer", "orders": "token_exchange",
		"vendor": "login", "partner": "imported"}
	for name, grant := range want {
		c, err := reg.REST(name)
		require.NoError(t, err)
		resp, err := c.Get(context.Background(), "x")
		require.NoError(t, err, name)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, name)
		src, err := reg.security.Source(name)
		require.NoError(t, err)
		assert.Equal(t, grant, src.Status().Grant, name)
	}
	assert.Equal(t, 1, as.RefreshStats().Used)
}

// Bad grant definitions get problems that name the definition and the
// field.
func TestGrantDefinitionProblems(t *testing.T) {
	for name, tc := range map[string]struct {
		yaml        string
		field, want string
	}{
		"unknown grant": {`{type: oauth2, token_url: "https://a.example/t", client_id: c, client_secret: s, grant: password}`,
			"grant", `"password" is unknown`},
		"field of another grant": {`{type: oauth2, token_url: "https://a.example/t", client_id: c, grant: refresh_token, refresh_token: {value: x}, assertion_subject: s}`,
			"assertion_subject", "does not apply to grant refresh_token"},
		"grant field on client credentials": {`{type: oauth2, token_url: "https://a.example/t", client_id: c, client_secret: s, subject_token: {value: x}}`,
			"subject_token", "does not apply to grant client_credentials"},
		"no refresh token": {`{type: oauth2, token_url: "https://a.example/t", client_id: c, grant: refresh_token}`,
			"refresh_token", "missing"},
		"empty supplier": {`{type: oauth2, token_url: "https://a.example/t", client_id: c, grant: refresh_token, refresh_token: {}}`,
			"refresh_token", "empty: give one of file, command, value or definition"},
		"supplier not a mapping": {`{type: oauth2, token_url: "https://a.example/t", grant: jwt_bearer, assertion: 0}`,
			"assertion", "want a mapping with one of file, command, value or definition"},
		"unknown supplier key": {`{type: oauth2, token_url: "https://a.example/t", grant: jwt_bearer, assertion: {fle: /a}}`,
			"assertion.fle", `unknown field (did you mean "file"?)`},
		"claim not a string": {`{type: oauth2, token_url: "https://a.example/t", client_id: c, grant: jwt_bearer, assertion_subject: s, private_key: k, assertion_claims: {scope: [a]}}`,
			"assertion_claims.scope", "want a string"},
		"two suppliers": {`{type: oauth2, token_url: "https://a.example/t", grant: jwt_bearer, assertion: {file: /a, command: [b]}}`,
			"assertion", "not several"},
		"definition as refresh token": {`{type: oauth2, token_url: "https://a.example/t", client_id: c, grant: refresh_token, refresh_token: {definition: other}}`,
			"refresh_token.definition", "only a subject_token or actor_token"},
		"unknown subject definition": {`{type: oauth2, token_url: "https://a.example/t", client_id: c, client_secret: s, grant: token_exchange, subject_token: {definition: nobody}}`,
			"subject_token.definition", `unknown security definition "nobody"`},
		"own token": {`{type: oauth2, token_url: "https://a.example/t", client_id: c, client_secret: s, grant: token_exchange, subject_token: {definition: x}}`,
			"subject_token.definition", "its own token"},
		"signed without subject": {`{type: oauth2, token_url: "https://a.example/t", client_id: c, grant: jwt_bearer, private_key: k}`,
			"assertion_subject", "missing"},
		"reserved claim": {`{type: oauth2, token_url: "https://a.example/t", client_id: c, grant: jwt_bearer, assertion_subject: s, private_key: k, assertion_claims: {exp: "1"}}`,
			"assertion_claims.exp", "is set by tokenwire"},
		"negative lifetime": {`{type: oauth2, token_url: "https://a.example/t", client_id: c, grant: refresh_token, refresh_token: {value: x}, refresh_lifetime: -1h}`,
			"refresh_lifetime", "must not be negative"},
		"login method": {`{type: login, token_url: "https://a.example/login", method: DELETE}`, "method", `"DELETE" is not POST, PUT or GET`},
		"login body":   {`{type: login, token_url: "https://a.example/login", body: xml}`, "body", "is not json or form"},
		"login auth":   {`{type: login, token_url: "https://a.example/login", auth_method: private_key_jwt}`, "auth_method", "does not apply to a login endpoint"},
		"login field of oauth2": {`{type: login, token_url: "https://a.example/login", scopes: [a]}`,
			"scopes", "does not apply to type login"},
		"login nesting": {`{type: login, token_url: "https://a.example/login", fields: {a: x, a.b: y}}`, "fields", "both a value and an object"},
		"login http":    {`{type: login, token_url: "http://a.example/login"}`, "token_url", "must use https"},
		"imported expiry": {`{type: bearer, token: t, expires_at: tomorrow}`,
			"expires_at", "want an RFC 3339 date"},
		"imported both":           {`{type: bearer, token: t, token_from: {file: /x}}`, "token_from", "not both"},
		"scheme on a fixed token": {`{type: bearer, token: t, scheme: JWT}`, "scheme", "applies to an imported token"},
		"grant on basic":          {`{type: basic, username: u, grant: refresh_token}`, "grant", "does not apply to type basic"},
		"unknown type":            {`{type: saml}`, "type", "want oauth2, login, basic, apikey, bearer or none"},
	} {
		t.Run(name, func(t *testing.T) {
			got := problemsOf(t, "security:\n  x: "+tc.yaml+"\n")
			require.NotEmpty(t, got)
			found := false
			for _, p := range got {
				if p.Where == `security "x"` && p.Field == tc.field && strings.Contains(p.Reason, tc.want) {
					found = true
				}
			}
			assert.True(t, found, "want %s: …%s…, got %v", tc.field, tc.want, got)
		})
	}
}

// A cycle of exchanges is found at load time, with its path.
func TestGrantDefinitionCycle(t *testing.T) {
	got := problemsOf(t, `security:
  a: {type: oauth2, token_url: "https://a.example/t", client_id: c, client_secret: s, grant: token_exchange, subject_token: {definition: b}}
  b: {type: oauth2, token_url: "https://a.example/t", client_id: c, client_secret: s, grant: token_exchange, subject_token: {definition: a}}
  c: {type: basic, username: u}
  d: {type: oauth2, token_url: "https://a.example/t", client_id: c, client_secret: s, grant: token_exchange, subject_token: {definition: c}}
`)
	assert.Contains(t, got, Problem{Where: `security "a"`, Field: "subject_token", Reason: "definitions refer to each other in a cycle: a → b → a", Line: 2})
	assert.Contains(t, got, Problem{Where: `security "d"`, Field: "subject_token.definition",
		Reason: `"c" is basic, which has no token source (want oauth2, login or an imported bearer token)`, Line: 5})
}

// The configuration, printed, logged or marshalled, shows none of the
// credentials of any type or grant: client secrets, keys, passwords, API
// keys, tokens, supplied values, login fields and headers, command
// arguments, params — whether rendered as a whole, as one definition, as
// its oauthclient.Config, its grant or one of its suppliers.
func TestEveryDefinitionShowsNoSecret(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	keyPEM := pemKey(t, key)
	vars := map[string]string{"CS": "client-secret-70", "KEY": keyPEM, "PARAM": "param-value-71", "RT": "refresh-value-77",
		"VAULT": "vault-token-78", "PIN": "pin-value-79", "HDR": "api-key-80", "PARTNER": "partner-tok-81", "SUBJECT": "subject-tok-82",
		"ACTOR": "actor-tok-83", "PW": "password-84", "APIKEY": "api-key-85", "FIXED": "fixed-tok-86", "ASSERTION": "assertion-87",
		"LOGIN": "login-secret-88"}
	cfg, err := Parse([]byte(`
security:
  cc: {type: oauth2, token_url: "https://a.example/t", client_id: c, client_secret: "${CS}", params: {tenant: "${PARAM}"}, dpop_key: "${KEY}"}
  pk: {type: oauth2, token_url: "https://a.example/t", client_id: c, auth_method: private_key_jwt, private_key: "${KEY}"}
  saas: {type: oauth2, grant: refresh_token, token_url: "https://a.example/t", client_id: c, refresh_token: {value: "${RT}"}}
  wl: {type: oauth2, grant: jwt_bearer, token_url: "https://a.example/t", assertion: {command: [vault, read, "--token=${VAULT}"]}}
  given: {type: oauth2, grant: jwt_bearer, token_url: "https://a.example/t", assertion: {value: "${ASSERTION}"}}
  ex: {type: oauth2, grant: token_exchange, token_url: "https://a.example/t", subject_token: {value: "${SUBJECT}"}, actor_token: {value: "${ACTOR}"}}
  vendor: {type: login, token_url: "https://a.example/l", client_id: u, client_secret: "${LOGIN}", client_id_field: user, client_secret_field: pw, fields: {pin: "${PIN}"}, headers: {X-Key: "${HDR}"}}
  partner: {type: bearer, token: "${PARTNER}", expires_at: "2030-01-01T00:00:00Z"}
  fixed: {type: bearer, token: "${FIXED}"}
  legacy: {type: basic, username: u, password: "${PW}"}
  weather: {type: apikey, name: X-Key, value: "${APIKEY}"}
`), env(vars))
	require.NoError(t, err)
	secrets := []string{"BEGIN PRIVATE KEY"}
	for k, v := range vars {
		if k != "KEY" {
			secrets = append(secrets, v)
		}
	}
	values := map[string]any{"Config": *cfg, "*Config": cfg, "Security map": cfg.Security}
	for name, sc := range cfg.Security {
		values[name] = sc
		values[name+" *SecurityConfig"] = &sc
		values[name+" oauthclient.Config"] = sc.Config
		if sc.Grant != nil {
			values[name+" grant"] = sc.Grant
			for field, s := range suppliers(sc.Grant) {
				values[name+" "+field] = s
			}
		}
	}
	require.Len(t, suppliers(cfg.Security["ex"].Grant), 2)
	for name, v := range values {
		rendertest.NoSecret(t, name, v, secrets...)
	}
}

// The grants' reference in oauthclient's package doc and this package's
// doc is a configuration that loads.
func TestGrantDocsExamplesLoad(t *testing.T) {
	docBlock := func(path, after string) string {
		doc, err := os.ReadFile(path)
		require.NoError(t, err)
		text := string(doc)
		i := strings.Index(text, after)
		require.GreaterOrEqual(t, i, 0, "%s: %q", path, after)
		text = text[i:]
		at := strings.Index(text, "\tsecurity:") + 1
		text = text[strings.LastIndexByte(text[:at], '\n')+1:]
		indent := text[:strings.Index(text, "security:")] // "//" and one tab, or two inside a list
		var b strings.Builder
		for _, line := range strings.Split(text, "\n") {
			if !strings.HasPrefix(line, indent) {
				break
			}
			b.WriteString(strings.TrimPrefix(line, indent) + "\n")
		}
		return b.String()
	}
	fromOAuthDoc := docBlock("../../oauthclient/doc.go", "# Grants beyond client credentials")
	fromDoc := docBlock("doc.go", "Beyond client credentials")
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	keyPEM := pemKey(t, key)
	for name, yaml := range map[string]string{"oauthclient/doc.go": fromOAuthDoc, "doc.go": fromDoc} {
		t.Run(name, func(t *testing.T) {
			require.Contains(t, yaml, "security:")
			_, err := Parse([]byte(yaml), WithLookupEnv(func(string) (string, bool) { return "from-the-environment", true }),
				rest.WithReadFile(func(string) ([]byte, error) { return []byte(keyPEM), nil }))
			require.NoError(t, err)
		})
	}
}

// Every key of a security definition says, where its field is declared,
// which types accept it; those of a grant say which grant.
func TestEverySecurityKeyDeclaresItsTypes(t *testing.T) {
	for name, k := range securityKeys() {
		if name == "type" {
			continue
		}
		require.NotEmpty(t, k.types, "%s: no use tag", name)
		for _, typ := range k.types {
			assert.True(t, knownType(typ), "%s: unknown type %q", name, typ)
		}
		if k.grant != "" {
			assert.Equal(t, []string{typeOAuth2}, k.types, "%s: a grant's key belongs to oauth2", name)
		}
	}
	for key, types := range map[string][]string{"token_url": {"oauth2", "login"}, "scopes": {"oauth2"}, "assertion": {"oauth2"},
		"default_lifetime": {"oauth2", "login", "bearer"}, "scheme": {"login", "bearer"}, "token_from": {"bearer"}, "fields": {"login"},
		"grant": {"oauth2"}, "cert_file": {"oauth2", "login"}} {
		assert.ElementsMatch(t, types, securityKeys()[key].types, key)
	}
	assert.Equal(t, grantRefreshToken, securityKeys()["refresh_state_file"].grant)
	file := strings.Fields(`type token_url issuer client_id client_secret scopes audience resources params auth_method
		private_key key_id signing_alg assertion_audience assertion_lifetime cert_file key_file ca_file timeout default_lifetime
		dpop dpop_key dpop_alg username password in name value token grant assertion assertion_issuer assertion_subject
		assertion_claims subject_token subject_token_type actor_token actor_token_type requested_token_type refresh_token
		refresh_lifetime refresh_state_file method body client_id_field client_secret_field fields headers token_path
		expires_in_path expires_at_path scheme token_from expires_at`)
	assert.ElementsMatch(t, file, slices.Collect(maps.Keys(securityKeys())), "the keys of a security definition are the file's, no more")
	assert.ElementsMatch(t, file, slices.Collect(maps.Keys(yamlFields(reflect.TypeFor[securityEntry]()))), "and the decoder reads them all")
}
