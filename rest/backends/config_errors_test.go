package backends

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// problemsWith parses in with the environment vars and returns its
// problems.
func problemsWith(t *testing.T, in string, vars map[string]string) []Problem {
	t.Helper()
	_, err := Parse([]byte(in), env(vars), withFake)
	var ce *ConfigError
	require.ErrorAs(t, err, &ce, "%v", err)
	return ce.Problems
}

// One problem in a definition is reported once: the connections that use
// it, and the definitions that exchange its token, say nothing more about
// it (they said `smart: true needs an oauth2 security definition ("ehr-smart"
// is )`, with an empty type).
func TestConfigOneCauseOneMessage(t *testing.T) {
	const users = `fhir:
  ehr: {base_url: 'https://ehr.example.org/fhir', security: ehr-smart, smart: true}
`
	for name, tc := range map[string]struct {
		def  string
		want Problem
	}{
		"type of the wrong type": {"{type: [oauth2], client_id: c, key_id: k1}",
			Problem{Where: `security "ehr-smart"`, Field: "type", Reason: "want a string", Line: 2}},
		"a key twice": {"{type: oauth2, client_id: c, client_id: d}",
			Problem{Where: `security "ehr-smart"`, Field: "client_id", Reason: "defined twice (first at line 2)", Line: 2}},
		"no type": {"{client_id: c, key_id: k1}",
			Problem{Where: `security "ehr-smart"`, Field: "type", Reason: "missing (want " + securityTypes + ")", Line: 2}},
		"unknown grant": {"{type: oauth2, grant: password, client_id: c}",
			Problem{Where: `security "ehr-smart"`, Field: "grant", Reason: `"password" is unknown (want client_credentials, jwt_bearer, token_exchange or refresh_token)`, Line: 2}},
	} {
		t.Run(name, func(t *testing.T) {
			got := problemsWith(t, "security:\n  ehr-smart: "+tc.def+"\n  ex: {type: oauth2, token_url: 'https://l.example/t', client_id: c, grant: token_exchange, subject_token: {definition: ehr-smart}}\n"+users, nil)
			assert.Equal(t, []Problem{tc.want}, got)
		})
	}
}

// A security section that is not a mapping is one problem, not one more
// for each connection that names a definition.
func TestConfigBrokenSecuritySectionIsOneProblem(t *testing.T) {
	got := problemsWith(t, `security: [crm-oauth]
rest:
  crm: {base_url: 'https://crm.example.com', security: crm-oauth}
  erp: {base_url: 'https://erp.example.com', security: erp-oauth}
`, nil)
	assert.Equal(t, []Problem{{Where: "security", Reason: "must be a mapping from names to definitions", Line: 1}}, got)
}

// A variable missing from the base URL of a smart: true connection is
// reported there, once: not also as a discovery_url (a field the file
// does not have, derived from that base URL) of its definition.
func TestConfigMissingBaseURLVariableIsOneProblem(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	require.NoError(t, err)
	got := problemsWith(t, `security:
  ehr-smart: {type: oauth2, client_id: ehr-client, private_key: '${KEY}', key_id: k1}
fhir:
  ehr: {base_url: '${EHR_URL}/fhir', security: ehr-smart, smart: true}
`, map[string]string{"KEY": pemKey(t, key)})
	assert.Equal(t, []Problem{{Where: `fhir "ehr"`, Field: "base_url", Reason: "environment variable EHR_URL is not set", Line: 4}}, got)
	for _, p := range got {
		assert.NotContains(t, p.text(), "discovery_url")
	}
}

// Every problem about a place in the file carries its line: a missing
// variable or file (in a secret, a header, a supplier, a claim), a key
// missing from an entry (the entry's line), a check across entries.
func TestConfigEveryProblemHasItsLine(t *testing.T) {
	in := `security:
  bearer: {type: bearer, token: '${NOPE}'}
  file:
    type: oauth2
    token_url: https://l.example/t
    client_id: c
    client_secret: 'file:/nonexistent/secret'
  rt:
    type: oauth2
    token_url: https://l.example/t
    grant: refresh_token
    refresh_token: {value: '${RT}'}
    refresh_state_file: /tmp/state
  rt2: {type: oauth2, token_url: 'https://l.example/t', grant: refresh_token, refresh_token: {file: /x}, refresh_state_file: /tmp/state}
  jb:
    type: oauth2
    token_url: https://l.example/t
    grant: jwt_bearer
    assertion_subject: s
    private_key: k
    assertion_claims: {scope: '${SCOPE}'}
  nourl: {type: oauth2, client_id: c, client_secret: s}
  login: {type: login, token_url: 'https://l.example/l', headers: {X-Key: '${KEY}'}}
  partner: {type: bearer, token_from: {file: '${DIR}/t'}, expires_at: '${EXPIRY}'}
rest:
  crm:
    base_url: https://crm.example.com
    headers: {Accept: '${ACCEPT}'}
store:
  fake: {size: -1}
`
	got := problemsWith(t, in, nil)
	want := map[string]int{
		`security "bearer": token`:              2,
		`security "file": client_secret`:        7,
		`security "rt": refresh_token.value`:    12,
		`security "rt": refresh_state_file`:     13,
		`security "jb": assertion_claims.scope`: 21,
		`security "nourl": token_url`:           22,
		`security "login": headers.X-Key`:       23,
		`security "partner": token_from.file`:   24,
		`security "partner": expires_at`:        24,
		`rest "crm": headers.Accept`:            28,
		`store: fake`:                           30,
	}
	seen := map[string]int{}
	for _, p := range got {
		assert.Positive(t, p.Line, "%s: no line", p.text())
		seen[p.Where+": "+p.Field] = p.Line
	}
	for at, line := range want {
		assert.Equal(t, line, seen[at], "%s, in %v", at, got)
	}
	assert.True(t, strings.Contains(got[0].text(), "(line "), got[0].text())
}
