package backends

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReloadCallInFlightFinishes removes a connection and its OAuth
// definition while a call through it waits at a slow backend: the call
// completes, lookups no longer find the connection.
func TestReloadCallInFlightFinishes(t *testing.T) {
	arrived, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	f := newReloadFixture(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/erp") {
			once.Do(func() { close(arrived) })
			<-release
		}
	})
	held, err := f.reg.REST("erp")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- drainBody(held.Get(context.Background(), "x")) }()
	waitFor(t, arrived, "the call did not reach the backend")

	rep := f.reload(t, edit(t, "  b-oauth: {type: oauth2, token_url: '${TOKEN_URL}', client_id: b, client_secret: '${B_SECRET}'}\n", "",
		"  erp: {base_url: '${URL}/erp', security: b-oauth}\n", ""))
	assert.Equal(t, []string{"erp"}, rep.Connections.Removed)
	_, err = f.reg.REST("erp")
	assert.ErrorIs(t, err, ErrUnknownConnection)
	f.get(t, "crm")

	close(release)
	select {
	case err := <-done:
		assert.NoError(t, err, "the call in flight finished")
	case <-time.After(10 * time.Second):
		t.Fatal("the call in flight never finished")
	}
}

func waitFor(t *testing.T, ch <-chan struct{}, why string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal(why)
	}
}

// TestReloadConcurrentWithCalls: two goroutines reload back and forth
// between two files while twenty call through looked-up connections,
// under -race. Every call succeeds, lookups see one configuration or the
// other, every report is one of the two differences (reloads do not
// interleave), and the unchanged definition never fetches again.
func TestReloadConcurrentWithCalls(t *testing.T) {
	f := newReloadFixture(t, nil)
	other := edit(t, "security: a-oauth}", "security: a-oauth, headers: {X-Version: b}}") +
		"fhir:\n  extra: {base_url: '${URL}/billing', security: key}\n"
	cfgs := []*Config{f.parse(t, reloadBase), f.parse(t, other)}
	f.get(t, "crm")

	ctx, stop := context.WithCancel(context.Background())
	var callers, reloaders sync.WaitGroup
	for range 20 {
		callers.Go(func() {
			for ctx.Err() == nil {
				c, err := f.reg.REST("crm")
				if !assert.NoError(t, err) || !assert.NoError(t, drainBody(c.Get(context.Background(), "x"))) {
					return
				}
				if c, err := f.reg.REST("extra"); err == nil {
					assert.NoError(t, drainBody(c.Get(context.Background(), "x")))
				} else {
					assert.ErrorIs(t, err, ErrUnknownConnection)
				}
			}
		})
	}
	for i := range 2 {
		reloaders.Go(func() {
			for j := range 20 {
				rep, err := f.reg.Reload(context.Background(), cfgs[(i+j)%2])
				if !assert.NoError(t, err) {
					return
				}
				assertOneOf(t, rep)
			}
		})
	}
	reloaders.Wait()
	stop()
	callers.Wait()
	assert.Equal(t, 1, f.as.Requests("a"), "a-oauth never changed")
}

// assertOneOf checks that rep is no change, or exactly the difference
// between the two files of TestReloadConcurrentWithCalls either way.
func assertOneOf(t *testing.T, rep ReloadReport) {
	t.Helper()
	assert.False(t, rep.Security.changed(), "the definitions never change: %s", rep)
	c := rep.Connections
	switch {
	case !c.changed():
	case len(c.Added) == 1:
		assert.Equal(t, Changes{Added: []string{"extra"}, Changed: []string{"crm"}, Unchanged: []string{"billing", "erp"}}, c)
	default:
		assert.Equal(t, Changes{Changed: []string{"crm"}, Removed: []string{"extra"}, Unchanged: []string{"billing", "erp"}}, c)
	}
}

// TestReloadAfterClose is refused.
func TestReloadAfterClose(t *testing.T) {
	f := newReloadFixture(t, nil)
	require.NoError(t, f.reg.Close())
	_, err := f.reg.Reload(context.Background(), f.parse(t, reloadBase))
	assert.ErrorIs(t, err, ErrClosed)
	var zero Registry
	_, err = zero.Reload(context.Background(), f.parse(t, reloadBase))
	assert.Error(t, err)
	assert.False(t, errors.Is(err, ErrClosed))
}
