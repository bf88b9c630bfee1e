package redis_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/cache/redis"
	"github.com/tokenwire/tokenwire/internal/rendertest"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/rest"
	"github.com/tokenwire/tokenwire/rest/backends"
)

// Distinctive secrets: none of them may appear in any rendering.
const (
	renderPassword = "hunter2-redis-pw-7731"
	renderSentinel = "sentinel-pw-redis-9924"
)

// Two 32-byte encryption keys, printable so that a leak of the raw bytes
// shows as text.
var renderKeys = [][]byte{[]byte("raw-aes-key-for-render-test-0042"), []byte("old-aes-key-for-render-test-0043")}

// assertHidden fails for every rendering of v that contains a secret, in
// any of its forms.
func assertHidden(t *testing.T, v any, secrets [][]byte) {
	t.Helper()
	require.NotEmpty(t, secrets)
	// Options.Keys and Entry.Value are exported bytes: fmt's %p of the
	// value, which no method intercepts, prints them (documented).
	// They are also the only types that format themselves: the others
	// print with fmt's defaults, whose "%!" for a verb that fits no field
	// is no leak.
	var bytesExported, formatsItself bool
	switch v.(type) {
	case redis.Options, cache.Entry:
		bytesExported, formatsItself = true, true
	case *redis.Options, *cache.Entry:
		formatsItself = true
	}
	for how, out := range rendertest.All(t, v) {
		require.NotEmpty(t, out, how)
		pverb := strings.HasPrefix(how, "fmt %p")
		if pverb && bytesExported {
			continue
		}
		if !pverb && formatsItself { // %p of a value is a bad verb by design: no leak, but "%!"
			assert.NotContains(t, out, "%!", "%s: a verb or method failed: %s", how, out)
		}
		for _, s := range secrets {
			for _, f := range rendertest.Forms(s) {
				assert.NotContains(t, out, f, "%s leaks a secret: %s", how, out)
			}
			assert.False(t, rendertest.BytesAsNumbers(out, s), "%s leaks the bytes of %q: %s", how, s, out)
		}
	}
}

func renderConfig() redis.Config {
	return redis.Config{
		Addr:             "127.0.0.1:6379",
		Username:         "tokenwire",
		Password:         oauthclient.NewSecret(renderPassword),
		MasterName:       "mymaster",
		SentinelPassword: oauthclient.NewSecret(renderSentinel),
		EncryptionKeys: []oauthclient.Secret{
			oauthclient.NewSecret(base64.StdEncoding.EncodeToString(renderKeys[0])),
			oauthclient.NewSecret(base64.RawURLEncoding.EncodeToString(renderKeys[1])),
		},
	}
}

// configSecrets are the secrets of renderConfig: the passwords, the keys'
// base64 text (as in the file) and their bytes.
func configSecrets() [][]byte {
	out := [][]byte{[]byte(renderPassword), []byte(renderSentinel)}
	for _, k := range renderConfig().EncryptionKeys {
		out = append(out, []byte(k.Reveal()))
	}
	return append(out, renderKeys...)
}

func TestRenderingHidesSecrets(t *testing.T) {
	cfg := renderConfig()
	opts, err := cfg.Options()
	require.NoError(t, err)
	require.Equal(t, renderKeys, opts.Keys, "the test's secrets are those the Options hold")
	client := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1"}) // never dialled: rendering sends nothing
	t.Cleanup(func() { _ = client.Close() })
	store, err := redis.New(client, opts)
	require.NoError(t, err)
	opened, err := cfg.Open(t.Context(), cache.Env{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = opened.(*redis.Store).Close() })
	token := []byte("eyJ-entry-token-in-redis-5521")
	entry := cache.Entry{Value: token}

	for name, tc := range map[string]struct {
		v       any
		secrets [][]byte
	}{
		"Config":                {cfg, configSecrets()},
		"*Config":               {&cfg, configSecrets()},
		"Options":               {opts, configSecrets()},
		"*Options":              {&opts, configSecrets()},
		"*Store":                {store, configSecrets()},
		"*Store from Open":      {opened, configSecrets()},
		"cache.Entry":           {entry, [][]byte{token}},
		"*cache.Entry":          {&entry, [][]byte{token}},
		"Options with Fallback": {redis.Options{Keys: renderKeys, Fallback: store}, configSecrets()},
	} {
		t.Run(name, func(t *testing.T) { assertHidden(t, tc.v, tc.secrets) })
	}
}

// The redacted forms still say what is configured, without the values.
func TestRenderingSaysWhatIsSet(t *testing.T) {
	cfg := renderConfig()
	s := fmt.Sprintf("%+v", cfg)
	assert.Contains(t, s, "Password:[redacted]")
	assert.Contains(t, s, "SentinelPassword:[redacted]")
	assert.Contains(t, s, "EncryptionKeys:[[redacted] [redacted]]")
	assert.Contains(t, fmt.Sprintf("%+v", redis.Config{}), "Password: ")
	opts, err := cfg.Options()
	require.NoError(t, err)
	assert.Contains(t, fmt.Sprint(opts), "Keys:2 [redacted]")

	j, err := json.Marshal(cfg)
	require.NoError(t, err)
	assert.Equal(t, 4, strings.Count(string(j), `"[redacted]"`), "two passwords and two keys: %s", j)
	assert.Contains(t, string(j), `"mymaster"`)
	y, err := yaml.Marshal(cfg)
	require.NoError(t, err)
	assert.Contains(t, string(y), "password: '[redacted]'")
	assert.Equal(t, 4, strings.Count(string(y), "'[redacted]'"), "two passwords and two keys: %s", y)
}

// A backends.Config loaded from a file with a Redis store section marshals the
// section (backends.Config writes the driver's section) without its
// secrets, whether they were written in the file, in ${VAR} or in files.
func TestRestConfigHidesStoreSecrets(t *testing.T) {
	b := newFileBackend(t)
	key := base64.StdEncoding.EncodeToString(renderKeys[0])
	old := base64.StdEncoding.EncodeToString(renderKeys[1])
	files := &memFiles{files: map[string][]byte{"/nonexistent/tokenwire-test/sentinel-password": []byte(renderSentinel + "\n")}}
	file := b.file(
		"addr: 127.0.0.1:6379",
		"master_name: mymaster",
		"password: "+renderPassword,
		"sentinel_password: file:/nonexistent/tokenwire-test/sentinel-password",
		`encryption_keys: ["${TOKEN_KEY}", "`+old+`"]`,
	)
	cfg, err := backends.Parse([]byte(file), fileEnv(map[string]string{"TOKEN_KEY": key}), rest.AllowInsecureHTTP(),
		backends.WithStoreSection[redis.Config]("redis"), rest.WithReadFile(files.ReadFile))
	require.NoError(t, err)
	rc := storeSection(t, cfg)
	require.Equal(t, renderSentinel, rc.SentinelPassword.Reveal(), "the secrets were resolved")
	require.Equal(t, key, rc.EncryptionKeys[0].Reveal())
	secrets := append(configSecrets(), []byte(fileSecret))

	j, err := json.Marshal(cfg)
	require.NoError(t, err)
	var doc struct {
		Store map[string]map[string]any `json:"store"`
	}
	require.NoError(t, json.Unmarshal(j, &doc))
	require.Contains(t, doc.Store, "redis", "the store section is marshalled: %s", j)
	section, err := json.Marshal(doc.Store["redis"])
	require.NoError(t, err)
	assert.Contains(t, string(section), `"mymaster"`)
	assert.Equal(t, 4, strings.Count(string(section), `"[redacted]"`), "two passwords and two keys: %s", section)
	for _, s := range secrets {
		assert.NotContains(t, string(j), string(s))
	}

	assertHidden(t, cfg, secrets)
	assertHidden(t, cfg.Store, secrets)
}
