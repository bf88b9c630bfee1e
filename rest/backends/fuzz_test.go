package backends

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/tokenwire/tokenwire/rest"
)

// FuzzParseConfig feeds arbitrary bytes to the loader: it must never
// panic, must return either a config or a *ConfigError, and a problem must
// never echo a secret read through a file: reference (those resolve only in
// secret fields; ${VAR} values may legitimately show up in the messages
// about non-secret fields such as "type").
func FuzzParse(f *testing.F) {
	good, err := os.ReadFile("testdata/config.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	for _, s := range []string{
		"",
		"rest: {crm: {base_url: 'https://x.example', timout: 1s}}",
		`{"security": {"k": {"type": "bearer", "token": "${T}"}}, "rest": {"a": {"base_url": "https://a.example", "security": "k"}}}`,
		"security:\n  s: {type: basic, username: u, password: HUNTER2}\nrest:\n  r: {base_url: 'https://${H:-x.example}/a', security: s}\n",
		"store: {memory: {size: -1}, redis: {addr: x}}",
		"rest: &a {crm: {base_url: 'https://x.example'}}\nfhir: *a\n",
		"- a\n- b\n",
		"rest:\n  crm:\n    <<: {base_url: 'https://x.example'}\n",
		"rest:\n  a: &b {base_url: 'https://a.example', timout: 1s}\n  c: {<<: [*b, *b], retry: {max_attempts: 2, max_attempts: 3}}\n",
		"store: {fake: {size: 1}}\nstore: {memory: {}}\n",
		"security:\n  s: {type: oauth2, client_id: c, private_key: 'file:${T}', key_id: k}\nfhir:\n  e: {base_url: 'https://e.example/fhir?x=1', security: s, smart: true}\n",
		"security:\n  a: {type: oauth2, token_url: 'https://a.example/t', grant: token_exchange, subject_token: {definition: b}, actor_token: {value: '${T}'}}\n  b: {type: oauth2, token_url: 'https://a.example/t', grant: jwt_bearer, assertion_subject: s, private_key: 'file:/k', assertion_claims: {x: '${T}'}}\n",
		"security:\n  l: {type: login, token_url: 'https://a.example/l', fields: {a.b: '${T}'}, headers: {X: y}, scheme: JWT}\n  p: {type: bearer, token_from: {command: [cat, '${T}']}, expires_at: '2030-01-01T00:00:00Z'}\n  r: {type: oauth2, token_url: 'https://a.example/t', grant: refresh_token, refresh_token: {file: /rt}, refresh_state_file: /s}\n",
	} {
		f.Add([]byte(s))
	}
	lookup := WithLookupEnv(func(k string) (string, bool) {
		if k == "T" {
			return "HUNTER2", true
		}
		return "", false
	})
	files := rest.WithReadFile(func(string) ([]byte, error) { return []byte("FILESECRET"), nil })
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, lookup, files, withFake)
		if err == nil {
			if cfg == nil {
				t.Fatal("nil config without error")
			}
			if reg, err := Open(context.Background(), cfg); err == nil { // what loads also opens, or says why
				_ = reg.Close()
			} else if strings.Contains(err.Error(), "FILESECRET") || strings.Contains(err.Error(), "HUNTER2") {
				t.Fatalf("a secret leaked into the open error: %v", err)
			}
			return
		}
		ce, ok := err.(*ConfigError)
		if !ok {
			t.Fatalf("error of type %T: %v", err, err)
		}
		if len(ce.Problems) == 0 {
			t.Fatal("ConfigError without problems")
		}
		if strings.Contains(err.Error(), "FILESECRET") && !strings.Contains(string(data), "FILESECRET") {
			t.Fatalf("a resolved secret leaked into the error: %v", err)
		}
	})
}
