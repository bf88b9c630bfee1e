package backends

import (
	"context"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tokenwire/tokenwire/rest"
)

func TestRegistryUnknownNameListsKnown(t *testing.T) {
	var r Registry
	_, err := r.REST("crm")
	assert.ErrorIs(t, err, ErrUnknownConnection)
	assert.Contains(t, err.Error(), "no connections are defined")

	for _, name := range []string{"crm", "billing"} {
		c, err := rest.NewConn(name, rest.ConnConfig{BaseURL: "https://" + name + ".example.com"}, nil)
		require.NoError(t, err)
		r.put(c.Name(), &entry{kind: kindREST, rest: c})
	}
	_, err = r.REST("erp")
	assert.ErrorIs(t, err, ErrUnknownConnection)
	assert.EqualError(t, err, `backends: unknown connection "erp" (known: billing, crm)`)
	r.remove("crm")
	assert.Equal(t, []string{"billing"}, r.Names())
}

// TestRegistryReplaceWhileCalling replaces a connection while 50
// goroutines call through it: every call succeeds, on the old or the new
// backend, and calls after the swap reach the new one.
func TestRegistryReplaceWhileCalling(t *testing.T) {
	var oldHits, newHits atomic.Int32
	release := make(chan struct{})
	oldSrv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		oldHits.Add(1)
		<-release // in flight while the connection is replaced
		_, _ = io.WriteString(w, "old")
	})
	newSrv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		newHits.Add(1)
		_, _ = io.WriteString(w, "new")
	})
	mk := func(url string) *rest.Conn {
		c, err := rest.NewConn("crm", rest.ConnConfig{BaseURL: url}, rest.Bearer("t"), rest.AllowInsecureHTTP())
		require.NoError(t, err)
		return c
	}
	var r Registry
	r.put("crm", &entry{kind: kindREST, rest: mk(oldSrv.URL)})

	const callers = 50
	var started, wg sync.WaitGroup
	started.Add(callers)
	bodies := make(chan string, 2*callers)
	call := func() {
		c, err := r.REST("crm")
		if !assert.NoError(t, err) {
			return
		}
		resp, err := c.Get(context.Background(), "x")
		if assert.NoError(t, err) {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			bodies <- string(b)
		}
	}
	for range callers {
		wg.Go(func() {
			started.Done()
			call()
		})
	}
	started.Wait()
	r.put("crm", &entry{kind: kindREST, rest: mk(newSrv.URL)}) // replace while calls are in flight
	for range callers {
		wg.Go(call)
	}
	close(release)
	wg.Wait()
	close(bodies)
	n := 0
	for b := range bodies {
		assert.Contains(t, []string{"old", "new"}, b)
		n++
	}
	assert.Equal(t, 2*callers, n, "no call dropped")
	assert.Equal(t, int32(2*callers), oldHits.Load()+newHits.Load())
	assert.GreaterOrEqual(t, newHits.Load(), int32(callers), "calls after the swap use the new connection")
}
