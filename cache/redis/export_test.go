package redis

import (
	"testing"

	goredis "github.com/redis/go-redis/v9"
)

// Exported for the external tests (package redis_test) of this directory.

// SharedClient returns a client of the package's shared test server, or
// skips the test when redis-server is not installed.
func SharedClient(tb testing.TB) *goredis.Client { return sharedClient(tb) }

// UniquePrefix returns a key prefix no other test uses.
func UniquePrefix(tb testing.TB) string { return uniquePrefix(tb) }

// TestOpTimeout is the OpTimeout for tests that are not about timeouts.
const TestOpTimeout = testOpTimeout

// VersionGCM is the first byte of a value sealed with a key.
const VersionGCM = versionGCM

// KeyID is the second byte of a value sealed with key.
func KeyID(key []byte) byte { return keyID(key) }

// ValueKey is the Redis key of a caller's key.
func (s *Store) ValueKey(key string) string { return s.valueKey(key) }

// LockKey is the Redis key of the lock named key.
func (s *Store) LockKey(key string) string { return s.lockKey(key) }

// SoakChildEnv marks the soak's child processes.
const SoakChildEnv = soakChildEnv

// The defaults of OpTimeout and Cooldown.
const (
	DefaultOpTimeout = defaultOpTimeout
	DefaultCooldown  = defaultCooldown
)
