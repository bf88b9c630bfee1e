package redis

import (
	"context"
	"testing"
	"time"

	"github.com/tokenwire/tokenwire/cache"
)

// benchStores are the stores compared: Redis encrypted and in clear, and
// the in-memory store as the peer.
func benchStores(b *testing.B) map[string]cache.Store {
	client := sharedClient(b)
	return map[string]cache.Store{
		"redis-aes256gcm": newStore(b, client, Options{Keys: [][]byte{aesKey(1)}}),
		"redis-plaintext": newStore(b, client, Options{Plaintext: true}),
		"memory":          cache.NewMemory(0),
	}
}

var benchEntry = cache.Entry{Value: make([]byte, 1200), Expiry: time.Now().Add(24 * time.Hour)}

func BenchmarkGet(b *testing.B) {
	ctx := context.Background()
	for _, name := range []string{"redis-aes256gcm", "redis-plaintext", "memory"} {
		s := benchStores(b)[name]
		if err := s.Set(ctx, "k", benchEntry); err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Get(ctx, "k"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkSet(b *testing.B) {
	ctx := context.Background()
	for _, name := range []string{"redis-aes256gcm", "redis-plaintext", "memory"} {
		s := benchStores(b)[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := s.Set(ctx, "k", benchEntry); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
