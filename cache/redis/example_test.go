package redis_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/cache/redis"
	"github.com/tokenwire/tokenwire/oauthclient"
	"github.com/tokenwire/tokenwire/rest/backends"
)

// New wraps a client you build; the store falls back to memory when Redis
// is down. (No Output: it needs a Redis server.)
func ExampleNew() {
	key := make([]byte, redis.KeySize) // in production: from your secret store
	_, _ = rand.Read(key)
	client := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379", ContextTimeoutEnabled: true})
	defer client.Close()

	store, err := redis.New(client, redis.Options{Keys: [][]byte{key}})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	_ = store.Set(ctx, "hash-of-definition", cache.Entry{Value: []byte("token"), Expiry: time.Now().Add(time.Hour)})
	if e, err := store.Get(ctx, "hash-of-definition"); err == nil {
		fmt.Println(string(e.Value))
	}
}

// NewFromConfig builds client and store from configuration values, as
// decoded from YAML.
func ExampleNewFromConfig() {
	store, err := redis.NewFromConfig(redis.Config{
		Addrs:          []string{"redis-1:6379", "redis-2:6379", "redis-3:6379"}, // a Cluster
		Password:       oauthclient.NewSecret("resolved-from-secret-store"),
		TLS:            true,
		EncryptionKeys: []oauthclient.Secret{oauthclient.NewSecret("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlBQkNERUY=")},
		OpTimeout:      200 * time.Millisecond,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer store.Close()
	fmt.Println(store)
}

// Only one replica fetches: the others see ok == false and wait for the
// token to appear in the store.
func ExampleStore_TryLock() {
	client := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379", ContextTimeoutEnabled: true})
	defer client.Close()
	store, err := redis.New(client, redis.Options{Plaintext: true})
	if err != nil {
		return
	}
	ctx := context.Background()
	unlock, ok, err := store.TryLock(ctx, "hash-of-definition", 10*time.Second)
	if err != nil || !ok {
		return // someone else is fetching
	}
	defer unlock(ctx)
	// fetch the token, then store.Set it
}

// A configuration file names the Redis store when the program passes its
// section to the loader. Its secrets may
// be ${VAR} or file:/path, and never print; backends.Open then builds the store
// and reg.Close closes its client.
func ExampleConfig_file() {
	file := []byte(`
store:
  redis:
    addr: redis-1:6379
    password: ${REDIS_PASSWORD}
    encryption_keys: ["${TOKEN_KEY}"]
`)
	env := map[string]string{"REDIS_PASSWORD": "from-the-vault", "TOKEN_KEY": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlBQkNERUY="}
	cfg, err := backends.Parse(file, backends.WithStoreSection[redis.Config]("redis"),
		backends.WithLookupEnv(func(name string) (string, bool) { v, ok := env[name]; return v, ok }))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s %+v\n", cfg.Store.SharedName, cfg.Store.Shared)
	// Output:
	// redis &{Addrs:[] Addr:redis-1:6379 Cluster:false MasterName: SentinelUsername: SentinelPassword: Username: Password:[redacted] DB:0 TLS:false TLSCAFile: TLSServerName: Prefix: EncryptionKeys:[[redacted]] Plaintext:false OpTimeout:0s}
}
