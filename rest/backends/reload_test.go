package backends

import (
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// changes is what a case expects to be added, changed and removed.
type changes struct{ added, changed, removed []string }

func assertChanges(t *testing.T, what string, want changes, got Changes) {
	t.Helper()
	assert.Equal(t, want.added, got.Added, what+" added")
	assert.Equal(t, want.changed, got.Changed, what+" changed")
	assert.Equal(t, want.removed, got.Removed, what+" removed")
}

func TestReloadReportsTheDifference(t *testing.T) {
	for _, tc := range []struct {
		name        string
		yaml        func(t *testing.T, f *reloadFixture) string
		security    changes
		connections changes
	}{
		{name: "same file", yaml: func(*testing.T, *reloadFixture) string { return reloadBase }},
		{name: "same secret from another variable", yaml: func(t *testing.T, f *reloadFixture) string {
			f.vars["A_SECRET_TOO"] = "A-SECRET-1"
			return edit(t, "${A_SECRET}", "${A_SECRET_TOO}")
		}},
		{name: "an empty list is no list", yaml: func(t *testing.T, _ *reloadFixture) string {
			return edit(t, "client_id: b,", "client_id: b, scopes: [],")
		}},
		{name: "client secret changed", yaml: func(t *testing.T, f *reloadFixture) string {
			f.vars["A_SECRET"] = "A-SECRET-2"
			return reloadBase
		}, security: changes{changed: []string{"a-oauth"}}, connections: changes{changed: []string{"crm"}}},
		{name: "api key changed", yaml: func(t *testing.T, f *reloadFixture) string {
			f.vars["KEY"] = "KEY-SECRET-2"
			return reloadBase
		}, security: changes{changed: []string{"key"}}, connections: changes{changed: []string{"billing"}}},
		{name: "scopes changed", yaml: func(t *testing.T, _ *reloadFixture) string {
			return edit(t, "scopes: [crm.read]", "scopes: [crm.read, crm.write]")
		}, security: changes{changed: []string{"a-oauth"}}, connections: changes{changed: []string{"crm"}}},
		{name: "a header added", yaml: func(t *testing.T, _ *reloadFixture) string {
			return edit(t, "security: a-oauth}", "security: a-oauth, headers: {Accept: application/json}}")
		}, connections: changes{changed: []string{"crm"}}},
		{name: "a connection and a definition added", yaml: func(t *testing.T, _ *reloadFixture) string {
			return edit(t, "security:\n", "security:\n  open: {type: none}\n") +
				"fhir:\n  ehr: {base_url: '${URL}/fhir', security: open}\n"
		}, security: changes{added: []string{"open"}}, connections: changes{added: []string{"ehr"}}},
		{name: "a connection and its definition removed", yaml: func(t *testing.T, _ *reloadFixture) string {
			return edit(t, "  b-oauth: {type: oauth2, token_url: '${TOKEN_URL}', client_id: b, client_secret: '${B_SECRET}'}\n", "",
				"  erp: {base_url: '${URL}/erp', security: b-oauth}\n", "")
		}, security: changes{removed: []string{"b-oauth"}}, connections: changes{removed: []string{"erp"}}},
		{name: "a rest connection moved to fhir", yaml: func(t *testing.T, _ *reloadFixture) string {
			return edit(t, "  crm: {base_url: '${URL}/crm', security: a-oauth}\n", "") +
				"fhir:\n  crm: {base_url: '${URL}/crm', security: a-oauth}\n"
		}, connections: changes{changed: []string{"crm"}}},
		{name: "a CA file renewed under the same path", yaml: func(t *testing.T, f *reloadFixture) string {
			require.NoError(t, os.WriteFile(f.ca, caPEM(t), 0o600))
			return reloadBase
		}, connections: changes{changed: []string{"billing"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newReloadFixture(t, nil)
			rep := f.reload(t, tc.yaml(t, f))
			assertChanges(t, "security", tc.security, rep.Security)
			assertChanges(t, "connections", tc.connections, rep.Connections)
			all := append(append([]string{}, rep.Connections.Added...), rep.Connections.Changed...)
			all = append(all, rep.Connections.Unchanged...)
			assert.ElementsMatch(t, all, f.reg.Names(), "the registry holds the new configuration's connections")
		})
	}
}
