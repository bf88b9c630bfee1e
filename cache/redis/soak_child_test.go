package redis_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokenwire/tokenwire/cache"
	"github.com/tokenwire/tokenwire/cache/redis"
	"github.com/tokenwire/tokenwire/oauthclient"
)

// The child process of the soak (soak_test.go): the test binary run again
// with -test.run=^TestSoakChild$ and the environment below. It is one
// replica of a service: one Redis store, one token source per definition,
// soakCallers goroutines calling each source until its standard input
// closes. It writes soakEvents, one JSON object a line, to file
// descriptor 3.

// The environment of a child.
const (
	envSoakIndex    = redis.SoakChildEnv // the child's number; its presence makes TestSoakChild run
	envSoakRedis    = "TOKENWIRE_SOAK_REDIS"
	envSoakTokenURL = "TOKENWIRE_SOAK_TOKEN_URL"
	envSoakPrefix   = "TOKENWIRE_SOAK_PREFIX"
)

// soakCallers call each source of a child; soakPace is the pause between
// one caller's calls.
const (
	soakCallers = 2
	soakPace    = 5 * time.Millisecond
)

// soakEvent is a line a child writes.
type soakEvent struct {
	// "ready", "token" (a source serves a new token), "request" (a token
	// request sent), "fail", "down" (the store's breaker opened: a Redis
	// operation failed or timed out), "up" (Redis answered again),
	// "overrun" (a lock was held past its TTL, from At to End), "end"
	Kind  string `json:"k"`
	At    int64  `json:"t"`           // UnixNano
	End   int64  `json:"u,omitempty"` // UnixNano, of "overrun"
	Def   int    `json:"d,omitempty"` // the definition
	Token string `json:"f,omitempty"` // a fingerprint of the token, never the token
	Err   string `json:"e,omitempty"`
	// Of "end":
	Calls    int64 `json:"calls,omitempty"`
	Failed   int64 `json:"failed,omitempty"`
	MaxWait  int64 `json:"max_wait,omitempty"`  // ns, the first call included (cold start)
	WarmWait int64 `json:"warm_wait,omitempty"` // ns, once the caller had had a token
	// The store's Status: failed Redis operations, those the fallback
	// served, and the last failure.
	StoreFailures  int64  `json:"store_failures,omitempty"`
	StoreFallbacks int64  `json:"store_fallbacks,omitempty"`
	StoreLastError string `json:"store_last_error,omitempty"`
}

func soakClientID(def int) string { return "soak-" + strconv.Itoa(def) }

const soakSecret = "soak-secret"

func soakDefinition(tokenURL string, def int) oauthclient.Config {
	return oauthclient.Config{Name: "def-" + strconv.Itoa(def), TokenURL: tokenURL, ClientID: soakClientID(def),
		ClientSecret: oauthclient.NewSecret(soakSecret), Scopes: []string{"read"}}
}

func TestSoakChild(t *testing.T) {
	if os.Getenv(envSoakIndex) == "" {
		return // not a child: TestSoak runs the soak
	}
	events := os.NewFile(3, "events")
	if err := runSoakChild(events, os.Stdin); err != nil {
		t.Fatal(err)
	}
}

// runSoakChild runs one replica: it builds its store and sources, says it
// is ready, waits for a byte from control (so that every child calls from
// the same moment: a real cold start), and calls until control ends.
func runSoakChild(out io.Writer, control io.Reader) error {
	var mu sync.Mutex
	enc := json.NewEncoder(out)
	emit := func(e soakEvent) {
		mu.Lock()
		defer mu.Unlock()
		_ = enc.Encode(e)
	}
	cfg := redis.Config{Addr: os.Getenv(envSoakRedis), Prefix: os.Getenv(envSoakPrefix),
		EncryptionKeys: []oauthclient.Secret{oauthclient.NewSecret(testKeyB64)}, OpTimeout: soakOpTimeout()} // library defaults otherwise: Cooldown 5s
	opened, err := cfg.Open(context.Background(), cache.Env{Logger: slog.New(breakerEvents{emit})})
	if err != nil {
		return err
	}
	store := &lockWatch{Store: opened.(*redis.Store), emit: emit, defOf: map[string]int{}}
	defer store.Close()
	for def := range soakDefinitions {
		store.defOf[oauthclient.CacheKey(soakDefinition(os.Getenv(envSoakTokenURL), def))] = def
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := make(chan struct{})
	go func() {
		var b [1]byte
		if n, _ := control.Read(b[:]); n == 1 {
			close(start)
			_, _ = io.Copy(io.Discard, control)
		}
		cancel()
	}()
	var calls, failed atomic.Int64
	var maxWait, warmWait atomic.Int64
	var wg sync.WaitGroup
	for def := range soakDefinitions {
		hc := &http.Client{Transport: requestCounter{def: def, emit: emit}}
		src, err := oauthclient.NewSource(soakDefinition(os.Getenv(envSoakTokenURL), def), oauthclient.Options{
			Store: store, HTTPClient: hc, AllowInsecureHTTP: true, LockTTL: soakLockTTL})
		if err != nil {
			return err
		}
		defer src.Close()
		var last atomic.Pointer[string]
		for range soakCallers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				select {
				case <-start:
				case <-ctx.Done():
					return
				}
				tick := time.NewTicker(soakPace)
				defer tick.Stop()
				warm := false
				for ctx.Err() == nil {
					callCtx, callCancel := context.WithTimeout(ctx, soakCallTimeout)
					begin := time.Now()
					tok, err := src.TokenContext(callCtx)
					wait := time.Since(begin)
					callCancel()
					if ctx.Err() != nil {
						return // stopped during the call: not a failure
					}
					calls.Add(1)
					storeMax(&maxWait, int64(wait))
					if warm {
						storeMax(&warmWait, int64(wait))
					}
					if err != nil {
						failed.Add(1)
						emit(soakEvent{Kind: "fail", At: time.Now().UnixNano(), Def: def, Err: err.Error()})
					} else {
						warm = true
						f := fingerprint(tok.AccessToken())
						if p := last.Load(); p == nil || *p != f {
							last.Store(&f)
							emit(soakEvent{Kind: "token", At: time.Now().UnixNano(), Def: def, Token: f})
						}
					}
					select {
					case <-ctx.Done():
					case <-tick.C:
					}
				}
			}()
		}
	}
	emit(soakEvent{Kind: "ready", At: time.Now().UnixNano()})
	wg.Wait()
	st := store.Status()
	emit(soakEvent{Kind: "end", At: time.Now().UnixNano(), Calls: calls.Load(), Failed: failed.Load(),
		MaxWait: maxWait.Load(), WarmWait: warmWait.Load(),
		StoreFailures: st.Failures, StoreFallbacks: st.Fallbacks, StoreLastError: st.LastError})
	return nil
}

// soakOpTimeout is the library's default, 200ms, without the race
// detector. With it (go test -race, as in CI), the first commands of ten
// processes starting at once on CI's two CPUs take longer than that: each
// replica's breaker would open at the cold start and the fleet would
// share nothing for a cool-down. The soak is about faults, not a starved
// CPU, so it then gives each operation a second.
func soakOpTimeout() time.Duration {
	if soakRace {
		return time.Second
	}
	return redis.DefaultOpTimeout
}

func storeMax(v *atomic.Int64, n int64) {
	for {
		cur := v.Load()
		if n <= cur || v.CompareAndSwap(cur, n) {
			return
		}
	}
}

// fingerprint names a token in events without showing it.
func fingerprint(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:6])
}

// requestCounter reports every token request a source sends.
type requestCounter struct {
	def  int
	emit func(soakEvent)
}

func (c requestCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	c.emit(soakEvent{Kind: "request", At: time.Now().UnixNano(), Def: c.def})
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, fmt.Errorf("soak child: %w", err)
	}
	return resp, nil
}

// breakerEvents turns the store's log into "down" and "up" events: when
// its breaker opened (a Redis operation failed or timed out, which a
// starved CPU causes as surely as a stopped Redis) and when Redis
// answered again. The soak does not count what a replica does on its own
// then as a failure to share.
type breakerEvents struct{ emit func(soakEvent) }

func (h breakerEvents) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (h breakerEvents) Handle(_ context.Context, r slog.Record) error {
	switch {
	case strings.Contains(r.Message, "using the local fallback cache"):
		h.emit(soakEvent{Kind: "down", At: r.Time.UnixNano()})
	case strings.Contains(r.Message, "reachable again"):
		h.emit(soakEvent{Kind: "up", At: r.Time.UnixNano()})
	}
	return nil
}

func (h breakerEvents) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h breakerEvents) WithGroup(string) slog.Handler      { return h }

// lockWatch is the child's store, which reports a fleet lock held past
// its TTL: another replica may then have taken the lock and fetched too,
// as the lock's design allows. A holder that overran is a process the
// scheduler starved, not a failure to share.
type lockWatch struct {
	*redis.Store
	emit  func(soakEvent)
	defOf map[string]int // by store key
}

func (w *lockWatch) TryLock(ctx context.Context, key string, ttl time.Duration) (func(context.Context) error, bool, error) {
	unlock, ok, err := w.Store.TryLock(ctx, key, ttl)
	if !ok || err != nil {
		return unlock, ok, err
	}
	at := time.Now()
	return func(ctx context.Context) error {
		if end := time.Now(); end.Sub(at) > ttl {
			w.emit(soakEvent{Kind: "overrun", At: at.UnixNano(), End: end.UnixNano(), Def: w.defOf[key]})
		}
		return unlock(ctx)
	}, true, nil
}
