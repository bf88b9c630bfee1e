package redis

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/internal/logbuf"
	"github.com/tokenwire/tokenwire/internal/redact"
)

const (
	secretToken = "eyJhbGciOiJSUzI1NiJ9.secret-access-token-4711"
	carelessKey = "client-id-crm-prod|scope=patient/*.read"
)

func TestRoundtrip(t *testing.T) {
	client := sharedClient(t)
	ctx := context.Background()
	for name, opts := range map[string]Options{
		"encrypted": {Keys: [][]byte{aesKey(1)}},
		"plaintext": {Plaintext: true},
	} {
		t.Run(name, func(t *testing.T) {
			clk := newClock()
			opts.Now = clk.Now
			s := newStore(t, client, opts)
			want := cache.Entry{Value: []byte(secretToken), Expiry: clk.Now().Add(time.Hour)}

			_, err := s.Get(ctx, "k")
			require.ErrorIs(t, err, cache.ErrNotFound)
			require.NoError(t, s.Set(ctx, "k", want))

			// A second store on the same Redis (another replica) sees it.
			other := newStore(t, client, Options{Prefix: s.prefix, Keys: opts.Keys, Plaintext: opts.Plaintext, Now: clk.Now})
			got, err := other.Get(ctx, "k")
			require.NoError(t, err)
			assert.Equal(t, want.Value, got.Value)
			assert.True(t, want.Expiry.Equal(got.Expiry), "expiry %v, want %v", got.Expiry, want.Expiry)

			require.NoError(t, other.Delete(ctx, "k"))
			_, err = other.Get(ctx, "k")
			require.ErrorIs(t, err, cache.ErrNotFound)
			require.NoError(t, other.Delete(ctx, "k"), "deleting a missing key")
			assert.True(t, s.Status().Healthy)
		})
	}
}

func TestExpiry(t *testing.T) {
	client := sharedClient(t)
	ctx := context.Background()
	clk := newClock()
	s := newStore(t, client, Options{Keys: [][]byte{aesKey(1)}, Now: clk.Now})

	require.NoError(t, s.Set(ctx, "k", cache.Entry{Value: []byte("v"), Expiry: clk.Now().Add(time.Minute)}))
	pttl, err := client.PTTL(ctx, s.valueKey("k")).Result()
	require.NoError(t, err)
	assert.InDelta(t, time.Minute, pttl, float64(2*time.Second), "Redis TTL follows Entry.Expiry")

	clk.Advance(time.Minute) // Redis still holds it; the payload's expiry says no
	_, err = s.Get(ctx, "k")
	require.ErrorIs(t, err, cache.ErrNotFound)

	t.Run("already expired entry deletes", func(t *testing.T) {
		require.NoError(t, s.Set(ctx, "old", cache.Entry{Value: []byte("v"), Expiry: clk.Now().Add(time.Hour)}))
		require.NoError(t, s.Set(ctx, "old", cache.Entry{Value: []byte("v"), Expiry: clk.Now().Add(-time.Second)}))
		n, err := client.Exists(ctx, s.valueKey("old")).Result()
		require.NoError(t, err)
		assert.Zero(t, n)
		_, err = s.Get(ctx, "old")
		require.ErrorIs(t, err, cache.ErrNotFound)
	})

	t.Run("Redis drops the key at expiry", func(t *testing.T) {
		real := newStore(t, client, Options{Keys: [][]byte{aesKey(1)}})
		require.NoError(t, real.Set(ctx, "short", cache.Entry{Value: []byte("v"), Expiry: time.Now().Add(30 * time.Millisecond)}))
		require.Eventually(t, func() bool {
			return client.Exists(ctx, real.valueKey("short")).Val() == 0
		}, 5*time.Second, 5*time.Millisecond)
	})
}

func TestRedisHoldsNoSecrets(t *testing.T) {
	client := sharedClient(t)
	ctx := context.Background()
	s := newStore(t, client, Options{Keys: [][]byte{aesKey(1)}})
	require.NoError(t, s.Set(ctx, carelessKey, cache.Entry{Value: []byte(secretToken), Expiry: time.Now().Add(time.Hour)}))
	_, ok, err := s.TryLock(ctx, carelessKey, time.Minute)
	require.NoError(t, err)
	require.True(t, ok)

	keys, err := client.Keys(ctx, s.prefix+"*").Result()
	require.NoError(t, err)
	require.Len(t, keys, 2, "value and lock")
	shape := regexp.MustCompile(`^` + regexp.QuoteMeta(s.prefix) + `\{[0-9a-f]{64}\}(:lock)?$`)
	for _, k := range keys {
		assert.Regexp(t, shape, k)
		assert.NotContains(t, k, "client-id")
	}
	raw, err := client.Get(ctx, s.valueKey(carelessKey)).Bytes()
	require.NoError(t, err)
	for _, secret := range []string{secretToken, "secret-access-token", "eyJhbGci", carelessKey, "client-id"} {
		assert.NotContains(t, string(raw), secret)
	}
}

func TestKeyRotation(t *testing.T) {
	client := sharedClient(t)
	ctx := context.Background()
	oldKey, newKey := aesKey(1), aesKey(2)
	prefix := uniquePrefix(t)
	before := newStore(t, client, Options{Prefix: prefix, Keys: [][]byte{oldKey}})
	during := newStore(t, client, Options{Prefix: prefix, Keys: [][]byte{newKey, oldKey}})
	after := newStore(t, client, Options{Prefix: prefix, Keys: [][]byte{newKey}})
	exp := time.Now().Add(time.Hour)

	require.NoError(t, before.Set(ctx, "a", cache.Entry{Value: []byte("A"), Expiry: exp}))
	got, err := during.Get(ctx, "a")
	require.NoError(t, err, "old key still decrypts")
	assert.Equal(t, "A", string(got.Value))

	require.NoError(t, during.Set(ctx, "b", cache.Entry{Value: []byte("B"), Expiry: exp}))
	raw, err := client.Get(ctx, during.valueKey("b")).Bytes()
	require.NoError(t, err)
	assert.Equal(t, []byte{versionGCM, keyID(newKey)}, raw[:2], "new key encrypts")

	got, err = after.Get(ctx, "b")
	require.NoError(t, err)
	assert.Equal(t, "B", string(got.Value))
	_, err = before.Get(ctx, "b")
	require.ErrorIs(t, err, cache.ErrNotFound, "a replica without the new key misses")
}

// TestUnreadableIsMiss covers values that must read as misses: never an
// error other than ErrNotFound, never a panic, never their content logged.
func TestUnreadableIsMiss(t *testing.T) {
	client := sharedClient(t)
	ctx := context.Background()
	exp := time.Now().Add(time.Hour)
	cases := []struct {
		name   string
		reader Options
		tamper func(t *testing.T, s *Store, raw []byte) (key string, value []byte)
	}{
		{"wrong key", Options{Keys: [][]byte{aesKey(9)}}, keep},
		{"plaintext store reads ciphertext", Options{Plaintext: true}, keep},
		{"flipped byte", Options{Keys: [][]byte{aesKey(1)}}, func(t *testing.T, s *Store, raw []byte) (string, []byte) {
			raw[len(raw)-3] ^= 0x40
			return s.valueKey("k"), raw
		}},
		{"truncated", Options{Keys: [][]byte{aesKey(1)}}, func(t *testing.T, s *Store, raw []byte) (string, []byte) {
			return s.valueKey("k"), raw[:gcmHeaderLen+3]
		}},
		{"header only", Options{Keys: [][]byte{aesKey(1)}}, func(t *testing.T, s *Store, raw []byte) (string, []byte) {
			return s.valueKey("k"), raw[:2]
		}},
		{"empty", Options{Keys: [][]byte{aesKey(1)}}, func(t *testing.T, s *Store, raw []byte) (string, []byte) {
			return s.valueKey("k"), nil
		}},
		{"garbage", Options{Keys: [][]byte{aesKey(1)}}, func(t *testing.T, s *Store, raw []byte) (string, []byte) {
			return s.valueKey("k"), []byte("not a token")
		}},
		{"unknown version", Options{Keys: [][]byte{aesKey(1)}}, func(t *testing.T, s *Store, raw []byte) (string, []byte) {
			raw[0] = 0x7f
			return s.valueKey("k"), raw
		}},
		{"copied to another key", Options{Keys: [][]byte{aesKey(1)}}, func(t *testing.T, s *Store, raw []byte) (string, []byte) {
			return s.valueKey("k"), mustGet(t, s, "other")
		}},
		{"plaintext value in an encrypting store", Options{Keys: [][]byte{aesKey(1)}}, func(t *testing.T, s *Store, raw []byte) (string, []byte) {
			return s.valueKey("k"), (&codec{}).seal(s.valueKey("k"), []byte(secretToken), exp)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			prefix := uniquePrefix(t)
			writer := newStore(t, client, Options{Prefix: prefix, Keys: [][]byte{aesKey(1)}})
			require.NoError(t, writer.Set(ctx, "k", cache.Entry{Value: []byte(secretToken), Expiry: exp}))
			require.NoError(t, writer.Set(ctx, "other", cache.Entry{Value: []byte("other token"), Expiry: exp}))
			key, value := tc.tamper(t, writer, mustGet(t, writer, "k"))
			require.NoError(t, client.Set(ctx, key, value, time.Hour).Err())

			var logs logbuf.Buffer
			tc.reader.Prefix, tc.reader.Logger = prefix, debugLogger(&logs)
			reader := newStore(t, client, tc.reader)
			_, err := reader.Get(ctx, "k")
			require.ErrorIs(t, err, cache.ErrNotFound)
			assert.True(t, reader.Status().Healthy, "an unreadable value is not an outage")
			assert.Contains(t, logs.String(), "unreadable")
			assert.NotContains(t, logs.String(), "secret-access-token")
		})
	}
}

func keep(t *testing.T, s *Store, raw []byte) (string, []byte) { return s.valueKey("k"), raw }

func mustGet(t *testing.T, s *Store, key string) []byte {
	t.Helper()
	raw, err := s.client.Get(context.Background(), s.valueKey(key)).Bytes()
	require.NoError(t, err)
	return raw
}

func TestNewValidates(t *testing.T) {
	client := sharedClient(t)
	short := []byte("0123456789abcdef") // 16 bytes: AES-128, refused
	cases := []struct {
		name string
		opts Options
		want string
	}{
		{"neither keys nor plaintext", Options{}, "Options.Plaintext"},
		{"both keys and plaintext", Options{Keys: [][]byte{aesKey(1)}, Plaintext: true}, "both set"},
		{"short key", Options{Keys: [][]byte{aesKey(1), short}}, "key 1 is 16 bytes, want 32"},
		{"negative timeout", Options{Plaintext: true, OpTimeout: -1}, "OpTimeout"},
		{"negative cooldown", Options{Plaintext: true, Cooldown: -1}, "Cooldown"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(client, tc.opts)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), string(short))
		})
	}
	_, err := New(nil, Options{Plaintext: true})
	require.Error(t, err)
}

func TestPrintingRedacts(t *testing.T) {
	client := sharedClient(t)
	key := []byte("0123456789abcdef0123456789ABCDEF")
	opts := Options{Keys: [][]byte{key}}
	s := newStore(t, client, opts)
	cfg := Config{Password: redact.NewSecret("hunter2-redis-pw"), EncryptionKeys: []redact.Secret{redact.NewSecret("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlBQkNERUY=")}}
	var logs logbuf.Buffer
	debugLogger(&logs).Info("config", "redis", cfg, "opts", opts)
	for _, format := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{opts, &opts, s, cfg, &cfg} {
			out := sprintf(format, v) + logs.String()
			assert.NotContains(t, out, "0123456789")
			assert.NotContains(t, out, "MDEyMzQ1")
			assert.NotContains(t, out, "hunter2")
			assert.NotContains(t, out, "48 49 50") // %v of the key bytes
		}
	}
	assert.True(t, strings.Contains(sprintf("%v", cfg), "[redacted]"))
}
