package redis

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/internal/files"
	"github.com/tokenwire/tokenwire/internal/redact"
)

// Config is the Redis store's section of a configuration file, which
// package rest/backends loads, checks and opens when the program passes
// backends.WithStoreSection[redis.Config]("redis"). Its secret
// fields are oauthclient.Secret (make one with oauthclient.NewSecret): in
// the file they may be file:/path or ${VAR}, and they never print.
//
//	redis:
//	  addrs: ["redis-1:6379"]
//	  password: "…"
//	  tls: true
//	  encryption_keys: ["<base64 of 32 random bytes>"]
//	  op_timeout: 200ms
type Config struct {
	// Addrs is one address (single node), several (Cluster), or the
	// Sentinels when MasterName is set. Default "127.0.0.1:6379".
	Addrs []string `yaml:"addrs" json:"addrs,omitempty"`
	// Addr is a shorthand for a single address, added to Addrs.
	Addr string `yaml:"addr" json:"addr,omitempty"`
	// Cluster forces a Cluster client for a single address (a cluster's
	// configuration endpoint).
	Cluster bool `yaml:"cluster" json:"cluster,omitempty"`
	// MasterName selects Sentinel: the name of the monitored master.
	MasterName       string        `yaml:"master_name" json:"master_name,omitempty"`
	SentinelUsername string        `yaml:"sentinel_username" json:"sentinel_username,omitempty"`
	SentinelPassword redact.Secret `yaml:"sentinel_password" json:"sentinel_password,omitempty"`

	Username string        `yaml:"username" json:"username,omitempty"`
	Password redact.Secret `yaml:"password" json:"password,omitempty"`
	DB       int           `yaml:"db" json:"db,omitempty"` // not for Cluster

	TLS           bool   `yaml:"tls" json:"tls,omitempty"`                         // connect with TLS 1.2 or later
	TLSCAFile     string `yaml:"tls_ca_file" json:"tls_ca_file,omitempty"`         // PEM roots; default the system roots
	TLSServerName string `yaml:"tls_server_name" json:"tls_server_name,omitempty"` // default the host of the address

	Prefix string `yaml:"prefix" json:"prefix,omitempty"` // Options.Prefix
	// EncryptionKeys are base64 (standard or URL alphabet, padded or not)
	// encodings of 32-byte keys; the first encrypts (Options.Keys).
	EncryptionKeys []redact.Secret `yaml:"encryption_keys" json:"encryption_keys,omitempty"`
	Plaintext      bool            `yaml:"plaintext" json:"plaintext,omitempty"`   // Options.Plaintext
	OpTimeout      time.Duration   `yaml:"op_timeout" json:"op_timeout,omitempty"` // Options.OpTimeout
}

// Check validates the section without
// connecting, reading tls_ca_file with env.ReadFile.
func (c *Config) Check(env cache.Env) error {
	if _, err := c.Options(); err != nil {
		return err
	}
	_, err := c.tlsConfig(env.ReadFile)
	if err == nil && c.Cluster && c.MasterName != "" {
		err = errors.New("redis: cluster and master_name: a Cluster has no Sentinel master; set one of them")
	}
	if err == nil && c.DB != 0 && (c.Cluster || (len(c.addrs()) > 1 && c.MasterName == "")) {
		err = errors.New("redis: db: a Cluster has only database 0")
	}
	return err
}

// Open builds the client and the store with
// the assembly's clock and logger, and checks the store ([Store.Check]):
// a Redis that refuses it (credentials, ACL, TLS) fails Open with a
// *CheckError, while a Redis that is down only logs a warning — the store
// then serves from its fallback until Redis answers. [Store.Close] closes
// the client.
func (c *Config) Open(ctx context.Context, env cache.Env) (cache.Store, error) {
	st, err := c.open(ctx, env)
	if err != nil {
		return nil, err // not a typed nil in the interface
	}
	return st, nil
}

// NewFromConfig builds the client and the store and checks it as
// [Config.Open] does; [Store.Close] closes the client.
func NewFromConfig(cfg Config) (*Store, error) { return cfg.open(context.Background(), cache.Env{}) }

func (c Config) open(ctx context.Context, env cache.Env) (*Store, error) {
	opts, err := c.Options()
	if err != nil {
		return nil, err
	}
	opts.Now, opts.Logger, opts.MeterProvider = env.Now, env.Logger, env.MeterProvider
	client, err := c.client(env.ReadFile)
	if err != nil {
		return nil, err
	}
	s, err := New(client, opts)
	if err != nil {
		_ = client.Close()
		return nil, err
	}
	s.owned, s.where = true, c.where()
	checkCtx, cancel := context.WithTimeout(ctx, max(s.timeout, checkTimeout))
	defer cancel()
	if err := s.Check(checkCtx); errors.Is(err, ErrMisconfigured) {
		_ = s.Close()
		return nil, err
	} else if err != nil && ctx.Err() == nil {
		s.log.WarnContext(ctx, "redis: not reachable when opened, using the local fallback cache until it is", "error", err.Error())
	}
	return s, nil
}

// Options returns the store options the configuration describes. Fields
// Config does not cover (Fallback, Now, Logger, MeterProvider) are left to
// their defaults.
func (c Config) Options() (Options, error) {
	o := Options{Prefix: c.Prefix, Plaintext: c.Plaintext, OpTimeout: c.OpTimeout}
	for i, s := range c.EncryptionKeys {
		k, err := decodeKey(s.Reveal())
		if err != nil {
			return Options{}, fmt.Errorf("redis: encryption_keys[%d]: %w", i, err)
		}
		o.Keys = append(o.Keys, k)
	}
	_, err := o.withDefaults() // report errors now, not at New
	return o, err
}

// Client returns a go-redis client for the configuration: a Sentinel
// client when MasterName is set, a Cluster client for several addresses or
// Cluster, else a single-node client. Context deadlines are honoured, so
// that OpTimeout cuts off a slow server.
func (c Config) Client() (goredis.UniversalClient, error) { return c.client(nil) }

func (c Config) addrs() []string {
	addrs := append([]string(nil), c.Addrs...)
	if c.Addr != "" {
		addrs = append(addrs, c.Addr)
	}
	if len(addrs) == 0 {
		addrs = []string{"127.0.0.1:6379"}
	}
	return addrs
}

func (c Config) client(readFile func(string) ([]byte, error)) (goredis.UniversalClient, error) {
	tlsConf, err := c.tlsConfig(readFile)
	if err != nil {
		return nil, err
	}
	addrs := c.addrs()
	if c.DB != 0 && (c.Cluster || (len(addrs) > 1 && c.MasterName == "")) {
		return nil, errors.New("redis: db: a Cluster has only database 0")
	}
	return goredis.NewUniversalClient(&goredis.UniversalOptions{
		Addrs:                 addrs,
		IsClusterMode:         c.Cluster,
		MasterName:            c.MasterName,
		SentinelUsername:      c.SentinelUsername,
		SentinelPassword:      c.SentinelPassword.Reveal(),
		Username:              c.Username,
		Password:              c.Password.Reveal(),
		DB:                    c.DB,
		TLSConfig:             tlsConf,
		ContextTimeoutEnabled: true,
	}), nil
}

func (c Config) tlsConfig(readFile func(string) ([]byte, error)) (*tls.Config, error) {
	if !c.TLS {
		if c.TLSCAFile != "" || c.TLSServerName != "" {
			return nil, errors.New("redis: tls_ca_file and tls_server_name need tls: true")
		}
		return nil, nil
	}
	conf := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.TLSServerName}
	if c.TLSCAFile != "" {
		if readFile == nil {
			readFile = files.Read // bounded, regular files only
		}
		pem, err := readFile(c.TLSCAFile)
		if err != nil {
			return nil, fmt.Errorf("redis: tls_ca_file: %w", err)
		}
		conf.RootCAs = x509.NewCertPool()
		if !conf.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("redis: tls_ca_file %s: no PEM certificate found", c.TLSCAFile)
		}
	}
	return conf, nil
}

// decodeKey decodes a base64 key in any common alphabet and checks its
// length; errors never include the key.
func decodeKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil {
			if len(k) != KeySize {
				return nil, fmt.Errorf("decodes to %d bytes, want %d (AES-256)", len(k), KeySize)
			}
			return k, nil
		}
	}
	return nil, errors.New("not valid base64")
}
