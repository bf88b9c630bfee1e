package rest

import (
	"os"
	"strings"
	"testing"
)

// FuzzParseConfig feeds arbitrary bytes to the loader: it must never
// panic, must return either a config or a *ConfigError, and a problem must
// never echo a secret read through a file: reference (those resolve only in
// secret fields; ${VAR} values may legitimately show up in the messages
// about non-secret fields such as "type").
func FuzzParseConfig(f *testing.F) {
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
	} {
		f.Add([]byte(s))
	}
	lookup := WithLookupEnv(func(k string) (string, bool) {
		if k == "T" {
			return "HUNTER2", true
		}
		return "", false
	})
	files := WithReadFile(func(string) ([]byte, error) { return []byte("FILESECRET"), nil })
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseConfig(data, lookup, files)
		if err == nil {
			if cfg == nil {
				t.Fatal("nil config without error")
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
