package redis

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/tokenwire/tokenwire/cache"
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
			o, err := Config{EncryptionKeys: []string{enc}}.Options()
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
		{"key not base64", Config{EncryptionKeys: []string{"secret!key*material"}}, "encryption_keys[0]: not valid base64", options},
		{"key too short", Config{EncryptionKeys: []string{key32, "c2VjcmV0LWtleQ=="}}, "encryption_keys[1]: decodes to 10 bytes", options},
		{"keys and plaintext", Config{EncryptionKeys: []string{key32}, Plaintext: true}, "both set", options},
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

	conf, err := Config{TLS: true, TLSCAFile: caFile, TLSServerName: "redis.internal"}.tlsConfig()
	require.NoError(t, err)
	assert.Equal(t, "redis.internal", conf.ServerName)
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	_, err = cert.Verify(x509.VerifyOptions{Roots: conf.RootCAs})
	assert.NoError(t, err, "CA file loaded into RootCAs")

	conf, err = Config{}.tlsConfig()
	require.NoError(t, err)
	assert.Nil(t, conf)
}
