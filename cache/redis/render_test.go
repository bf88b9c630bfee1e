package redis_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/cache/redis"
	"github.com/tokenwire/tokenwire/internal/rendertest"
	"github.com/tokenwire/tokenwire/rest"
)

// Distinctive secrets: none of them may appear in any rendering.
const (
	renderPassword = "hunter2-redis-pw-7731"
	renderSentinel = "sentinel-pw-redis-9924"
)

// Two 32-byte encryption keys, printable so that a leak of the raw bytes
// shows as text.
var renderKeys = [][]byte{[]byte("raw-aes-key-for-render-test-0042"), []byte("old-aes-key-for-render-test-0043")}

// forms is every way the bytes of a secret could leak as text: the bytes
// as a string, base64 (encoding/json writes []byte so), hex (%x).
// bytesAsNumbers covers the rest.
func forms(secret []byte) []string {
	return []string{
		string(secret),
		base64.StdEncoding.EncodeToString(secret),
		base64.RawURLEncoding.EncodeToString(secret),
		hex.EncodeToString(secret),
	}
}

var numberRE = regexp.MustCompile(`0[xX][0-9a-fA-F]+|[0-9]+`)

// bytesAsNumbers reports whether out lists the first bytes of secret as
// consecutive numbers, decimal or 0x hex, whatever separates them: how fmt
// (%v, %d, %#v) and YAML write a []byte.
func bytesAsNumbers(out string, secret []byte) bool {
	want := secret[:min(8, len(secret))]
	var nums []uint64
	for _, m := range numberRE.FindAllString(out, -1) {
		var n uint64
		var err error
		if h, ok := strings.CutPrefix(strings.ToLower(m), "0x"); ok {
			n, err = strconv.ParseUint(h, 16, 64)
		} else {
			n, err = strconv.ParseUint(m, 10, 64)
		}
		if err != nil {
			n = math.MaxUint64
		}
		nums = append(nums, n)
	}
	for i := 0; i+len(want) <= len(nums); i++ {
		if slices.Equal(nums[i:i+len(want)], widen(want)) {
			return true
		}
	}
	return false
}

func widen(b []byte) []uint64 {
	out := make([]uint64, len(b))
	for i, c := range b {
		out[i] = uint64(c)
	}
	return out
}

func TestBytesAsNumbers(t *testing.T) {
	secret := []byte("raw-secret")
	for _, out := range []string{fmt.Sprint(secret), fmt.Sprintf("%d", [][]byte{secret}), fmt.Sprintf("%#v", secret),
		"value:\n    - 114\n    - 97\n    - 119\n    - 45\n    - 115\n    - 101\n    - 99\n    - 114\n"} {
		assert.True(t, bytesAsNumbers(out, secret), out)
	}
	assert.False(t, bytesAsNumbers(fmt.Sprint([]byte("raw-other!")), secret))
}

// renderings is rendertest.All(v) (every fmt verb, log/slog's text and
// JSON handlers, encoding/json, YAML) plus what it leaves out: each slog
// attribute on a line of its own, fmt in a map, encoding/json and YAML in a
// struct; and a marshaller's error fails the test instead of being
// rendered as text.
func renderings(t *testing.T, v any) map[string]string {
	t.Helper()
	out := rendertest.All(v)
	for _, verb := range rendertest.Verbs {
		if verb != "%d" && verb != "%x" { // which would also apply to the key
			out["fmt "+verb+" in a map"] = fmt.Sprintf(verb, map[string]any{"k": v})
		}
	}
	handlers := map[string]func(io.Writer) slog.Handler{
		"text": func(w io.Writer) slog.Handler { return slog.NewTextHandler(w, nil) },
		"json": func(w io.Writer) slog.Handler { return slog.NewJSONHandler(w, nil) },
	}
	for name, handler := range handlers {
		for _, attr := range []slog.Attr{slog.Any("v", v), slog.Any("x", []any{v}), slog.Any("m", map[string]any{"k": v})} {
			var b bytes.Buffer
			slog.New(handler(&b)).Info("render", attr)
			out["slog "+name+" "+attr.Key] = b.String()
		}
	}
	for name, x := range map[string]any{"": v, " in a slice": []any{v}, " in a map": map[string]any{"k": v}, " in a struct": struct{ V any }{v}} {
		j, err := json.Marshal(x)
		require.NoError(t, err, "json.Marshal%s", name)
		out["json"+name] = string(j)
		y, err := yaml.Marshal(x)
		require.NoError(t, err, "yaml.Marshal%s", name)
		out["yaml"+name] = string(y)
	}
	return out
}

// assertHidden fails for every rendering of v that contains a secret, in
// any of its forms.
func assertHidden(t *testing.T, v any, secrets [][]byte) {
	t.Helper()
	require.NotEmpty(t, secrets)
	for how, out := range renderings(t, v) {
		require.NotEmpty(t, out, how)
		assert.NotContains(t, out, "%!", "%s: a verb or method failed: %s", how, out)
		for _, s := range secrets {
			for _, f := range forms(s) {
				assert.NotContains(t, out, f, "%s leaks a secret: %s", how, out)
			}
			assert.False(t, bytesAsNumbers(out, s), "%s leaks the bytes of %q: %s", how, s, out)
		}
	}
}

func renderConfig() redis.Config {
	return redis.Config{
		Addr:             "127.0.0.1:6379",
		Username:         "tokenwire",
		Password:         renderPassword,
		MasterName:       "mymaster",
		SentinelPassword: renderSentinel,
		EncryptionKeys: []redis.Secret{
			redis.Secret(base64.StdEncoding.EncodeToString(renderKeys[0])),
			redis.Secret(base64.RawURLEncoding.EncodeToString(renderKeys[1])),
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
	s := fmt.Sprint(cfg)
	assert.Contains(t, s, "Password:[redacted]")
	assert.Contains(t, s, "SentinelPassword:[redacted]")
	assert.Contains(t, s, "EncryptionKeys:2 [redacted]")
	assert.Contains(t, fmt.Sprint(redis.Config{}), "Password:none")

	j, err := json.Marshal(cfg)
	require.NoError(t, err)
	assert.Equal(t, 4, strings.Count(string(j), `"[redacted]"`), "two passwords and two keys: %s", j)
	assert.Contains(t, string(j), `"mymaster"`)
	y, err := yaml.Marshal(cfg)
	require.NoError(t, err)
	assert.Contains(t, string(y), "password: '[redacted]'")
	assert.Equal(t, 4, strings.Count(string(y), "'[redacted]'"), "two passwords and two keys: %s", y)
}

// A rest.Config loaded from a file with a Redis store section marshals the
// section (rest's StoreConfig writes the driver's section) without its
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
	cfg, err := rest.ParseConfig([]byte(file), fileEnv(map[string]string{"TOKEN_KEY": key}), rest.AllowInsecureHTTP(),
		rest.WithStoreDriver(redis.Driver{}), rest.WithReadFile(files.ReadFile))
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
