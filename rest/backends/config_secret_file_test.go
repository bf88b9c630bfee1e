package backends

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// A secret's file: path that a variable builds is named as written when
// the file cannot be read: the variable may hold the secret itself
// (file:${CRM_SECRET}, where ${CRM_SECRET} was meant), which the problem
// must not show. A path written out is shown as it is.
func TestSecretFileProblemShowsNoVariableValue(t *testing.T) {
	vars := map[string]string{"CRM_SECRET": "sup3r-s3cret-value", "DIR": "/nonexistent-dir"}
	for _, tt := range []struct{ name, value, says string }{
		{"the secret in a variable", "file:${CRM_SECRET}", "cannot read ${CRM_SECRET}: no such file or directory"},
		{"a part of the path", "file:${DIR}/token", "cannot read ${DIR}/token: no such file or directory"},
		{"a path written out", "file:/nonexistent/token", "cannot read /nonexistent/token: no such file or directory"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			problems := problemsOfEnv(t, "security:\n  b: {type: bearer, token: '"+tt.value+"'}\n", vars)
			assert.Equal(t, []Problem{{`security "b"`, "token", tt.says, 2}}, problems)
			for _, p := range problems {
				assert.NotContains(t, p.Reason, "sup3r-s3cret-value")
			}
		})
	}
}
