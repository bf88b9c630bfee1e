package backends

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConfigNamesAVariableSetButEmpty: a field whose value came out wrong
// because a ${VAR} it uses is set but empty says so, in every form a value
// takes a variable (the whole value, a part of it, a file: path, a
// supplier's value, a date); an empty variable in a field with no problem
// is no problem.
func TestConfigNamesAVariableSetButEmpty(t *testing.T) {
	vars := map[string]string{"CRM_SECRET": "", "HOST": "", "KEY_FILE": "", "DIR": "", "WHEN": "", "AUD": "", "OK": "x"}
	for _, tt := range []struct {
		name, yaml string
		want       []Problem
	}{
		{"a secret", "security:\n  crm-oauth:\n    type: oauth2\n    token_url: https://l.example/t\n    client_id: c\n    client_secret: ${CRM_SECRET}\n",
			[]Problem{{`security "crm-oauth"`, "client_secret", "environment variable CRM_SECRET is set but empty: missing for client_secret_basic", 6}}},
		{"a part of a URL", "rest:\n  crm: {base_url: '${HOST}/api'}\n",
			[]Problem{{`rest "crm"`, "base_url", "environment variable HOST is set but empty: must be an absolute http(s) URL", 2}}},
		{"two in one value", "rest:\n  crm: {base_url: '${HOST}${CRM_SECRET}'}\n",
			[]Problem{{`rest "crm"`, "base_url", "environment variables CRM_SECRET, HOST are set but empty: missing", 2}}},
		{"a file: path", "security:\n  b: {type: bearer, token: 'file:${KEY_FILE}'}\n",
			[]Problem{{`security "b"`, "token", "environment variable KEY_FILE is set but empty: file: names no file", 2}}},
		{"a part of a file: path", "security:\n  b: {type: bearer, token: 'file:${DIR}/nonexistent-token'}\n",
			[]Problem{{`security "b"`, "token", "environment variable DIR is set but empty: cannot read ${DIR}/nonexistent-token: no such file or directory", 2}}},
		{"a required field", "security:\n  b: {type: basic, username: '${CRM_SECRET}${OK}', password: p}\n  c: {type: basic, username: '${CRM_SECRET}', password: p}\n",
			[]Problem{{`security "c"`, "username", "environment variable CRM_SECRET is set but empty: missing", 3}}},
		{"a supplier's value", "security:\n  x:\n    type: oauth2\n    grant: refresh_token\n    token_url: https://l.example/t\n    client_id: c\n    refresh_token: {value: '${CRM_SECRET}'}\n",
			[]Problem{{`security "x"`, "refresh_token", "environment variable CRM_SECRET is set but empty: empty: give one of file, command, value or definition", 7}}},
		{"a date", "security:\n  i: {type: bearer, token: t, expires_at: '${WHEN}'}\n",
			[]Problem{{`security "i"`, "expires_at", "environment variable WHEN is set but empty: want an RFC 3339 date such as 2026-06-30T00:00:00Z", 2}}},
		{"no problem", "security:\n  s: {type: oauth2, token_url: 'https://l.example/t', client_id: c, client_secret: s, audience: '${AUD}'}\n", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, problemsOfEnv(t, tt.yaml, vars))
		})
	}
}

// problemsOfEnv parses in with the environment vars and returns its
// problems (none: nil).
func problemsOfEnv(t *testing.T, in string, vars map[string]string) []Problem {
	t.Helper()
	_, err := Parse([]byte(in), env(vars))
	if err == nil {
		return nil
	}
	var ce *ConfigError
	require.ErrorAs(t, err, &ce)
	return ce.Problems
}
