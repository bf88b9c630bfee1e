package backends

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestConfigHintsAtAnUnquotedReferenceInBraces: ${VAR} unquoted inside
// { } or [ ] is not YAML; the problem says to quote it, on its line, and
// says nothing more when the cause is another.
func TestConfigHintsAtAnUnquotedReferenceInBraces(t *testing.T) {
	for _, tt := range []struct {
		name, yaml string
		want       Problem
	}{
		{"in a mapping", "rest:\n  x: {base_url: 'https://x.example'}\n  crm: {base_url: ${CRM}}\n",
			Problem{"config", "", `not valid YAML or JSON: did not find expected ',' or '}' (${CRM} inside { } or [ ] must be quoted: "${CRM}")`, 3}},
		{"a part of a value", "rest:\n  crm: {base_url: ${CRM}/api, timeout: 1s}\n",
			Problem{"config", "", `not valid YAML or JSON: did not find expected ',' or '}' (${CRM} inside { } or [ ] must be quoted: "${CRM}")`, 2}},
		{"in a list", "security:\n  s: {type: oauth2, scopes: [${SCOPE}, b]}\n",
			Problem{"config", "", `not valid YAML or JSON: did not find expected ',' or ']' (${SCOPE} inside { } or [ ] must be quoted: "${SCOPE}")`, 2}},
		{"a default is not echoed", "rest:\n  crm: {base_url: ${CRM:-https://crm.example}}\n",
			Problem{"config", "", `not valid YAML or JSON: did not find expected ',' or '}' (${CRM:-…} inside { } or [ ] must be quoted: "${CRM:-…}")`, 2}},
		{"quoted: another cause", "rest:\n  crm: {base_url: '${CRM}'}\n  x: [\n",
			Problem{"config", "", "not valid YAML or JSON: did not find expected node content", 3}},
		{"no reference", "rest: {\n", Problem{"config", "", "not valid YAML or JSON: did not find expected node content", 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, []Problem{tt.want}, problemsOf(t, tt.yaml))
		})
	}
}

// TestConfigYAMLMessagesKeepOnlyPunctuation: of what yaml.v3 quotes in
// its messages, only the punctuation it expected is kept; a value, even
// of one character, is not echoed.
func TestConfigYAMLMessagesKeepOnlyPunctuation(t *testing.T) {
	assert.Equal(t, "did not find expected ',' or '}'", scrubYAML("yaml: did not find expected ',' or '}'"))
	assert.Equal(t, []Problem{{`rest "crm"`, "", "want a mapping", 2}}, problemsOf(t, "rest:\n  crm: Z\n"),
		"no value, no Go type, the line once")
	assert.Equal(t, []Problem{{"store", "memory", "want a mapping", 1}}, problemsOf(t, "store: {memory: [Z]}\n"))
}
