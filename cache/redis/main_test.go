package redis

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/internal/redistest"
	"github.com/tokenwire/tokenwire/internal/suites"
)

// testServer is the redis-server shared by the package's tests (each test
// uses its own prefix); nil when redis-server is not installed.
var testServer *redistest.Server

// soakChildEnv is set in the environment of the soak's child processes
// (soak_child_test.go), which need no shared server.
const soakChildEnv = "TOKENWIRE_SOAK_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(soakChildEnv) != "" {
		os.Exit(m.Run())
	}
	srv, err := redistest.New()
	if err != nil && !errors.Is(err, redistest.ErrNotInstalled) {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	testServer = srv
	code := m.Run()
	if srv != nil {
		_ = srv.Close()
	}
	os.Exit(code)
}

// sharedClient returns a client of the shared server, or skips the test.
func sharedClient(tb testing.TB) *goredis.Client {
	tb.Helper()
	if testServer == nil {
		suites.Redis.Require(tb) // skips, or fails under CI
		tb.Fatal("redis-server is on PATH, but the shared server did not start")
	}
	return newClient(tb, testServer.Addr())
}

func newClient(tb testing.TB, addr string) *goredis.Client {
	tb.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: addr, ContextTimeoutEnabled: true})
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

var prefixSeq atomic.Int64

// uniquePrefix keeps the keys of each test (and each store set) apart on
// the shared server.
func uniquePrefix(tb testing.TB) string {
	name := strings.NewReplacer("{", "", "}", "", " ", "_").Replace(tb.Name())
	return fmt.Sprintf("tw-test:%d:%s:", prefixSeq.Add(1), name)
}

// testOpTimeout replaces DefaultOpTimeout in tests that are not about
// timeouts: the race detector on a busy machine can make a cold client's
// first command (dial and handshake) slower than 200ms.
const testOpTimeout = 5 * time.Second

// newStore builds a store, with a unique prefix unless opts has one and
// testOpTimeout unless opts sets OpTimeout.
func newStore(tb testing.TB, client goredis.UniversalClient, opts Options) *Store {
	tb.Helper()
	if opts.Prefix == "" {
		opts.Prefix = uniquePrefix(tb)
	}
	if opts.OpTimeout == 0 {
		opts.OpTimeout = testOpTimeout
	}
	s, err := New(client, opts)
	require.NoError(tb, err)
	return s
}

// aesKey returns a deterministic 32-byte key for tests.
func aesKey(b byte) []byte { return bytes.Repeat([]byte{b}, KeySize) }

// clock is a settable clock for tests.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Now().UnixNano())
	return c
}

func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// debugLogger logs everything, down to debug, to w.
func debugLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func sprintf(format string, v any) string { return fmt.Sprintf(format, v) }
