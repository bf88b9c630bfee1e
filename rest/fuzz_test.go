package rest

import (
	"os"
	"strings"
	"testing"
)

// FuzzParseConfig feeds arbitrary bytes to the loader: it must never
// panic, must return either a config or a *ConfigError, and a problem must
// never echo the value of the secret it was given.
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
	noFiles := WithReadFile(func(string) ([]byte, error) { return []byte("HUNTER2"), nil })
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseConfig(data, lookup, noFiles)
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
		if strings.Contains(err.Error(), "HUNTER2") && !strings.Contains(string(data), "HUNTER2") {
			t.Fatalf("a resolved secret leaked into the error: %v", err)
		}
	})
}
