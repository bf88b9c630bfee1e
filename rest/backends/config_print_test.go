package backends

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/tokenwire/tokenwire/cache/redis"
	"github.com/tokenwire/tokenwire/rest"
)

// everyKindYAML declares every kind of section, definition, grant,
// supplier and setting. Every secret is ${S} (a private key, opaque to
// the others), so that a printed configuration gets its secrets back by
// writing ${S} for each [redacted].
const everyKindYAML = `
security:
  cc:
    type: oauth2
    token_url: https://login.example.com/token
    client_id: c
    client_secret: ${S}
    scopes: [a, b]
    audience: https://api.example.com
    resources: [https://api.example.com/r]
    params: {tenant: "${S}"}
    auth_method: client_secret_post
    timeout: 5s
    default_lifetime: 10m
    dpop: true
  jwt:
    type: oauth2
    grant: jwt_bearer
    token_url: https://login.example.com/token
    client_id: robot
    private_key: ${S}
    auth_method: private_key_jwt
    key_id: k1
    signing_alg: ES384
    assertion_subject: alice
    assertion_claims: {tenant: acme}
    assertion_lifetime: 2m
  workload:
    type: oauth2
    grant: jwt_bearer
    token_url: https://login.example.com/token
    assertion: {file: "${DIR}/sa-token"}
  exchange:
    type: oauth2
    grant: token_exchange
    token_url: https://login.example.com/token
    client_id: gw
    client_secret: ${S}
    subject_token: {definition: cc}
    actor_token: {command: ["${S}", "${S}"]}
    requested_token_type: access_token
  saas:
    type: oauth2
    grant: refresh_token
    token_url: https://login.example.com/token
    client_id: app
    refresh_token: {value: "${S}"}
    refresh_lifetime: 720h
  mtls:
    type: oauth2
    issuer: https://mtls.example.com
    client_id: m
    auth_method: tls_client_auth
    cert_file: ${DIR}/client.crt
    key_file: ${DIR}/client.key
    ca_file: ${DIR}/client.crt
  smart: {type: oauth2, client_id: s, private_key: "${S}", key_id: k2, scopes: [system/Patient.rs]}
  vendor:
    type: login
    token_url: https://login.example.com/login
    client_id: svc
    client_secret: ${S}
    method: PUT
    body: form
    client_id_field: username
    client_secret_field: password
    fields: {tenant: "${S}"}
    headers: {X-Tenant: "${S}"}
    token_path: data.jwt
    expires_in_path: data.ttl
  imported:
    type: bearer
    token_from: {file: "${DIR}/partner-token"}
    expires_at: 2030-01-01T00:00:00Z
    scheme: Token
  imported-first:
    type: bearer
    token: ${S}
    expires_at: 2030-01-01T00:00:00Z
  fixed: {type: bearer, token: "${S}"}
  basic: {type: basic, username: u, password: "${S}"}
  key: {type: apikey, in: query, name: api_key, value: "${S}"}
  open: {type: none}
rest:
  crm:
    base_url: https://crm.example.com/api/v2
    security: cc
    headers: {Accept: application/json, X-Empty: ""}
    timeout: 10s
    tls: {min_version: "1.3", ca_file: "${DIR}/client.crt"}
    pool: {max_idle_conns_per_host: 32, max_conns_per_host: 64, idle_conn_timeout: 90s}
    retry: {max_attempts: 4, min_wait: 200ms, max_wait: 2s, max_elapsed: 20s, retry_non_idempotent: true}
    ping: {method: GET, path: /health}
    readiness: optional
  token-only: {base_url: "https://t.example.com", security: cc, readiness: token_only}
  b: {base_url: "https://b.example.com", security: basic}
  k: {base_url: "https://k.example.com", security: key}
  f: {base_url: "https://f.example.com", security: fixed}
  i: {base_url: "https://i.example.com", security: imported}
  i1: {base_url: "https://i1.example.com", security: imported-first}
  j: {base_url: "https://j.example.com", security: jwt}
  w: {base_url: "https://w.example.com", security: workload}
  x: {base_url: "https://x.example.com", security: exchange}
  s: {base_url: "https://s.example.com", security: saas}
  m: {base_url: "https://m.example.com", security: mtls}
  v: {base_url: "https://v.example.com", security: vendor}
  o: {base_url: "https://o.example.com", security: open}
  bare: {base_url: "https://bare.example.com"}
fhir:
  ehr:
    base_url: https://ehr.example.org/fhir/r4
    security: smart
    smart: true
    timeout: 15s
  plain: {base_url: "https://p.example.org/fhir", security: cc}
store:
  redis: {addr: "127.0.0.1:6379", password: "${S}", prefix: tw, op_timeout: 2s, plaintext: true}
`

// everyKind loads everyKindYAML; its options load a printed copy.
func everyKind(t *testing.T) (*Config, []rest.Option) {
	t.Helper()
	dir := secretsDir(t)
	for _, f := range []string{"sa-token", "partner-token"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), []byte("a-token"), 0o600))
	}
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	opts := []rest.Option{env(map[string]string{"S": pemKey(t, key), "DIR": dir}), WithStoreSection[redis.Config]("redis")}
	cfg, err := Parse([]byte(everyKindYAML), opts...)
	require.NoError(t, err)
	return cfg, opts
}

// printers marshal a configuration as YAML and as JSON.
var printers = map[string]func(any) ([]byte, error){"yaml": yaml.Marshal, "json": json.Marshal}

// TestConfigPrintedLoadsAgain: a configuration marshalled to YAML or JSON
// loads again to the same configuration once its secrets are written
// back; printing that again gives the same text.
func TestConfigPrintedLoadsAgain(t *testing.T) {
	cfg, opts := everyKind(t)
	for name, marshal := range printers {
		t.Run(name, func(t *testing.T) {
			out, err := marshal(cfg)
			require.NoError(t, err)
			assert.NotContains(t, string(out), "PRIVATE KEY", "no secret printed")
			again, err := Parse([]byte(strings.ReplaceAll(string(out), "[redacted]", "${S}")), opts...)
			require.NoError(t, err, "%s", out)
			assert.Equal(t, cfg.Security, again.Security)
			assert.Equal(t, cfg.REST, again.REST)
			assert.Equal(t, cfg.FHIR, again.FHIR)
			assert.Equal(t, cfg.Store, again.Store)
			out2, err := marshal(again)
			require.NoError(t, err)
			assert.Equal(t, string(out), string(out2))
		})
	}
}

// TestConfigPrintedKeepsWhatIsThere: a section written out empty, an
// entry with no key and an empty memory store are printed: each means
// something (a reload removes the section's entries; the store is one).
func TestConfigPrintedKeepsWhatIsThere(t *testing.T) {
	cfg, err := Parse([]byte("security: {}\nrest:\n  c: {base_url: 'https://c.example'}\nfhir: {}\nstore: {memory: {}}\n"))
	require.NoError(t, err)
	for name, marshal := range printers {
		out, err := marshal(cfg)
		require.NoError(t, err)
		again, err := Parse(out)
		require.NoError(t, err, "%s: %s", name, out)
		assert.Equal(t, cfg.Security, again.Security, name)
		assert.NotNil(t, again.Security, name)
		assert.NotNil(t, again.FHIR, name)
		assert.Equal(t, cfg.REST, again.REST, name)
		assert.Equal(t, cfg.Store, again.Store, name)
	}
	out, err := yaml.Marshal(&Config{})
	require.NoError(t, err)
	assert.Equal(t, "{}\n", string(out), "nothing declared, nothing printed")
}

// TestConfigRefusesARedactedSecret: a printed configuration's [redacted]
// left where a secret goes is refused, by field, saying where it came
// from — never taken for the secret.
func TestConfigRefusesARedactedSecret(t *testing.T) {
	cfg, opts := everyKind(t)
	out, err := yaml.Marshal(cfg)
	require.NoError(t, err)
	_, err = Parse(out, opts...)
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	const reason = "[redacted] is what a printed configuration shows in place of a secret: write the secret back (or ${VAR}, or file:)"
	fields := map[string]bool{}
	for _, p := range ce.Problems {
		assert.Equal(t, reason, p.Reason, "%s: %s", p.Where, p.Field)
		assert.Positive(t, p.Line, "%s: %s", p.Where, p.Field)
		fields[p.Where+" "+p.Field] = true
	}
	for _, f := range []string{`security "cc" client_secret`, `security "cc" params.tenant`, `security "basic" password`,
		`security "exchange" actor_token.command[0]`, `security "vendor" fields.tenant`, "store redis.password"} {
		assert.True(t, fields[f], "%s refused (%v)", f, err)
	}
	_, err = Parse([]byte("security:\n  b: {type: basic, username: u, password: '[redacted]'}\n"))
	require.Error(t, err)
	assert.Equal(t, `backends: config: security "b": password: `+reason+` (line 2)`, err.Error())
}

// FuzzPrintedLoadsAgain: whatever loads, printed as YAML or JSON, loads
// again to the same configuration when it holds no secret (a printed
// secret is [redacted], refused by the loader).
func FuzzPrintedLoadsAgain(f *testing.F) {
	for _, s := range []string{
		everyKindYAML,
		"rest: {crm: {base_url: 'https://x.example/$$%7B{A}', headers: {X: 'cost $5, $${B}'}}}\n",
		"security: {s: {type: oauth2, token_url: 'https://l.example/t', client_id: '${A}', assertion_claims: {x: 1}}}\n",
		"rest: {}\nfhir: {e: {base_url: 'https://e.example/fhir', smart: false}}\nstore: {memory: {}}\n",
		"store: {fake: {size: 2, key: '$$x'}}\n",
	} {
		f.Add([]byte(s))
	}
	opts := []rest.Option{env(map[string]string{"A": "${B}$", "S": "s", "DIR": "/nonexistent"}), withFake,
		rest.WithReadFile(func(string) ([]byte, error) { return []byte("a file's content"), nil })}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, opts...)
		if err != nil {
			return
		}
		for name, marshal := range printers {
			out, err := marshal(cfg)
			require.NoError(t, err, name)
			if strings.Contains(string(out), "[redacted]") {
				continue
			}
			again, err := Parse(out, opts...)
			require.NoError(t, err, "%s:\n%s", name, out)
			assert.Equal(t, cfg.Security, again.Security, name)
			assert.Equal(t, cfg.REST, again.REST, name)
			assert.Equal(t, cfg.FHIR, again.FHIR, name)
			assert.Equal(t, cfg.Store, again.Store, name)
		}
	})
}

// TestConfigPrintedHidesAKeyInAURL: a base_url that carries its key in
// the query (?api_key=…) prints it as [redacted], other values as they
// are; loaded again, the mark is refused by field, never sent as the key.
func TestConfigPrintedHidesAKeyInAURL(t *testing.T) {
	cfg, err := Parse([]byte("rest:\n  crm: {base_url: 'https://crm.example/api?region=eu&api_key=K3Y-s3cret'}\n"))
	require.NoError(t, err)
	for name, marshal := range printers {
		out, err := marshal(cfg)
		require.NoError(t, err, name)
		assert.NotContains(t, string(out), "K3Y-s3cret", name)
		assert.Contains(t, string(out), "api_key=[redacted]", name)
		assert.Contains(t, string(out), "region=eu", name)
		_, err = Parse(out)
		var ce *ConfigError
		require.ErrorAs(t, err, &ce, "%s: %s", name, out)
		require.Len(t, ce.Problems, 1, name)
		assert.Equal(t, "base_url", ce.Problems[0].Field, name)
		assert.Contains(t, ce.Problems[0].Reason, "what a printed configuration shows in place of a key", name)
	}
	plain, err := Parse([]byte("rest:\n  crm: {base_url: 'https://crm.example/api?region=eu&b=2'}\n"))
	require.NoError(t, err)
	out, err := yaml.Marshal(plain)
	require.NoError(t, err)
	assert.Contains(t, string(out), "https://crm.example/api?region=eu&b=2", "a URL with no key prints as written")
}
