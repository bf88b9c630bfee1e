package backends

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/tokenwire/tokenwire/internal/files"
)

// problemsOf parses in and returns its problems (none: nil).
func problemsOf(t *testing.T, in string) []Problem {
	t.Helper()
	_, err := Parse([]byte(in), env(nil))
	if err == nil {
		return nil
	}
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	return ce.Problems
}

func TestConfigWrongTypesNameTheFieldAndKeepChecking(t *testing.T) {
	in := `rest:
  crm:
    base_url: 'not a url'
    timeout: 5
    headers: {'Bad Header': x}
    retry:
      max_attempts: "x"
      min_wait: 1s
      max_wait: [1]
security:
  s:
    type: basic
    username: u
    password: p
    scopes: 3
  t: {type: bearer, token: {a: b}}
store:
  memory: {size: lots}
`
	got := problemsOf(t, in)
	want := []Problem{
		{Where: `rest "crm"`, Field: "base_url", Reason: "must be an absolute http(s) URL", Line: 3},
		{Where: `rest "crm"`, Field: "headers", Reason: `"Bad Header" is not a valid header name`, Line: 5},
		{Where: `rest "crm"`, Field: "retry.max_attempts", Reason: "want an integer", Line: 7},
		{Where: `rest "crm"`, Field: "retry.max_wait", Reason: "want a duration such as 5s or 1m30s", Line: 9},
		{Where: `rest "crm"`, Field: "timeout", Reason: "want a duration such as 5s or 1m30s", Line: 4},
		{Where: `security "s"`, Field: "scopes", Reason: "want a list", Line: 15},
		{Where: `security "t"`, Field: "token", Reason: "want a string", Line: 16},
		{Where: "store", Field: "memory.size", Reason: "want an integer", Line: 18},
	}
	assert.Equal(t, want, got)
}

func TestConfigWrongTypeNeverEchoesValue(t *testing.T) {
	got := problemsOf(t, "security:\n  s: {type: bearer, token: [HUNTER2]}\nrest:\n  r: {base_url: 'https://x.example', timeout: HUNTER2}\n")
	require.Len(t, got, 2)
	for _, p := range got {
		assert.NotContains(t, p.text(), "HUNTER2")
	}
}

func TestConfigRejectsSeveralDocuments(t *testing.T) {
	for _, in := range []string{
		"rest: {}\n---\nrest: {}\n",
		"rest: {}\n---\n",
		"---\nrest: {}\n---\nsecurity: {}\n",
	} {
		got := problemsOf(t, in)
		require.Len(t, got, 1, in)
		assert.Equal(t, "config", got[0].Where)
		assert.Contains(t, got[0].Reason, "one YAML document")
		assert.Positive(t, got[0].Line)
	}
	assert.Nil(t, problemsOf(t, "---\nrest: {}\n"), "a single document may start with ---")
}

func TestConfigAPIKeyHeaderName(t *testing.T) {
	for _, tt := range []struct{ in, name string }{
		{"header", "X Key"}, {"", "X:Key"}, {"header", "Bad\tKey"}, {"header", "Ключ"},
	} {
		in := "security:\n  k: {type: apikey, in: '" + tt.in + "', name: '" + tt.name + "', value: v}\n"
		got := problemsOf(t, in)
		require.Len(t, got, 1, tt.name)
		assert.Equal(t, Problem{Where: `security "k"`, Field: "name", Reason: fmt.Sprintf("%q is not a valid header name", tt.name), Line: 2}, got[0])
	}
	assert.Nil(t, problemsOf(t, "security:\n  k: {type: apikey, name: X-API-Key, value: v}\n"))
	assert.Nil(t, problemsOf(t, "security:\n  k: {type: apikey, in: query, name: 'api key', value: v}\n"), "any query parameter name")
}

func TestConfigMaxWaitBelowMinWait(t *testing.T) {
	got := problemsOf(t, "fhir:\n  ehr: {base_url: 'https://e.example', retry: {min_wait: 2s, max_wait: 1s}}\n")
	assert.Equal(t, []Problem{{Where: `fhir "ehr"`, Field: "retry.max_wait", Reason: "1s is less than retry.min_wait 2s", Line: 2}}, got)
	got = problemsOf(t, "rest:\n  crm: {base_url: 'https://e.example', retry: {max_wait: 50ms}}\n")
	assert.Equal(t, []Problem{{Where: `rest "crm"`, Field: "retry.max_wait", Reason: "50ms is less than retry.min_wait 100ms (the default)", Line: 2}}, got)
	assert.Nil(t, problemsOf(t, "rest:\n  crm: {base_url: 'https://e.example', retry: {min_wait: 10s}}\n"),
		"max_wait unset: the cap follows min_wait")
}

func TestConfigParamsNeverPrinted(t *testing.T) {
	cfg, err := Parse([]byte(`security:
  s: {type: oauth2, token_url: 'https://l.example/t', client_id: c, client_secret: x, params: {tenant: '${P}'}}
`), env(map[string]string{"P": "PARAM-SECRET"}))
	require.NoError(t, err)
	sc := cfg.Security["s"]
	j, err := json.Marshal(cfg)
	require.NoError(t, err)
	y, err := yaml.Marshal(cfg)
	require.NoError(t, err)
	for _, out := range []string{fmt.Sprintf("%v %+v %#v", cfg, sc, sc), string(j), string(y)} {
		assert.NotContains(t, out, "PARAM-SECRET")
	}
	oc, errs := oauthConfig("s", sc, files.Read, nil)
	require.Empty(t, errs)
	assert.Equal(t, "PARAM-SECRET", oc.Params["tenant"].Reveal(), "sent as given")
}
