package redis

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/internal/logbuf"
	"github.com/tokenwire/tokenwire/internal/redact"
)

// key32 is base64 of "0123456789abcdef0123456789ABCDEF".
const key32 = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlBQkNERUY="

func TestNewFromConfigYAML(t *testing.T) {
	sharedClient(t) // skips without redis-server
	doc := `
addr: ` + testServer.Addr() + `
prefix: "` + uniquePrefix(t) + `"
encryption_keys: ["` + key32 + `"]
op_timeout: 150ms
`
	var cfg Config
	require.NoError(t, yaml.Unmarshal([]byte(doc), &cfg))
	assert.Equal(t, 150*time.Millisecond, cfg.OpTimeout)

	s, err := NewFromConfig(cfg)
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, s.Set(ctx, "k", cache.Entry{Value: []byte("v"), Expiry: time.Now().Add(time.Hour)}))
	got, err := s.Get(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, "v", string(got.Value))
	assert.Equal(t, 150*time.Millisecond, s.timeout)
	assert.True(t, honoursDeadlines(s.client))
	require.NoError(t, s.Close())
}

func TestConfigOptionsKeys(t *testing.T) {
	raw := []byte("0123456789abcdef0123456789ABCDEF")
	for name, enc := range map[string]string{
		"std":     key32,
		"raw std": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlBQkNERUY",
		"spaces":  " " + key32 + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			o, err := Config{EncryptionKeys: []redact.Secret{redact.NewSecret(enc)}}.Options()
			require.NoError(t, err)
			require.Len(t, o.Keys, 1)
			assert.Equal(t, raw, o.Keys[0])
		})
	}
}

func TestConfigErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing.pem")
	notPEM := filepath.Join(t.TempDir(), "bad.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("hello"), 0o600))
	cases := []struct {
		name  string
		cfg   Config
		want  string
		build func(Config) error
	}{
		{"no key", Config{}, "Plaintext", options},
		{"key not base64", Config{EncryptionKeys: []redact.Secret{redact.NewSecret("secret!key*material")}}, "encryption_keys[0]: not valid base64", options},
		{"key too short", Config{EncryptionKeys: []redact.Secret{redact.NewSecret(key32), redact.NewSecret("c2VjcmV0LWtleQ==")}}, "encryption_keys[1]: decodes to 10 bytes", options},
		{"keys and plaintext", Config{EncryptionKeys: []redact.Secret{redact.NewSecret(key32)}, Plaintext: true}, "both set", options},
		{"ca without tls", Config{TLSCAFile: missing}, "need tls: true", client},
		{"ca missing", Config{TLS: true, TLSCAFile: missing}, "tls_ca_file", client},
		{"ca not pem", Config{TLS: true, TLSCAFile: notPEM}, "no PEM certificate", client},
		{"db on cluster", Config{Addrs: []string{"a:1", "b:2"}, DB: 3}, "database 0", client},
		{"from config", Config{Addr: "127.0.0.1:1"}, "Plaintext", func(c Config) error { _, err := NewFromConfig(c); return err }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.build(tc.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "c2VjcmV0")
			assert.NotContains(t, err.Error(), "secret")
		})
	}
}

func options(c Config) error { _, err := c.Options(); return err }

func client(c Config) error {
	cl, err := c.Client()
	if err == nil {
		_ = cl.Close()
	}
	return err
}

func TestConfigTLS(t *testing.T) {
	srv := httptest.NewTLSServer(nil) // only for its certificate
	t.Cleanup(srv.Close)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	der := srv.Certificate().Raw
	require.NoError(t, os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))

	conf, err := Config{TLS: true, TLSCAFile: caFile, TLSServerName: "redis.internal"}.tlsConfig(nil)
	require.NoError(t, err)
	assert.Equal(t, "redis.internal", conf.ServerName)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	_, err = cert.Verify(x509.VerifyOptions{Roots: conf.RootCAs})
	assert.NoError(t, err, "CA file loaded into RootCAs")

	conf, err = Config{}.tlsConfig(nil)
	require.NoError(t, err)
	assert.Nil(t, conf)
}

// certPEM returns the PEM of a test TLS server's certificate and the
// certificate, for checking the roots a tls.Config was given.
func certPEM(t *testing.T) ([]byte, *x509.Certificate) {
	t.Helper()
	srv := httptest.NewTLSServer(nil) // only for its certificate
	t.Cleanup(srv.Close)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), srv.Certificate()
}

// memReader serves files from memory; paths records what it was asked.
func memReader(files map[string][]byte, paths *[]string) func(string) ([]byte, error) {
	return func(path string) ([]byte, error) {
		*paths = append(*paths, path)
		if b, ok := files[path]; ok {
			return b, nil
		}
		return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
	}
}

const memCAPath = "/nonexistent/tokenwire-test/ca.pem"

func TestConfigTLSReadFile(t *testing.T) {
	_, err := os.Stat(memCAPath)
	require.ErrorIs(t, err, fs.ErrNotExist)
	caPEM, cert := certPEM(t)
	var paths []string
	conf, err := Config{TLS: true, TLSCAFile: memCAPath}.tlsConfig(memReader(map[string][]byte{memCAPath: caPEM}, &paths))
	require.NoError(t, err)
	assert.Equal(t, []string{memCAPath}, paths)
	_, err = cert.Verify(x509.VerifyOptions{Roots: conf.RootCAs})
	assert.NoError(t, err, "CA from the reader loaded into RootCAs")
	assert.Equal(t, uint16(tls.VersionTLS12), conf.MinVersion)

	_, err = Config{TLS: true, TLSCAFile: memCAPath}.tlsConfig(nil)
	assert.ErrorIs(t, err, fs.ErrNotExist, "nil reads the disk")
}

// Check and Open are what package rest/backends calls: both read tls_ca_file with
// env.ReadFile, and Open gives the store the environment's clock and logger.
func TestConfigCheckAndOpen(t *testing.T) {
	sharedClient(t) // skips without redis-server
	caPEM, _ := certPEM(t)
	ctx := context.Background()
	var paths []string
	env := cache.Env{ReadFile: memReader(map[string][]byte{memCAPath: caPEM}, &paths)}

	t.Run("check", func(t *testing.T) {
		assert.NoError(t, (&Config{EncryptionKeys: []redact.Secret{redact.NewSecret(key32)}, TLS: true, TLSCAFile: memCAPath}).Check(env))
		assert.Contains(t, paths, memCAPath)
		failing := cache.Env{ReadFile: func(string) ([]byte, error) { return nil, errors.New("vault sealed") }}
		for _, tc := range []struct {
			name string
			cfg  Config
			env  cache.Env
			want string
		}{
			{"reader fails", Config{Plaintext: true, TLS: true, TLSCAFile: memCAPath}, failing, "tls_ca_file: vault sealed"},
			{"not PEM", Config{Plaintext: true, TLS: true, TLSCAFile: memCAPath},
				cache.Env{ReadFile: func(string) ([]byte, error) { return []byte("hello"), nil }}, "no PEM certificate"},
			{"no key", Config{}, env, "Plaintext"},
			{"bad key", Config{EncryptionKeys: []redact.Secret{redact.NewSecret("c2VjcmV0LWtleQ==")}}, env, "encryption_keys[0]: decodes to 10 bytes"},
			{"db on cluster", Config{Plaintext: true, Addrs: []string{"a:1", "b:2"}, DB: 1}, env, "database 0"},
			{"db on cluster endpoint", Config{Plaintext: true, Cluster: true, DB: 1}, env, "database 0"},
			{"ca without tls", Config{Plaintext: true, TLSCAFile: memCAPath}, env, "need tls: true"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := tc.cfg.Check(tc.env)
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.want)
				assert.NotContains(t, err.Error(), "c2VjcmV0")
			})
		}
		assert.NoError(t, (&Config{Plaintext: true, MasterName: "mymaster", Addrs: []string{"s1:26379", "s2:26379"}, DB: 2}).Check(env),
			"Sentinel has databases")
	})

	t.Run("open", func(t *testing.T) {
		clk := newClock()
		var logs logbuf.Buffer
		env := env
		env.Now, env.Logger = clk.Now, debugLogger(&logs)
		cfg := &Config{Addr: testServer.Addr(), Prefix: uniquePrefix(t), EncryptionKeys: []redact.Secret{redact.NewSecret(key32)}, OpTimeout: testOpTimeout}
		st, err := cfg.Open(ctx, env)
		require.NoError(t, err)
		s, ok := st.(*Store)
		require.True(t, ok, "Open returns a *Store, got %T", st)
		t.Cleanup(func() { _ = s.Close() })
		assert.True(t, s.owned, "the store closes the client it built")
		assert.Same(t, env.Logger, s.log)

		require.NoError(t, s.Set(ctx, "k", cache.Entry{Value: []byte("v"), Expiry: clk.Now().Add(time.Minute)}))
		_, err = s.Get(ctx, "k")
		require.NoError(t, err)
		clk.Advance(2 * time.Minute)
		_, err = s.Get(ctx, "k")
		assert.ErrorIs(t, err, cache.ErrNotFound, "the store reads the environment's clock")

		require.NoError(t, s.Close())
		assert.ErrorIs(t, s.client.Ping(ctx).Err(), goredis.ErrClosed, "Close closed the client")
	})

	t.Run("open over TLS reads the CA with env.ReadFile", func(t *testing.T) {
		paths = nil
		st, err := (&Config{Plaintext: true, TLS: true, TLSCAFile: memCAPath}).Open(ctx, env)
		require.NoError(t, err)
		t.Cleanup(func() { _ = st.(*Store).Close() })
		assert.Equal(t, []string{memCAPath}, paths)
	})

	t.Run("open fails without a typed nil", func(t *testing.T) {
		for _, cfg := range []*Config{{}, {Plaintext: true, TLS: true, TLSCAFile: "/nonexistent/ca.pem"}} {
			st, err := cfg.Open(ctx, env)
			require.Error(t, err)
			assert.True(t, st == nil, "Open returned %T, want a nil cache.Store", st)
		}
	})
}

// fakeSentinel accepts connections on a loopback port and records every
// command it receives, answering each with an error.
type fakeSentinel struct {
	ln       net.Listener
	commands chan []string
}

func startFakeSentinel(t *testing.T) *fakeSentinel {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	f := &fakeSentinel{ln: ln, commands: make(chan []string, 1000)}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := bufio.NewReader(conn)
				for {
					cmd, err := readCommand(r)
					if err != nil {
						return
					}
					select {
					case f.commands <- cmd:
					default:
					}
					if _, err := io.WriteString(conn, "-ERR fake sentinel\r\n"); err != nil {
						return
					}
				}
			}()
		}
	}()
	return f
}

// readCommand reads one RESP array of bulk strings, as clients send.
func readCommand(r *bufio.Reader) ([]string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return nil, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "*")))
	if err != nil || !strings.HasPrefix(line, "*") {
		return nil, fmt.Errorf("not a command: %q", line)
	}
	cmd := make([]string, 0, n)
	for range n {
		head, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		size, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(head, "$")))
		if err != nil {
			return nil, err
		}
		arg := make([]byte, size+2)
		if _, err := io.ReadFull(r, arg); err != nil {
			return nil, err
		}
		cmd = append(cmd, string(arg[:size]))
	}
	return cmd, nil
}

// With master_name, the Sentinels get sentinel_username and
// sentinel_password; the master's password is not sent to them.
func TestConfigSentinelCredentials(t *testing.T) {
	sentinel := startFakeSentinel(t)
	const (
		user     = "sentinel-user"
		password = "sentinel-pw-4242"
		master   = "master-pw-4343"
	)
	client, err := Config{
		MasterName: "mymaster", Addrs: []string{sentinel.ln.Addr().String()},
		SentinelUsername: user, SentinelPassword: redact.NewSecret(password), Password: redact.NewSecret(master), Plaintext: true,
	}.Client()
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.Error(t, client.Ping(ctx).Err(), "the fake Sentinel knows no master")

	var seen [][]string
	for authed := false; !authed; {
		select {
		case cmd := <-sentinel.commands:
			seen = append(seen, cmd)
			authed = slices.Contains(cmd, password)
			if authed {
				assert.Contains(t, cmd, user, "%q", cmd)
			}
		default:
			require.Failf(t, "the Sentinel was not sent sentinel_password", "commands: %q", seen)
			return
		}
	}
	for _, cmd := range seen {
		assert.NotContains(t, cmd, master)
	}
}
