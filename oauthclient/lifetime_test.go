package oauthclient_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/oauthclient"
)

// longLived hands out tokens valid for 30 days, as some servers do: a
// dropped source that kept its timers would hold them (and its token) that
// long.
func longLived() oauthclient.Fetcher {
	return oauthclient.FetcherFunc(func(context.Context) (*oauthclient.Token, error) {
		now := time.Now()
		return oauthclient.NewToken("tok-"+fmt.Sprint(now.UnixNano()), "Bearer", now, now.Add(30*24*time.Hour)), nil
	})
}

// heap is the live heap after a full collection.
func heap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// Defining and removing a definition many times leaves memory flat: a
// removed source releases its two timers and its token at once.
func TestDefineRemoveCyclesKeepMemoryFlat(t *testing.T) {
	reg := oauthclient.NewRegistry(oauthclient.Options{})
	t.Cleanup(func() { _ = reg.Close() })
	cycle := func(n int) {
		for i := range n {
			src := oauthclient.NewSourceFrom(fmt.Sprintf("def-%d", i%7), longLived(), oauthclient.Options{})
			require.NoError(t, reg.Add(src))
			_, err := src.TokenContext(context.Background()) // arms the two timers
			require.NoError(t, err)
			reg.Remove(src.Name())
		}
	}
	cycle(2000) // warm up: pools, maps, the registry's map
	before := heap()
	cycle(20000)
	after := heap()
	growth := int64(after) - int64(before)
	// Kept timers would hold ≥ 20000 × (2 timers + token + header) ≈ 10 MB.
	assert.Less(t, growth, int64(2<<20), "heap grew by %d bytes over 20000 define/remove cycles", growth)
}

// A replaced definition's source is released — its token dropped, its
// timers stopped — but whoever still holds it keeps working; a removed one
// is closed: it no longer serves.
func TestRemovedAndReplacedSources(t *testing.T) {
	reg := oauthclient.NewRegistry(oauthclient.Options{})
	var fetches atomic.Int32
	counting := oauthclient.FetcherFunc(func(ctx context.Context) (*oauthclient.Token, error) {
		fetches.Add(1)
		return longLived().Fetch(ctx)
	})
	first := oauthclient.NewSourceFrom("crm", counting, oauthclient.Options{})
	require.NoError(t, reg.Add(first))
	tok1, err := first.TokenContext(context.Background())
	require.NoError(t, err)

	second := oauthclient.NewSourceFrom("crm", longLived(), oauthclient.Options{})
	require.NoError(t, reg.Add(second))
	tok2, err := first.TokenContext(context.Background())
	require.NoError(t, err, "a client still holding the replaced source keeps working")
	assert.NotSame(t, tok1, tok2, "its token was dropped at the replacement")
	assert.Equal(t, int32(2), fetches.Load())

	got, err := reg.Source("crm")
	require.NoError(t, err)
	assert.Same(t, second, got)
	_, err = second.TokenContext(context.Background())
	require.NoError(t, err)

	reg.Remove("crm")
	_, err = second.TokenContext(context.Background())
	assert.ErrorIs(t, err, oauthclient.ErrClosed)
	_, err = reg.Source("crm")
	assert.ErrorIs(t, err, oauthclient.ErrUnknownDefinition)

	third := oauthclient.NewSourceFrom("erp", longLived(), oauthclient.Options{})
	require.NoError(t, reg.Add(third))
	require.NoError(t, reg.Close())
	_, err = third.TokenContext(context.Background())
	assert.ErrorIs(t, err, oauthclient.ErrClosed, "closing the registry closes its sources")
	late := oauthclient.NewSourceFrom("late", longLived(), oauthclient.Options{})
	assert.ErrorIs(t, reg.Add(late), oauthclient.ErrClosed)
	_, err = late.TokenContext(context.Background())
	assert.ErrorIs(t, err, oauthclient.ErrClosed, "a source refused by a closed registry is closed too")
	assert.Empty(t, reg.Names())
}

// A fetch in flight when the source closes is discarded: the callers that
// waited get ErrClosed and no timer is armed.
func TestCloseDuringAFetch(t *testing.T) {
	release := make(chan struct{})
	started := make(chan struct{})
	src := oauthclient.NewSourceFrom("slow", oauthclient.FetcherFunc(func(ctx context.Context) (*oauthclient.Token, error) {
		close(started)
		<-release
		now := time.Now()
		return oauthclient.NewToken("late-token", "Bearer", now, now.Add(time.Hour)), nil
	}), oauthclient.Options{})
	var wg sync.WaitGroup
	errs := make([]error, 16)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = src.TokenContext(context.Background())
		}()
	}
	<-started
	src.Close()
	close(release)
	wg.Wait()
	for _, err := range errs {
		if !errors.Is(err, oauthclient.ErrClosed) {
			t.Fatalf("a waiter got %v, want ErrClosed", err)
		}
	}
	_, err := src.TokenContext(context.Background())
	assert.ErrorIs(t, err, oauthclient.ErrClosed)
}

// A Fetcher that panics, or returns neither a token nor an error, fails
// the fetch with an error; the process goes on.
func TestMisbehavingFetcher(t *testing.T) {
	for name, f := range map[string]oauthclient.FetcherFunc{
		"panics":     func(context.Context) (*oauthclient.Token, error) { panic("vendor SDK bug") },
		"nil, nil":   func(context.Context) (*oauthclient.Token, error) { return nil, nil },
		"nil struct": func(context.Context) (*oauthclient.Token, error) { var m map[string]int; m["x"]++; return nil, nil },
	} {
		t.Run(name, func(t *testing.T) {
			src := oauthclient.NewSourceFrom("vendor", f, oauthclient.Options{})
			_, err := src.TokenContext(context.Background())
			require.Error(t, err)
			assert.ErrorContains(t, err, `security definition "vendor"`)
		})
	}
}
