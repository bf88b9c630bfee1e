package redis

import (
	"context"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/internal/logbuf"
	"github.com/tokenwire/tokenwire/internal/redact"
	"github.com/tokenwire/tokenwire/internal/redistest"
)

// The ACL users of the TLS server: an administrator for the test, the
// store's user (its keys limited to aclPrefix, its commands to those the
// store runs), and a user that may not run scripts.
const (
	aclAdmin, aclAdminPW = "admin", "admin-pw-2b1f"
	aclUser, aclPW       = "tokenwire", "store-pw-77c3"
	aclNoEval            = "noeval"
	aclPrefix            = "tw-acl:"
)

// startACLServer starts a redis-server with a TLS port under a CA of the
// test's own, the default user disabled and the users above.
func startACLServer(t *testing.T) (*redistest.Server, *redistest.CA, *goredis.Client) {
	t.Helper()
	ca := redistest.NewCA(t)
	srv := redistest.StartTLS(t, ca,
		"--user", "default", "off",
		"--user", aclAdmin, "on", ">"+aclAdminPW, "~*", "&*", "+@all",
		"--user", aclUser, "on", ">"+aclPW, "~"+aclPrefix+"*", "resetchannels", "-@all",
		"+get", "+set", "+del", "+eval", "+evalsha", // what the store runs, and nothing else
		"--user", aclNoEval, "on", ">"+aclPW, "~"+aclPrefix+"*", "-@all", "+get", "+set", "+del", "+ping")
	admin := goredis.NewClient(&goredis.Options{Addr: srv.Addr(), Username: aclAdmin, Password: aclAdminPW, ContextTimeoutEnabled: true})
	t.Cleanup(func() { _ = admin.Close() })
	return srv, ca, admin
}

// TestTLSAndACL opens the store over TLS as a user whose keys are limited
// to the store's prefix, then shows that each mistake of configuration is
// an error at open time that names the store and the cause, not a store
// that silently serves from its fallback for ever.
func TestTLSAndACL(t *testing.T) {
	srv, ca, admin := startACLServer(t)
	ctx := context.Background()
	other := redistest.NewCA(t)
	good := Config{Addr: srv.TLSAddr(), TLS: true, TLSCAFile: ca.CAFile, Username: aclUser, Password: redact.NewSecret(aclPW),
		Prefix: aclPrefix, EncryptionKeys: []redact.Secret{redact.NewSecret(key32)}, OpTimeout: testOpTimeout}

	t.Run("served", func(t *testing.T) {
		s, err := NewFromConfig(good)
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.Close() })
		require.NoError(t, s.Check(ctx))
		require.NoError(t, s.Set(ctx, "k", cache.Entry{Value: []byte("v"), Expiry: time.Now().Add(time.Minute)}))
		e, err := s.Get(ctx, "k")
		require.NoError(t, err)
		assert.Equal(t, "v", string(e.Value))
		unlock, ok, err := s.TryLock(ctx, "k", time.Minute)
		require.NoError(t, err)
		require.True(t, ok)
		require.NoError(t, unlock(ctx))
		require.NoError(t, s.DeleteIf(ctx, "k", []byte("v")))
		assert.True(t, s.Status().Healthy, "every operation reached Redis: %s", s.Status().LastError)
		assert.Zero(t, s.Status().Fallbacks)

		keys, err := admin.Keys(ctx, "*").Result()
		require.NoError(t, err)
		assert.Empty(t, keys, "the value and the lock were deleted")
		require.NoError(t, s.Set(ctx, "k", cache.Entry{Value: []byte("v"), Expiry: time.Now().Add(time.Minute)}))
		keys, err = admin.Keys(ctx, aclPrefix+"*").Result()
		require.NoError(t, err)
		assert.Len(t, keys, 1, "the store wrote under its prefix, over TLS")

		err = s.client.Set(ctx, "elsewhere", "v", time.Minute).Err()
		assert.True(t, goredis.IsPermissionError(err), "the user's keys are limited to the prefix: %v", err)
	})

	cases := []struct {
		name  string
		edit  func(*Config)
		cause string
	}{
		{"wrong password", func(c *Config) { c.Password = redact.NewSecret("not-" + aclPW) }, "refused the username or password"},
		{"unknown user", func(c *Config) { c.Username = "nobody" }, "refused the username or password"},
		{"no credentials", func(c *Config) { c.Username, c.Password = "", redact.Secret{} }, "refused the username or password"},
		{"prefix outside the user's keys", func(c *Config) { c.Prefix = "elsewhere:" }, "ACL"},
		{"user may not run scripts", func(c *Config) { c.Username = aclNoEval }, "ACL"},
		{"certificate of another CA", func(c *Config) { c.TLSCAFile = other.CAFile }, "not signed by a trusted CA"},
		{"system roots", func(c *Config) { c.TLSCAFile = "" }, "not signed by a trusted CA"},
		{"certificate for another host", func(c *Config) { c.TLSServerName = "redis.example" }, "for another host"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good
			tc.edit(&cfg)
			_, err := NewFromConfig(cfg)
			require.Error(t, err)
			require.ErrorIs(t, err, ErrMisconfigured)
			var ce *CheckError
			require.ErrorAs(t, err, &ce)
			assert.Contains(t, ce.Cause, tc.cause)
			assert.Contains(t, err.Error(), "redis: store "+cfg.Addr+": ", "names the store")
			assert.NotContains(t, err.Error(), aclPW)

			st, err := (&cfg).Open(ctx, cache.Env{})
			require.ErrorIs(t, err, ErrMisconfigured, "Open, as package rest calls it, fails alike")
			assert.True(t, st == nil)
		})
	}

	t.Run("down is not misconfigured", func(t *testing.T) {
		down := redistest.Start(t)
		require.NoError(t, down.Stop())
		var logs logbuf.Buffer
		cfg := good
		cfg.Addr, cfg.TLS, cfg.TLSCAFile, cfg.OpTimeout = down.Addr(), false, "", 100*time.Millisecond
		st, err := (&cfg).Open(ctx, cache.Env{Logger: debugLogger(&logs)})
		require.NoError(t, err, "Redis down at start: the store opens and serves from its fallback")
		s := st.(*Store)
		t.Cleanup(func() { _ = s.Close() })
		assert.Contains(t, logs.String(), "not reachable when opened")
		require.NoError(t, s.Set(ctx, "k", cache.Entry{Value: []byte("v"), Expiry: time.Now().Add(time.Minute)}))
		_, err = s.Get(ctx, "k")
		require.NoError(t, err)
		assert.False(t, s.Status().Healthy)
		assert.NotErrorIs(t, s.Check(ctx), ErrMisconfigured)
	})

	// A password changed on the server while the store runs: Redis refuses
	// it from the next connection on; the store serves from its fallback
	// and logs an error that says why, not the warning of an outage.
	t.Run("password changed while running", func(t *testing.T) {
		var logs logbuf.Buffer
		st, err := (&good).Open(ctx, cache.Env{Logger: debugLogger(&logs)})
		require.NoError(t, err)
		s := st.(*Store)
		t.Cleanup(func() { _ = s.Close() })
		require.NoError(t, admin.Do(ctx, "ACL", "SETUSER", aclUser, "resetpass", ">rotated-"+aclPW).Err())
		t.Cleanup(func() { _ = admin.Do(ctx, "ACL", "SETUSER", aclUser, "resetpass", ">"+aclPW).Err() })
		require.NoError(t, admin.Do(ctx, "CLIENT", "KILL", "USER", aclUser).Err())

		require.NoError(t, s.Set(ctx, "k", cache.Entry{Value: []byte("v"), Expiry: time.Now().Add(time.Minute)}))
		assert.False(t, s.Status().Healthy)
		assert.Contains(t, logs.String(), "level=ERROR msg=\"redis: refused")
		assert.Contains(t, logs.String(), "refused the username or password")
		assert.NotContains(t, logs.String(), aclPW)
		require.ErrorIs(t, s.Check(ctx), ErrMisconfigured)
	})
}
