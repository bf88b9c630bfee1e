package backends

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/internal/rendertest"
	"github.com/tokenwire/tokenwire/internal/testcert"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/rest"
)

// secretsDir writes the files that testdata/config.yaml refers to.
func secretsDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	_, keyFile := testcert.Write(t, testcert.SelfSigned(t, "mtls-client"), dir, "client")
	keyPEM, err := os.ReadFile(keyFile)
	require.NoError(t, err)
	files := map[string][]byte{"ehr-key.pem": keyPEM, "billing-key": []byte("BILLING-SECRET-KEY\n")}
	for name, b := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o600))
	}
	return dir
}

// caPEM is a self-signed certificate, as a CA file holds.
func caPEM(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(secretsDir(t), "client.crt"))
	require.NoError(t, err)
	return b
}

// env is a fake environment for WithLookupEnv.
func env(vars map[string]string) rest.Option {
	return WithLookupEnv(func(k string) (string, bool) { v, ok := vars[k]; return v, ok })
}

func goodEnv(t *testing.T) map[string]string {
	return map[string]string{"SECRETS": secretsDir(t), "CRM_CLIENT_SECRET": "CRM-SECRET",
		"WEATHER_KEY": "WEATHER-SECRET", "LEGACY_PASSWORD": "LEGACY-SECRET"}
}

func TestLoadConfigGoodFile(t *testing.T) {
	cfg, err := Load("testdata/config.yaml", env(goodEnv(t)))
	require.NoError(t, err)

	crm := cfg.Security["crm-oauth"]
	assert.Equal(t, "CRM-SECRET", crm.ClientSecret.Reveal(), "${VAR} resolved")
	assert.Equal(t, []string{"crm.read", "crm.write"}, crm.Scopes)
	assert.Equal(t, map[string]oauthclient.Secret{"tenant": oauthclient.NewSecret("acme")}, crm.Params)
	assert.Equal(t, 5*time.Second, crm.Timeout)
	assert.Equal(t, "BILLING-SECRET-KEY", cfg.Security["billing-key"].Value.Reveal(), "file: resolved, newline trimmed")
	assert.Contains(t, cfg.Security["ehr-jwt"].PrivateKeyPEM.Reveal(), "BEGIN PRIVATE KEY")
	assert.Equal(t, "fallback-token", cfg.Security["partner-token"].Token.Reveal(), "${VAR:-default}")

	rc := cfg.REST["crm"]
	assert.Equal(t, "https://crm.example.com/api/v2", rc.BaseURL)
	assert.Equal(t, "application/json", rc.Headers["Accept"])
	assert.Equal(t, 4, rc.Retry.MaxAttempts)
	assert.Equal(t, 200*time.Millisecond, rc.Retry.MinWait)
	assert.Equal(t, 64, rc.Pool.MaxConnsPerHost)
	assert.Equal(t, "1.3", rc.TLS.MinVersion)
	assert.Len(t, cfg.REST, 6)
	assert.True(t, cfg.FHIR["ehr"].SMART)
	assert.Equal(t, "ehr-jwt", cfg.FHIR["ehr"].Security)
	require.NotNil(t, cfg.Store.Memory)
	assert.Equal(t, 256, cfg.Store.Memory.Size)

	reg, err := Open(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = reg.Close() })
	assert.Equal(t, []string{"billing", "crm", "ehr", "legacy", "partner", "status", "weather"}, reg.Names(),
		"REST and FHIR connections in one registry")
	assert.ElementsMatch(t, []string{"crm-oauth", "ehr-jwt", "mtls"}, reg.security.Names())
	_, err = reg.securityOf("ehr-jwt")
	assert.NoError(t, err, "a definition can be had to build a replacement connection")
}

// Every exported type that holds a secret, rendered every way (fmt verbs,
// slog text and JSON, nested; encoding/json; YAML), shows none of it.
func TestRenderingsShowNoSecret(t *testing.T) {
	cfg, err := Load("testdata/config.yaml", env(goodEnv(t)))
	require.NoError(t, err)
	secrets := []string{"CRM-SECRET", "WEATHER-SECRET", "LEGACY-SECRET", "BILLING-SECRET-KEY", "fallback-token", "BEGIN PRIVATE KEY",
		"acme" /* params may come from ${VAR}: printed redacted */}
	reg, err := Open(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = reg.Close() })
	crm, err := reg.REST("crm")
	require.NoError(t, err)
	billing, err := reg.REST("billing")
	require.NoError(t, err)
	oauth, err := reg.securityOf("crm-oauth")
	require.NoError(t, err)
	sc := cfg.Security["crm-oauth"]
	for name, v := range map[string]any{
		"Config": *cfg, "*Config": cfg, "SecurityConfig": sc, "*SecurityConfig": &sc,
		"Security map": cfg.Security, "*Registry": reg, "*Conn crm": crm, "*Conn billing": billing, "Conn dereferenced": *billing,
		"Basic": rest.Basic("u", "LEGACY-SECRET"), "Bearer": rest.Bearer("fallback-token"), "OAuth": oauth,
		"APIKeyHeader": rest.APIKeyHeader("X-API-Key", "WEATHER-SECRET"), "APIKeyQuery": rest.APIKeyQuery("api_key", "BILLING-SECRET-KEY"),
		"Secret": oauthclient.NewSecret("CRM-SECRET"),
	} {
		rendertest.NoSecret(t, name, v, secrets...)
	}
}

func TestParseConfigJSON(t *testing.T) {
	cfg, err := Parse([]byte(`{"security": {"k": {"type": "bearer", "token": "${T}"}},
		"rest": {"api": {"base_url": "https://api.example.com", "security": "k", "timeout": "3s"}}}`),
		env(map[string]string{"T": "tok"}))
	require.NoError(t, err)
	assert.Equal(t, "tok", cfg.Security["k"].Token.Reveal())
	assert.Equal(t, 3*time.Second, cfg.REST["api"].Timeout)
}

func TestParseConfigEmpty(t *testing.T) {
	for _, in := range []string{"", "# nothing\n", "{}", "null"} {
		cfg, err := Parse([]byte(in))
		require.NoError(t, err, "%q", in)
		assert.Empty(t, cfg.REST)
	}
}

func TestConfigProblems(t *testing.T) {
	const sec = "security:\n  s: {type: bearer, token: t}\n"
	tests := []struct {
		name string
		yaml string
		want []string // substrings of the problems, in order
	}{
		{"unknown top-level key", "rest: {}\nsecurities: {}\n", []string{`config: securities: unknown section`}},
		{"unknown field with suggestion", sec + "rest:\n  crm:\n    base_url: https://x.example\n    timout: 5s\n",
			[]string{`rest "crm": timout: unknown field (did you mean "timeout"?) (line 6)`}},
		{"unknown nested field", sec + "rest:\n  crm:\n    base_url: https://x.example\n    retry: {max_attempt: 2}\n",
			[]string{`rest "crm": retry.max_attempt: unknown field (did you mean "max_attempts"?)`}},
		{"unknown security field", "security:\n  s: {type: basic, username: u, passwd: p}\n",
			[]string{`security "s": passwd: unknown field (did you mean "password"?)`}},
		{"unknown security name", sec + "rest:\n  crm: {base_url: https://x.example, security: crm-oauth}\n",
			[]string{`rest "crm": security: unknown security definition "crm-oauth" (known: s)`}},
		{"bad url", "rest:\n  crm: {base_url: 'https://exa mple.com'}\n", []string{`rest "crm": base_url: not a valid URL`}},
		{"relative url", "rest:\n  crm: {base_url: /api}\n", []string{`rest "crm": base_url: must be an absolute http(s) URL`}},
		{"missing url", "rest:\n  crm: {timeout: 1s}\n", []string{`rest "crm": base_url: missing`}},
		{"plain http", "rest:\n  crm: {base_url: 'http://crm.example.com'}\n", []string{`rest "crm": base_url: plain http:// is refused`}},
		{"credentials in url", "rest:\n  crm: {base_url: 'https://u:p@crm.example.com'}\n", []string{`base_url: must not carry credentials`}},
		{"missing env var", "security:\n  s: {type: bearer, token: '${NOPE}'}\n", []string{`security "s": token: environment variable NOPE is not set`}},
		{"missing secret file", "security:\n  s: {type: bearer, token: 'file:/nonexistent/token'}\n",
			[]string{`security "s": token: cannot read /nonexistent/token: no such file or directory`}},
		{"unterminated ref", "rest:\n  crm: {base_url: 'https://${HOST'}\n", []string{`rest "crm": base_url: unterminated ${ reference`}},
		{"bad duration", "rest:\n  crm: {base_url: 'https://x.example', timeout: soon}\n", []string{`rest "crm": timeout: want a duration such as 5s or 1m30s (line 2)`}},
		{"negative", "rest:\n  crm: {base_url: 'https://x.example', retry: {max_attempts: -1}}\n", []string{`rest "crm": retry.max_attempts: must not be negative`}},
		{"bad tls version", "rest:\n  crm: {base_url: 'https://x.example', tls: {min_version: '1.0'}}\n", []string{`rest "crm": tls.min_version: "1.0" is not 1.2 or 1.3`}},
		{"bad ca file", "rest:\n  crm: {base_url: 'https://x.example', tls: {ca_file: /nonexistent.pem}}\n", []string{`rest "crm": tls.ca_file: cannot read /nonexistent.pem`}},
		{"bad header", "rest:\n  crm: {base_url: 'https://x.example', headers: {'Bad Header': x}}\n", []string{`rest "crm": headers: "Bad Header" is not a valid header name`}},
		{"unknown type", "security:\n  s: {type: kerberos}\n", []string{`security "s": type: "kerberos" is unknown`}},
		{"missing type", "security:\n  s: {token: x}\n", []string{`security "s": type: missing`}},
		{"field of other type", "security:\n  s: {type: bearer, token: t, username: u}\n", []string{`security "s": username: does not apply to type bearer`}},
		{"basic without user", "security:\n  s: {type: basic, password: p}\n", []string{`security "s": username: missing`}},
		{"apikey bad in", "security:\n  s: {type: apikey, in: cookie, name: k, value: v}\n", []string{`security "s": in: "cookie" is not header or query`}},
		{"oauth token url", "security:\n  s: {type: oauth2, client_id: c, client_secret: x}\n", []string{`security "s": token_url: missing`}},
		{"oauth http token url", "security:\n  s: {type: oauth2, token_url: 'http://login.example.com/t', client_id: c, client_secret: x}\n",
			[]string{`security "s": token_url: must use https`}},
		{"oauth cert without key", "security:\n  s: {type: oauth2, token_url: 'https://l.example/t', client_id: c, auth_method: tls_client_auth, cert_file: /x.crt}\n",
			[]string{`security "s": cert_file: cert_file and key_file go together`}},
		{"duplicate name", "rest:\n  crm: {base_url: 'https://a.example'}\n  crm: {base_url: 'https://b.example'}\n", []string{`rest "crm": defined twice (first at line 2)`}},
		{"both stores", "store: {memory: {size: 1}, fake: {size: 1}}\n", []string{`store: set memory or fake, not both`}},
		{"unknown store field", "store: {memroy: {size: 1}}\n", []string{`store: memroy: unknown store (did you mean "memory"?`}},
		{"unknown driver field", "store: {fake: {sise: 1}}\n", []string{`store: fake.sise: unknown field (did you mean "size"?)`}},
		{"driver checks its section", "store: {fake: {size: -1}}\n", []string{`store: fake: size must not be negative`}},
		{"memory size", "store: {memory: {size: -1}}\n", []string{`store: memory.size: must not be negative`}},
		{"redis not linked", "store: {redis: {addr: 'localhost:6379'}}\n",
			[]string{`store: redis: the Redis store is not linked into this program: import "github.com/tokenwire/tokenwire/cache/redis" and pass backends.WithStoreSection[redis.Config]("redis")`}},
		{"store twice", "store: {memory: {size: 1}}\nstore: {memory: {size: 2}}\n", []string{`config: store: section defined twice (first at line 1) (line 2)`}},
		{"key twice", "rest:\n  crm:\n    base_url: https://a.example\n    base_url: https://b.example\n",
			[]string{`rest "crm": base_url: defined twice (first at line 3) (line 4)`}},
		{"key twice in a nested mapping", "rest:\n  crm: {base_url: 'https://a.example', retry: {max_attempts: 2, max_attempts: 3}}\n",
			[]string{`rest "crm": retry.max_attempts: defined twice (first at line 2) (line 2)`}},
		{"unknown key in a merge", "base: &b {timeout: 5s, timout: 6s}\n", []string{`config: base: unknown section`}},
		{"unknown key through a merge", "rest:\n  a: &b {base_url: 'https://a.example', timout: 6s}\n  c: {<<: *b}\n",
			[]string{`rest "a": timout: unknown field (did you mean "timeout"?)`, `rest "c": timout: unknown field (did you mean "timeout"?)`}},
		{"key twice in a map field", "rest:\n  crm: {base_url: 'https://a.example', headers: {Accept: a, Accept: b}}\n",
			[]string{`rest "crm": headers.Accept: defined twice (first at line 2) (line 2)`}},
		{"client_secret_jwt alg", "security:\n  s: {type: oauth2, token_url: 'https://l.example/t', client_id: c, client_secret: x, auth_method: client_secret_jwt, signing_alg: HS999}\n",
			[]string{`security "s": signing_alg: "HS999" does not fit client_secret_jwt (want HS256, HS384 or HS512)`}},
		{"issuer must be https", "security:\n  s: {type: oauth2, issuer: 'http://idp.example', client_id: c, client_secret: x}\n",
			[]string{`security "s": issuer: must use https`}},
		{"alias cycle", "rest:\n  a: &b {base_url: 'https://a.example', retry: *b}\n",
			[]string{`rest "a": retry: an alias refers to a mapping that contains it (line 2)`}},
		{"merge cycle (found by fuzzing)", "rest:\n  a: &b {<<: [b, *b], retry: {max_attempts: 1}}\n",
			[]string{`rest "a": an alias refers to a mapping that contains it (line 2)`}},
		{"section merge", "base: &b {crm: {base_url: 'https://a.example'}}\n", []string{`config: base: unknown section`}},
		{"entries merged into a section", "rest:\n  <<: {crm: {base_url: 'https://a.example'}}\n", []string{`rest: a merge (<<) of whole entries is not supported here`}},
		{"reserved param", "security:\n  s: {type: oauth2, token_url: 'https://l.example/t', client_id: c, client_secret: x, params: {grant_type: password}}\n",
			[]string{`security "s": params.grant_type: is set by tokenwire`}},
		{"tls field named", "rest:\n  c: {base_url: 'https://c.example', tls: {min_version: '1.1'}}\n", []string{`rest "c": tls.min_version: "1.1" is not 1.2 or 1.3`}},
		{"negative security timeout", "security:\n  s: {type: oauth2, token_url: 'https://l.example/t', client_id: c, client_secret: x, timeout: -1s, default_lifetime: -1m}\n",
			[]string{`security "s": default_lifetime: must not be negative`, `security "s": timeout: must not be negative`}},
		{"fhir checked too", "fhir:\n  ehr: {base_url: 'https://e.example', security: nope, smart: true, smrt: 1}\n",
			[]string{`fhir "ehr": security: unknown security definition "nope" (known: none defined)`,
				`fhir "ehr": smrt: unknown field (did you mean "smart"?)`}},
		{"section not a map", "rest: [a, b]\n", []string{`rest: must be a mapping from names to definitions`}},
		{"not yaml", "rest: {\n", []string{`config: not valid YAML or JSON`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), env(nil), withFake)
			var ce *ConfigError
			require.ErrorAs(t, err, &ce, "%v", err)
			require.Len(t, ce.Problems, len(tt.want), "%v", err)
			for i, w := range tt.want {
				assert.Contains(t, ce.Problems[i].text(), w)
			}
		})
	}
}

func TestConfigListsEveryProblem(t *testing.T) {
	in := `
security:
  crm-oauth: {type: oauth2, token_url: 'https://login.example.com/t', client_id: c, client_secret: '${CRM_SECRET}'}
  key: {type: apikey, name: X-Key, value: '${KEY}'}
rest:
  crm: {base_url: 'https://crm.example.com', security: crm-oauth}
  billing: {base_url: 'not a url', security: billing-key}
fhir:
  ehr: {base_url: 'https://ehr.example.org', security: missing-def}
`
	_, err := Parse([]byte(in), env(nil))
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	msg := err.Error()
	for _, want := range []string{
		`fhir "ehr": security: unknown security definition "missing-def" (known: crm-oauth, key)`,
		`rest "billing": base_url: must be an absolute http(s) URL`,
		`rest "billing": security: unknown security definition "billing-key"`,
		`security "crm-oauth": client_secret: environment variable CRM_SECRET is not set`,
		`security "key": value: environment variable KEY is not set`,
	} {
		assert.Contains(t, msg, want)
	}
	assert.Len(t, ce.Problems, 5, msg)
	assert.True(t, strings.HasPrefix(msg, "backends: config: 5 problems:"), msg)
}

func TestConfigProblemsNeverEchoSecrets(t *testing.T) {
	in := "security:\n  s: {type: oauth2, token_url: 'https://l.example/t', client_id: c, client_secret: [HUNTER2]}\n" +
		"  b: {type: basic, username: u, password: HUNTER2, scope: HUNTER2}\n" +
		"rest:\n  r: {base_url: 'https://x.example', timeout: HUNTER2}\n"
	_, err := Parse([]byte(in))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "HUNTER2")
}

func TestExpandEnv(t *testing.T) {
	lookup := func(k string) (string, bool) { v, ok := map[string]string{"A": "1", "EMPTY": ""}[k]; return v, ok }
	tests := []struct{ in, want, err string }{
		{in: "plain", want: "plain"},
		{in: "${A}", want: "1"},
		{in: "x${A}y${A}", want: "x1y1"},
		{in: "$${A}", want: "${A}"},
		{in: "cost $5", want: "cost $5"},
		{in: "trailing $", want: "trailing $"},
		{in: "${EMPTY:-d}", want: "d"}, // unset or empty, as in a shell
		{in: "${EMPTY}", want: ""},
		{in: "${MISSING:-d:-e}", want: "d:-e"},
		{in: "${MISSING}", err: "environment variable MISSING is not set"},
		{in: "${A", err: "unterminated"},
		{in: "${1A}", err: "invalid variable name"},
		{in: "${}", err: "invalid variable name"},
	}
	for _, tt := range tests {
		got, err := expandEnv(tt.in, lookup)
		if tt.err != "" {
			assert.ErrorContains(t, err, tt.err, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
	}
}
