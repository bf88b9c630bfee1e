package backends

import (
	"context"
	"crypto/elliptic"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReloadSMART: a SMART definition is built with its connection and
// depends on that connection's base URL and TLS settings, not on the rest
// of it.
func TestReloadSMART(t *testing.T) {
	key := smartEnv(t, elliptic.P384())
	parse := func(yaml string) *Config {
		cfg, err := Parse([]byte(yaml), key)
		require.NoError(t, err)
		return cfg
	}
	reg, err := Open(context.Background(), parse(smartYAML))
	require.NoError(t, err)
	t.Cleanup(func() { _ = reg.Close() })
	before, err := reg.security.Source("ehr-smart")
	require.NoError(t, err)

	ehr := "ehr: {base_url: 'https://ehr.example.org/fhir', security: ehr-smart, smart: true"
	rep, err := reg.Reload(context.Background(), parse(strings.Replace(smartYAML, ehr, ehr+", timeout: 5s", 1)))
	require.NoError(t, err)
	assert.Equal(t, []string{"ehr"}, rep.Connections.Changed)
	assert.False(t, rep.Security.changed(), "%s", rep)
	after, err := reg.security.Source("ehr-smart")
	require.NoError(t, err)
	assert.Same(t, before, after, "the SMART definition keeps its source")

	rep, err = reg.Reload(context.Background(), parse(strings.Replace(smartYAML, ehr, ehr+", tls: {min_version: '1.3'}", 1)))
	require.NoError(t, err)
	assert.Equal(t, []string{"ehr-smart"}, rep.Security.Changed, "its discovery goes through the connection's TLS")
	assert.Equal(t, []string{"ehr"}, rep.Connections.Changed)
	after, err = reg.security.Source("ehr-smart")
	require.NoError(t, err)
	assert.NotSame(t, before, after)
	assert.False(t, before.Status().Closed, "the replaced source serves the calls in flight during its grace")
	require.NoError(t, reg.Close())
	assert.True(t, before.Status().Closed, "closing the registry closes the retired sources")
}
