package redis_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache/redis"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
	"github.com/tokenwire/tokenwire/rest"
)

// The Redis store configured in the configuration file: two replicas, each
// loading the same file, share one token, stored encrypted under the
// configured prefix.
func TestStoreFromConfigurationFile(t *testing.T) {
	raw := redis.SharedClient(t)
	as := oauthtest.NewServer()
	t.Cleanup(as.Close)
	as.AddClient("crm-client", "cfg-secret-value")
	crm := httptest.NewServer(as.RequireToken(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"id":"42"}`)
	})))
	t.Cleanup(crm.Close)
	prefix := redis.UniquePrefix(t)
	key := base64.StdEncoding.EncodeToString(testKey(7))
	file := fmt.Sprintf(`
security:
  crm-oauth:
    type: oauth2
    token_url: %s
    client_id: crm-client
    client_secret: ${CRM_SECRET}
rest:
  crm:
    base_url: %s/api
    security: crm-oauth
store:
  redis:
    addr: %s
    prefix: "%s"
    encryption_keys: ["${TOKEN_KEY}"]
    op_timeout: %s
`, as.TokenURL(), crm.URL, raw.Options().Addr, prefix, redis.TestOpTimeout)
	env := map[string]string{"CRM_SECRET": "cfg-secret-value", "TOKEN_KEY": key}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }

	for replica := range 2 {
		cfg, err := rest.ParseConfig([]byte(file), rest.WithLookupEnv(lookup), rest.AllowInsecureHTTP())
		require.NoError(t, err)
		reg, err := rest.NewRegistry(context.Background(), cfg, rest.RegistryOptions{Options: rest.Options{AllowInsecureHTTP: true}})
		require.NoError(t, err)
		t.Cleanup(func() { _ = reg.Close() })
		conn, err := reg.Conn("crm")
		require.NoError(t, err)
		got, err := rest.GetJSON[map[string]string](context.Background(), conn, "customers/42")
		require.NoError(t, err, "replica %d", replica)
		assert.Equal(t, "42", got["id"])
	}
	assert.Equal(t, 1, as.Requests("crm-client"), "the second replica took the token from Redis")

	keys, err := raw.Keys(context.Background(), prefix+"*").Result()
	require.NoError(t, err)
	require.NotEmpty(t, keys)
	for _, k := range keys {
		assert.NotContains(t, k, "crm-client")
		v, err := raw.Get(context.Background(), k).Bytes()
		require.NoError(t, err)
		assert.False(t, strings.Contains(string(v), "crm-client"), "value is encrypted")
		for _, tok := range as.SeenTokens() {
			assert.NotContains(t, string(v), tok)
		}
	}
}
