package backends

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestConfigOneCauseOneProblem: a misspelt key, or a key written in the
// wrong section, is the one problem reported for it: the key it was meant
// to be is not also reported missing, nor what depends on it; problems
// with causes of their own are still all reported.
func TestConfigOneCauseOneProblem(t *testing.T) {
	const secret = "security:\n  crm-oauth:\n    type: oauth2\n    token_url: https://l.example/t\n    client_id: c\n"
	for _, tt := range []struct {
		name, yaml string
		want       []Problem
	}{
		{"misspelt secret", secret + "    client_secrte: s3cret\n",
			[]Problem{{`security "crm-oauth"`, "client_secrte", `unknown field (did you mean "client_secret"?)`, 6}}},
		{"misspelt base_url", "rest:\n  crm:\n    base_ur: https://x.example\n",
			[]Problem{{`rest "crm"`, "base_ur", `unknown field (did you mean "base_url"?)`, 3}}},
		{"misspelt nested key", "rest:\n  crm:\n    base_url: https://x.example\n    tls: {ca_fil: /x.pem}\n",
			[]Problem{{`rest "crm"`, "tls.ca_fil", `unknown field (did you mean "ca_file"?)`, 4}}},
		{"misspelt type", "security:\n  s:\n    typ: oauth2\n    token_url: https://l.example/t\n",
			[]Problem{{`security "s"`, "typ", `unknown field (did you mean "type"?)`, 3}}},
		{"misspelt grant", "security:\n  s:\n    type: oauth2\n    grnt: jwt_bearer\n    token_url: https://l.example/t\n    assertion: {file: /x}\n",
			[]Problem{{`security "s"`, "grnt", `unknown field (did you mean "grant"?)`, 4}}},
		{"smart under rest", "security:\n  s: {type: oauth2, client_id: c}\nrest:\n  ehr:\n    base_url: https://x.example\n    security: s\n    smart: true\n",
			[]Problem{{`rest "ehr"`, "smart", "applies to fhir connections only (move the entry to the fhir section)", 7}}},
		{"smart misspelt", "security:\n  s: {type: oauth2, client_id: c}\nfhir:\n  ehr:\n    base_url: https://x.example\n    security: s\n    smrt: true\n",
			[]Problem{{`fhir "ehr"`, "smrt", `unknown field (did you mean "smart"?)`, 7}}},
		{"independent problems stay", secret + "    client_secrte: s3cret\n    timeout: soon\nrest:\n  crm: {base_ur: 'https://x.example', retry: {max_attempts: x}}\n",
			[]Problem{
				{`rest "crm"`, "base_ur", `unknown field (did you mean "base_url"?)`, 9},
				{`rest "crm"`, "retry.max_attempts", "want an integer", 9},
				{`security "crm-oauth"`, "client_secrte", `unknown field (did you mean "client_secret"?)`, 6},
				{`security "crm-oauth"`, "timeout", "want a duration such as 5s or 1m30s", 7},
			}},
		{"the key meant is written too: its own problem stays", "security:\n  s: {type: oauth2, client_id: c, client_secret: x, tken_url: y, token_url: 'http://l.example/t'}\n",
			[]Problem{
				{`security "s"`, "tken_url", `unknown field (did you mean "token_url"?)`, 2},
				{`security "s"`, "token_url", "must use https (plain http is allowed only with AllowInsecureHTTP, for tests)", 2},
			}},
		{"another user's need stays", "security:\n  s: {type: oauth2, client_id: c, client_secret: x}\nrest:\n  ehr: {base_url: 'https://x.example', security: s, smart: true}\n  crm: {base_url: 'https://y.example', security: s}\n",
			[]Problem{
				{`rest "ehr"`, "smart", "applies to fhir connections only (move the entry to the fhir section)", 4},
				{`security "s"`, "token_url", `missing, and rest "crm" cannot discover it (only smart: true FHIR connections can)`, 2},
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, problemsOf(t, tt.yaml))
		})
	}
}
