package redis_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache/redis"
	"github.com/tokenwire/tokenwire/internal/redistest"
	"github.com/tokenwire/tokenwire/oauthclient/oauthtest"
	"github.com/tokenwire/tokenwire/rest"
	"github.com/tokenwire/tokenwire/rest/backends"
)

// The client and secret the authorization server of fileBackend knows.
const (
	fileClientID = "crm-client"
	fileSecret   = "cfg-secret-value"
)

// fileBackend is what the connection of a configuration file talks to: an
// authorization server and an API that requires its tokens.
type fileBackend struct {
	as  *oauthtest.Server
	api string // base URL of the API server
}

func newFileBackend(t *testing.T) fileBackend {
	t.Helper()
	as := oauthtest.NewServer()
	t.Cleanup(as.Close)
	as.AddClient(oauthtest.Client{ID: fileClientID, Secret: fileSecret})
	api := httptest.NewServer(as.RequireToken(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, `{"id":"42"}`)
	})))
	t.Cleanup(api.Close)
	return fileBackend{as: as, api: api.URL}
}

// file returns a configuration file with one OAuth connection, crm, whose
// store section is redis: with the given lines (YAML, unindented).
func (b fileBackend) file(redisLines ...string) string {
	var section strings.Builder
	for _, l := range redisLines {
		section.WriteString("    " + l + "\n")
	}
	return fmt.Sprintf(`
security:
  crm-oauth:
    type: oauth2
    token_url: %s
    client_id: %s
    client_secret: ${CRM_SECRET}
rest:
  crm:
    base_url: %s/api
    security: crm-oauth
store:
  redis:
%s`, b.as.TokenURL(), fileClientID, b.api, section.String())
}

// fileEnv is the environment of the files: the client secret plus vars.
func fileEnv(vars map[string]string) rest.Option {
	return backends.WithLookupEnv(func(name string) (string, bool) {
		if name == "CRM_SECRET" {
			return fileSecret, true
		}
		v, ok := vars[name]
		return v, ok
	})
}

// memFiles is a file reader serving files from memory: none of them exists
// on disk. It records the paths it is asked for.
type memFiles struct {
	files map[string][]byte
	fail  error // returned for every path when set

	mu   sync.Mutex
	read []string
}

func (m *memFiles) ReadFile(path string) ([]byte, error) {
	m.mu.Lock()
	m.read = append(m.read, path)
	m.mu.Unlock()
	if m.fail != nil {
		return nil, m.fail
	}
	b, ok := m.files[path]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
	}
	return append([]byte(nil), b...), nil
}

func (m *memFiles) Read() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.read...)
}

// requireNotOnDisk makes sure that only an injected reader can serve path.
func requireNotOnDisk(t *testing.T, path string) {
	t.Helper()
	_, err := os.Stat(path)
	require.ErrorIs(t, err, fs.ErrNotExist, "%s must not exist on disk", path)
}

// openFile loads file with the Redis driver and opts, and opens it; the
// registry is closed when the test ends.
func openFile(t *testing.T, file string, opts ...rest.Option) (*backends.Config, *backends.Registry) {
	t.Helper()
	opts = append([]rest.Option{backends.WithStoreSection[redis.Config]("redis"), rest.AllowInsecureHTTP()}, opts...)
	cfg, err := backends.Parse([]byte(file), opts...)
	require.NoError(t, err)
	reg, err := backends.Open(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = reg.Close() })
	return cfg, reg
}

// fetchCustomer calls the API through the registry's crm connection, which
// takes a token (from the store or the authorization server).
func fetchCustomer(t *testing.T, reg *backends.Registry) {
	t.Helper()
	conn, err := reg.REST("crm")
	require.NoError(t, err)
	got, err := rest.GetJSON[map[string]string](t.Context(), conn, "customers/42")
	require.NoError(t, err)
	assert.Equal(t, "42", got["id"])
}

// storeSection returns the Redis section the loader decoded.
func storeSection(t *testing.T, cfg *backends.Config) *redis.Config {
	t.Helper()
	require.Equal(t, "redis", cfg.Store.SharedName)
	rc, ok := cfg.Store.Shared.(*redis.Config)
	require.True(t, ok, "store section decoded into %T, want *redis.Config", cfg.Store.Shared)
	return rc
}

// storeProblem returns the problem of err about the store's redis section.
func storeProblem(t *testing.T, err error) backends.Problem {
	t.Helper()
	var ce *backends.ConfigError
	require.ErrorAs(t, err, &ce)
	for _, p := range ce.Problems {
		if p.Where == "store" && p.Field == "redis" {
			return p
		}
	}
	require.Failf(t, "no problem at store/redis", "problems: %v", ce.Problems)
	return backends.Problem{}
}

// The Redis store configured in the configuration file: two replicas, each
// loading the same file, share one token, stored encrypted under the
// configured prefix.
func TestStoreFromConfigurationFile(t *testing.T) {
	raw := redis.SharedClient(t)
	b := newFileBackend(t)
	prefix := redis.UniquePrefix(t)
	key := base64.StdEncoding.EncodeToString(testKey(7))
	file := b.file(
		"addr: "+raw.Options().Addr,
		`prefix: "`+prefix+`"`,
		`encryption_keys: ["${TOKEN_KEY}"]`,
		"op_timeout: "+redis.TestOpTimeout.String(),
	)
	env := fileEnv(map[string]string{"TOKEN_KEY": key})

	for replica := range 2 {
		t.Run(fmt.Sprint("replica ", replica), func(t *testing.T) {
			_, reg := openFile(t, file, env)
			fetchCustomer(t, reg)
		})
	}
	assert.Equal(t, 1, b.as.Requests(fileClientID), "the second replica took the token from Redis")

	keys, err := raw.Keys(context.Background(), prefix+"*").Result()
	require.NoError(t, err)
	require.NotEmpty(t, keys)
	for _, k := range keys {
		assert.NotContains(t, k, fileClientID)
		v, err := raw.Get(context.Background(), k).Bytes()
		require.NoError(t, err)
		assert.NotContains(t, string(v), fileClientID, "value is encrypted")
		for _, tok := range b.as.SeenTokens() {
			assert.NotContains(t, string(v), tok)
		}
	}
}

// A program that does not pass the store section links no Redis code: a file
// naming the Redis store fails to load, saying what to pass.
func TestStoreSectionMustBeGiven(t *testing.T) {
	b := newFileBackend(t)
	const password = "never-echoed-pw-3141"
	file := b.file("addr: 127.0.0.1:6379", "password: "+password, "plaintext: true")

	_, err := backends.Parse([]byte(file), fileEnv(nil), rest.AllowInsecureHTTP())
	require.Error(t, err)
	p := storeProblem(t, err)
	assert.Contains(t, p.Reason, `import "github.com/tokenwire/tokenwire/cache/redis"`)
	assert.Contains(t, p.Reason, `backends.WithStoreSection[redis.Config]("redis")`)
	assert.NotContains(t, err.Error(), password)

	_, err = backends.Parse([]byte(file), fileEnv(nil), rest.AllowInsecureHTTP(), backends.WithStoreSection[redis.Config]("redis"))
	assert.NoError(t, err, "with the section the same file loads")
}

// tlsRedis is a redis-server that also listens with TLS, under a
// certificate of its own CA.
type tlsRedis struct {
	srv     *redistest.Server
	tlsAddr string
	caPEM   []byte
}

func startTLSRedis(t *testing.T) tlsRedis {
	t.Helper()
	ca := redistest.NewCA(t)
	srv := redistest.StartTLS(t, ca)
	return tlsRedis{srv: srv, tlsAddr: srv.TLSAddr(), caPEM: ca.CAPEM}
}

// tls_ca_file is read through rest.WithReadFile, when loading and when
// opening: a CA that exists only in the injected reader makes the store
// reach Redis over TLS.
func TestStoreTLSCAFileThroughReader(t *testing.T) {
	srv := startTLSRedis(t)
	raw := goredis.NewClient(&goredis.Options{Addr: srv.srv.Addr(), ContextTimeoutEnabled: true}) // the plain port
	t.Cleanup(func() { _ = raw.Close() })
	const caPath = "/nonexistent/tokenwire-test/redis-ca.pem"
	requireNotOnDisk(t, caPath)
	b := newFileBackend(t)
	lines := func(prefix string) []string {
		return []string{
			"addr: " + srv.tlsAddr,
			"tls: true",
			"tls_ca_file: " + caPath,
			`prefix: "` + prefix + `"`,
			"plaintext: true",
			"op_timeout: " + redis.TestOpTimeout.String(),
		}
	}

	t.Run("served from memory", func(t *testing.T) {
		files := &memFiles{files: map[string][]byte{caPath: srv.caPEM}}
		prefix := redis.UniquePrefix(t)
		cfg, reg := openFile(t, b.file(lines(prefix)...), fileEnv(nil), rest.WithReadFile(files.ReadFile))
		assert.Equal(t, caPath, storeSection(t, cfg).TLSCAFile)
		fetchCustomer(t, reg)

		assert.Contains(t, files.Read(), caPath)
		keys, err := raw.Keys(t.Context(), prefix+"*").Result()
		require.NoError(t, err)
		assert.NotEmpty(t, keys, "the token reached Redis over TLS, verified with the CA from the reader")
	})

	t.Run("reader fails", func(t *testing.T) {
		files := &memFiles{fail: errors.New("vault sealed")}
		_, err := backends.Parse([]byte(b.file(lines(redis.UniquePrefix(t))...)),
			fileEnv(nil), rest.AllowInsecureHTTP(), backends.WithStoreSection[redis.Config]("redis"), rest.WithReadFile(files.ReadFile))
		require.Error(t, err)
		p := storeProblem(t, err)
		assert.Contains(t, p.Reason, "tls_ca_file")
		assert.Contains(t, p.Reason, "vault sealed")
		assert.Equal(t, []string{caPath}, files.Read())
	})

	t.Run("not PEM", func(t *testing.T) {
		files := &memFiles{files: map[string][]byte{caPath: []byte("not a certificate")}}
		_, err := backends.Parse([]byte(b.file(lines(redis.UniquePrefix(t))...)),
			fileEnv(nil), rest.AllowInsecureHTTP(), backends.WithStoreSection[redis.Config]("redis"), rest.WithReadFile(files.ReadFile))
		require.Error(t, err)
		assert.Contains(t, storeProblem(t, err).Reason, "no PEM certificate")
	})
}

// The secret fields of the section (password, sentinel_password,
// encryption_keys) may be file:/path, read through rest.WithReadFile, or
// ${VAR}. The password is checked against a server that refuses every
// command but PING to a client without it.
func TestStoreSecretsFromFilesAndEnv(t *testing.T) {
	const (
		user       = "tokenwire"
		password   = "redis-acl-pw-from-the-vault"
		sentinelPW = "sentinel-pw-from-the-vault"
		secretsDir = "/nonexistent/tokenwire-test/secrets"
	)
	srv := redistest.Start(t, "--user", "default", "on", "nopass", "+ping",
		"--user", user, "on", ">"+password, "~*", "&*", "+@all")
	raw := goredis.NewClient(&goredis.Options{Addr: srv.Addr(), Username: user, Password: password, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = raw.Close() })
	anon := goredis.NewClient(&goredis.Options{Addr: srv.Addr(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = anon.Close() })
	require.Error(t, anon.Set(t.Context(), "probe", "v", time.Minute).Err(), "the server refuses a client without the password")

	rawKey, oldKey := testKey(5), testKey(6)
	key, old := base64.StdEncoding.EncodeToString(rawKey), base64.RawURLEncoding.EncodeToString(oldKey)
	requireNotOnDisk(t, secretsDir)
	files := map[string][]byte{ // as secret files usually are: with a final newline
		secretsDir + "/redis-password":    []byte(password + "\n"),
		secretsDir + "/sentinel-password": []byte(sentinelPW + "\n"),
		secretsDir + "/token-key":         []byte(key + "\n"),
		secretsDir + "/old-token-key":     []byte(old),
	}
	env := map[string]string{
		"REDIS_PASSWORD": password, "SENTINEL_PASSWORD": sentinelPW, "TOKEN_KEY": key, "OLD_TOKEN_KEY": old,
		"SECRETS": secretsDir,
	}
	b := newFileBackend(t)
	cases := []struct {
		name                         string
		password, sentinel, key, old string
	}{
		{"file", "file:" + secretsDir + "/redis-password", "file:" + secretsDir + "/sentinel-password",
			"file:" + secretsDir + "/token-key", "file:" + secretsDir + "/old-token-key"},
		{"env", "${REDIS_PASSWORD}", "${SENTINEL_PASSWORD}", "${TOKEN_KEY}", "${OLD_TOKEN_KEY}"},
		{"file path from env", "file:${SECRETS}/redis-password", "file:${SECRETS}/sentinel-password",
			"file:${SECRETS}/token-key", "file:${SECRETS}/old-token-key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			reader := &memFiles{files: files}
			prefix := redis.UniquePrefix(t)
			file := b.file(
				"addr: "+srv.Addr(),
				"username: "+user,
				`password: "`+tc.password+`"`,
				`sentinel_password: "`+tc.sentinel+`"`,
				`encryption_keys: ["`+tc.key+`", "`+tc.old+`"]`,
				`prefix: "`+prefix+`"`,
				"op_timeout: "+redis.TestOpTimeout.String(),
			)
			cfg, reg := openFile(t, file, fileEnv(env), rest.WithReadFile(reader.ReadFile))

			rc := storeSection(t, cfg)
			assert.Equal(t, password, rc.Password.Reveal())
			assert.Equal(t, sentinelPW, rc.SentinelPassword.Reveal())
			require.Len(t, rc.EncryptionKeys, 2)
			assert.Equal(t, key, rc.EncryptionKeys[0].Reveal())
			assert.Equal(t, old, rc.EncryptionKeys[1].Reveal())
			opts, err := rc.Options()
			require.NoError(t, err)
			assert.Equal(t, [][]byte{rawKey, oldKey}, opts.Keys)
			if strings.HasPrefix(tc.password, "file:") {
				assert.Subset(t, reader.Read(), []string{secretsDir + "/redis-password", secretsDir + "/sentinel-password",
					secretsDir + "/token-key", secretsDir + "/old-token-key"})
			} else {
				assert.Empty(t, reader.Read(), "${VAR} values are not paths")
			}

			fetchCustomer(t, reg)
			keys, err := raw.Keys(t.Context(), prefix+"*").Result()
			require.NoError(t, err)
			values := slices.DeleteFunc(keys, func(k string) bool { return strings.HasSuffix(k, ":lock") })
			require.Len(t, values, 1, "the token reached Redis: the password was accepted")
			v, err := raw.Get(t.Context(), values[0]).Bytes()
			require.NoError(t, err)
			require.GreaterOrEqual(t, len(v), 2)
			assert.Equal(t, []byte{redis.VersionGCM, redis.KeyID(rawKey)}, v[:2], "sealed with the first key")
		})
	}
}

// The registry opened from the file owns the Redis client it built:
// reg.Close closes it, and the server sees its connections go.
func TestRegistryClosesRedisClient(t *testing.T) {
	srv := redistest.Start(t) // its own server: every other connection is the registry's
	const observer = "tokenwire-test-observer"
	raw := goredis.NewClient(&goredis.Options{Addr: srv.Addr(), ClientName: observer, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = raw.Close() })
	b := newFileBackend(t)
	_, reg := openFile(t, b.file(
		"addr: "+srv.Addr(),
		"plaintext: true",
		"op_timeout: "+redis.TestOpTimeout.String(),
	), fileEnv(nil))
	others := func() []string {
		list, err := raw.ClientList(context.Background()).Result()
		require.NoError(t, err)
		var out []string
		for _, line := range strings.Split(strings.TrimSpace(list), "\n") {
			if !strings.Contains(" "+line+" ", " name="+observer+" ") {
				out = append(out, line)
			}
		}
		return out
	}

	fetchCustomer(t, reg)
	require.NotEmpty(t, others(), "the registry's store is connected")

	require.NoError(t, reg.Close())
	assert.Eventually(t, func() bool { return len(others()) == 0 }, 10*time.Second, 5*time.Millisecond,
		"the registry's Redis connections are closed")
	assert.NoError(t, reg.Close(), "Close is idempotent")
}
